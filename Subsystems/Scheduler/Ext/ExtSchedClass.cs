using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// ext_sched_class and the rest of kernel/sched/ext.c (6.12): the sched_ext core that runs a BPF scheduler
/// (<see cref="SchedExtOps"/>) on the simulated CPUs — DSQs, the enqueue/dispatch protocol with ops_state and qseq,
/// direct dispatch, the balance/dispatch loop, built-in idle tracking, slices, kicks, the enable and disable paths,
/// error exits and the watchdog. The core (<c>SchedKernel</c>) calls it as a <see cref="SchedClass"/> and through
/// <see cref="ISchedExtHooks"/>; the BPF scheduler calls back through <see cref="Kfuncs"/> (C#: <see cref="Scx"/>).
/// </summary>
/// <remarks>
/// The kernel's per-CPU state (rq->scx) lives in arrays indexed by CPU, the per-task state in the task's
/// <see cref="SchedExtEntity"/> and in arrays indexed by task id; nothing is allocated per scheduling event. The
/// asynchronous parts of the kernel (irq_work for kicks and errors, the disable kthread, the deferred remote local
/// dispatches) run as events at the same simulated instant, after the code that raised them has returned.
/// </remarks>
public sealed partial class ExtSchedClass : SchedClass, ISchedExtHooks, IEventHandler
{
    private const int EvKick = 1;
    private const int EvDisable = 2;
    private const int EvWatchdog = 3;
    private const int EvDeferred = 4;
    private const int EvKickSelf = 5;

    private readonly ISchedCore _core;
    private readonly SchedClass _fair;
    private readonly DsqTable _dsqs;
    private readonly HandlerId _handler;
    private readonly TimerId _watchdogTimer;

    // rq->scx, per CPU.
    private readonly int[] _nrRunning;
    private readonly uint[] _rqFlags;
    private readonly int[] _runHead;
    private readonly int[] _runTail;
    private readonly bool[] _cpuReleased;
    private readonly byte[] _kick;
    private bool _kickQueued;
    private bool _deferredQueued;

    // Per task: the rq runnable list (p->scx.runnable_node).
    private int[] _runNext = [];
    private int[] _runPrev = [];
    private bool[] _onRunnable = [];
    private bool[] _freed = [];

    private Cpumask _idleCpu;
    private Cpumask _idleSmt;
    // distribute_cpu_mask_prev (lib/cpumask.c): per CPU, zero at boot and kept across schedulers.
    private readonly int[] _distributePrev;

    private const uint RqInBalance = 1 << 0;
    private const uint RqCanStopTick = 1 << 1;
    private const uint RqBalKeep = 1 << 2;
    private const byte KickResched = 1;
    private const byte KickPreempt = 2;
    private const byte KickIfIdle = 4;

    public ExtSchedClass(ISchedCore core, SchedClass fair)
    {
        _core = core;
        _fair = fair;
        int cpus = core.NrCpus;
        _dsqs = new DsqTable(core.Topology.NodeCount, cpus, Math.Max(core.Tasks.Count, 64));
        _nrRunning = new int[cpus];
        _rqFlags = new uint[cpus];
        _runHead = new int[cpus];
        _runTail = new int[cpus];
        _runHead.AsSpan().Fill(-1);
        _runTail.AsSpan().Fill(-1);
        _cpuReleased = new bool[cpus];
        _kick = new byte[cpus];
        _distributePrev = new int[cpus];
        _extraEnqFlags = new ulong[cpus];
        _dspTask = [];
        _dspQseq = [];
        _dspDsq = [];
        _dspFlags = [];
        _handler = core.Simulator.Register(this);
        _watchdogTimer = core.Simulator.CreateTimer(_handler, EvWatchdog);
        Kfuncs = new ScxKfuncs(this);
        EnsureTasks(core.Tasks.Count);
    }

    /// <inheritdoc/>
    public override string Name => "ext";

    /// <summary>The kfunc implementation the scheduler calls (C# through <see cref="Scx"/>, bytecode through its kfunc table).</summary>
    public ScxKfuncs Kfuncs { get; }

    /// <summary>The DSQs (for tests and the BPF side's DSQ iterator).</summary>
    public DsqTable Dsqs => _dsqs;

    /// <summary>HZ of the kernel (timeout_ms → jiffies).</summary>
    public int Hz => _core.Hz;

    internal ISchedCore Core => _core;

    SchedClass ISchedExtHooks.Class => this;

    /// <summary>The loaded scheduler, or null.</summary>
    public SchedExtOps? Ops => _ops;

    /// <summary>scx_enabled(): a scheduler is loaded (enabling, enabled or disabling).</summary>
    public bool Enabled => _opsEnabled;

    /// <summary>A scheduler is loaded, from ops.init on (ENABLING) until its disable has finished.</summary>
    public bool Loaded => _ops is not null;

    /// <summary>scx_switched_all().</summary>
    public bool SwitchedAll => _switchedAll;

    /// <summary>scx_ops_enable_state().</summary>
    public ScxEnableState EnableState => _enableState;

    /// <summary>Grows the per-task arrays to cover every task of the table (allocates only when tasks were forked).</summary>
    private void EnsureTasks(int count)
    {
        _dsqs.EnsureTasks(count);
        if (count <= _runNext.Length)
        {
            return;
        }
        int n = Math.Max(count, Math.Max(64, _runNext.Length * 2));
        Array.Resize(ref _runNext, n);
        Array.Resize(ref _runPrev, n);
        Array.Resize(ref _onRunnable, n);
        Array.Resize(ref _freed, n);
        Array.Resize(ref _runCpu, n);
        Array.Resize(ref _entityInit, n);
    }

    private ref TaskStruct Task(int id) => ref _core.Tasks[id];

    private bool OnExt(in TaskStruct p) => ReferenceEquals(_core.ClassOf(p), this);

    private int NodeOfTask(in TaskStruct p) => _core.Topology.NodeOf(p.Cpu);

    private int GlobalDsqOf(in TaskStruct p) => _dsqs.Global(NodeOfTask(p));

    internal bool Bypassing => _bypassDepth > 0;

    private static uint TaskScxState(in TaskStruct p) => (p.Scx.Flags & ScxTaskFlags.StateMask) >> ScxTaskFlags.StateShift;

    private static void SetTaskScxState(ref TaskStruct p, uint state)
    {
        p.Scx.Flags = (p.Scx.Flags & ~ScxTaskFlags.StateMask) | (state << ScxTaskFlags.StateShift);
    }

    /// <summary>set_task_runnable: appends to the rq's runnable list (the watchdog's and bypass's walk).</summary>
    private void SetTaskRunnable(int cpu, ref TaskStruct p)
    {
        if ((p.Scx.Flags & ScxTaskFlags.ResetRunnableAt) != 0)
        {
            p.Scx.RunnableAt = _core.Jiffies;
            p.Scx.Flags &= ~ScxTaskFlags.ResetRunnableAt;
        }
        int id = p.Id;
        if (_onRunnable[id])
        {
            return;
        }
        _runPrev[id] = _runTail[cpu];
        _runNext[id] = -1;
        if (_runTail[cpu] >= 0)
        {
            _runNext[_runTail[cpu]] = id;
        }
        else
        {
            _runHead[cpu] = id;
        }
        _runTail[cpu] = id;
        _onRunnable[id] = true;
        _runCpu[id] = cpu;
    }

    private int[] _runCpu = [];

    /// <summary>clr_task_runnable.</summary>
    private void ClrTaskRunnable(ref TaskStruct p, bool resetRunnableAt)
    {
        int id = p.Id;
        if (_onRunnable[id])
        {
            int cpu = _runCpu[id];
            int prev = _runPrev[id], next = _runNext[id];
            if (prev >= 0)
            {
                _runNext[prev] = next;
            }
            else
            {
                _runHead[cpu] = next;
            }
            if (next >= 0)
            {
                _runPrev[next] = prev;
            }
            else
            {
                _runTail[cpu] = prev;
            }
            _onRunnable[id] = false;
        }
        if (resetRunnableAt)
        {
            p.Scx.Flags |= ScxTaskFlags.ResetRunnableAt;
        }
    }

    /// <inheritdoc/>
    public void OnEvent(int kind, long arg)
    {
        switch (kind)
        {
            case EvKick:
                ProcessKicks();
                break;
            case EvDisable:
                DisableWork();
                break;
            case EvWatchdog:
                WatchdogWork();
                break;
            case EvDeferred:
                ProcessAllDeferred();
                break;
            case EvKickSelf:
                if (_opsEnabled)
                {
                    Kfuncs.KickCpuInternal((int)arg, 0, (int)arg);
                }
                break;
        }
    }

    /// <inheritdoc/>
    public override bool HasRunnable(int cpu) => _nrRunning[cpu] > 0;
}

/// <summary>enum scx_ops_enable_state.</summary>
public enum ScxEnableState
{
    Enabling,
    Enabled,
    Disabling,
    Disabled,
}
