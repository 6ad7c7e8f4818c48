using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// The core scheduler (kernel/sched/core.c, 6.12): per-CPU runqueue state, the classes in the kernel's order
/// (fair, ext, idle), __schedule, the tick, wake-ups, forks and exits, context switches and migrations. Everything
/// runs on one <see cref="Core.Simulation.Simulator"/> through one registered handler with (kind, cpu) events and
/// two timers per CPU (the tick and the end of the current task's CPU burst); per-CPU and per-task state live in
/// arrays, so a scheduling event allocates nothing.
/// </summary>
public sealed partial class SchedKernel : ISchedCore, IEventHandler
{
    /// <summary>Class index of fair_sched_class (the order of <see cref="SchedClass"/>es: lower is higher priority).</summary>
    public const byte FairClass = 0;

    /// <summary>Class index of ext_sched_class.</summary>
    public const byte ExtClass = 1;

    /// <summary>Class index of idle_sched_class.</summary>
    public const byte IdleClass = 2;

    /// <summary>Remaining work meaning "never done" (a CPU-bound task).</summary>
    public const long InfiniteWork = long.MaxValue;

    private const int KindResched = 0;
    private const int KindTick = 1;
    private const int KindBurst = 2;
    private const int KindRemoteTick = 3;

    private readonly HandlerId _handler;
    private readonly SchedClass[] _classes;
    private readonly long _tickNs;

    // Per-CPU runqueue state (struct rq).
    private readonly int[] _curr;
    private readonly bool[] _needResched;
    private readonly int[] _nrRunning;
    private readonly long[] _accountedAt;
    private readonly bool[] _tickOn;
    private readonly TimerId[] _tickTimer;
    private readonly TimerId[] _burstTimer;

    // The CPUs whose _curr is −1, kept with it (ContextSwitch is its one writer): fair's idle-CPU scan skips when none is.
    private Cpumask _noCurrent;

    // Per-task state the core keeps beside task_struct (grown at fork), one 16-byte record per task so an event
    // touches one line of it, not one per array.
    private struct CoreTask
    {
        public long WorkLeft;
        public byte Class;
        public bool MovePending;
    }

    private CoreTask[] _pt = new CoreTask[64];

    private ISchedExtHooks? _ext;
    private int _thisCpu;
    private int _burstCpu = -1;
    private int _nextPid = 1000;

    /// <param name="simulator">The simulator to run on (its clock is rq_clock).</param>
    /// <param name="topology">The CPUs.</param>
    /// <param name="hz">CONFIG_HZ: ticks per second.</param>
    /// <param name="fair">fair_sched_class (the default class of SCHED_NORMAL tasks).</param>
    /// <param name="timelineLimit">Per-CPU timeline segments kept by <see cref="Metrics"/>.</param>
    public SchedKernel(Simulator simulator, CpuTopology topology, int hz, SchedClass fair, int timelineLimit = 0)
        : this(simulator, topology, hz, _ => fair, timelineLimit)
    {
    }

    /// <param name="simulator">The simulator to run on (its clock is rq_clock).</param>
    /// <param name="topology">The CPUs.</param>
    /// <param name="hz">CONFIG_HZ: ticks per second.</param>
    /// <param name="createFair">Creates fair_sched_class for this kernel (a class that needs the core to exist).</param>
    /// <param name="timelineLimit">Per-CPU timeline segments kept by <see cref="Metrics"/>.</param>
    public SchedKernel(Simulator simulator, CpuTopology topology, int hz, Func<ISchedCore, SchedClass> createFair, int timelineLimit = 0)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(createFair);
        if (hz is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(hz), hz, "HZ must be 1 … 10000");
        }
        Simulator = simulator;
        Topology = topology;
        Hz = hz;
        _tickNs = 1_000_000_000L / hz;
        Tasks = new TaskTable();
        Idle = new IdleSchedClass();
        _classes = [Idle, Idle, Idle];
        int n = topology.Count;
        _curr = new int[n];
        Array.Fill(_curr, -1);
        _noCurrent = Cpumask.FirstN(n);
        _needResched = new bool[n];
        _nrRunning = new int[n];
        _accountedAt = new long[n];
        _tickOn = new bool[n];
        _tickTimer = new TimerId[n];
        _burstTimer = new TimerId[n];
        _handler = simulator.Register(this);
        for (int cpu = 0; cpu < n; cpu++)
        {
            _tickTimer[cpu] = simulator.CreateTimer(_handler, KindTick);
            _burstTimer[cpu] = simulator.CreateTimer(_handler, KindBurst);
        }
        Metrics = new SchedMetrics(n, timelineLimit);
        _classes[FairClass] = createFair(this) ?? throw new ArgumentException("no fair class was created", nameof(createFair));
    }

    public Simulator Simulator { get; }

    public long NowNs => Simulator.Now.Nanoseconds;

    public int Hz { get; }

    /// <summary>TICK_NSEC.</summary>
    public long TickNs => _tickNs;

    public ulong Jiffies => (ulong)JiffiesAt(NowNs);

    /// <summary>
    /// The jiffy <paramref name="ns"/> falls in. Read on every tick and by sched_ext's enqueue: the usual HZ get a
    /// division by a constant (a multiply), where a division by the run's TICK_NSEC is a 64-bit divide.
    /// </summary>
    private long JiffiesAt(long ns) => Hz switch
    {
        1000 => ns / 1_000_000,
        250 => ns / 4_000_000,
        100 => ns / 10_000_000,
        _ => ns / _tickNs,
    };

    public int NrCpus => Topology.Count;

    public CpuTopology Topology { get; }

    public TaskTable Tasks { get; }

    public int ThisCpu => _thisCpu;

    /// <summary>The fair class this kernel was built with.</summary>
    public SchedClass Fair => _classes[FairClass];

    /// <summary>idle_sched_class.</summary>
    public IdleSchedClass Idle { get; }

    /// <summary>The sched_ext hooks, once <see cref="AttachExt"/> registered them.</summary>
    public ISchedExtHooks? Ext => _ext;

    /// <summary>What the tasks do when their work is done (set before forking tasks with finite work).</summary>
    public ITaskWorkDriver? Driver { get; set; }

    /// <summary>Counters, wait histograms and the timeline.</summary>
    public SchedMetrics Metrics { get; }

    /// <summary>Context switches, wake-ups, ticks and migrations so far.</summary>
    public long SchedEvents => Metrics.Switches + Metrics.Wakeups + Metrics.Ticks + Metrics.Migrations;

    /// <summary>Registers sched_ext: its class goes between fair and idle (CONFIG_SCHED_CLASS_EXT).</summary>
    public void AttachExt(ISchedExtHooks ext)
    {
        ArgumentNullException.ThrowIfNull(ext);
        if (_ext != null)
        {
            throw new InvalidOperationException("sched_ext is already attached to this kernel");
        }
        _ext = ext;
        _classes[ExtClass] = ext.Class;
    }

    public int Current(int cpu) => _curr[cpu];

    /// <inheritdoc/>
    public Cpumask CpusWithoutCurrent => _noCurrent;

    public int NrRunning(int cpu) => _nrRunning[cpu];

    /// <inheritdoc/>
    public bool RdOverloaded { get; set; }

    public bool NeedResched(int cpu) => _needResched[cpu];

    public SchedClass ClassOf(in TaskStruct p) => _classes[_pt[p.Id].Class];

    /// <summary>The index of <paramref name="task"/>'s class: <see cref="FairClass"/> or <see cref="ExtClass"/>.</summary>
    public byte ClassIndexOf(int task) => _pt[task].Class;

    /// <summary>The CPU work <paramref name="task"/> has left, in ns, as of the last accounting (<see cref="InfiniteWork"/>: never done).</summary>
    public long WorkLeft(int task) => _pt[task].WorkLeft;

    /// <summary>Whether the tick of <paramref name="cpu"/> is running (false: idle or stopped, NO_HZ).</summary>
    public bool TickRunning(int cpu) => _tickOn[cpu];

    private bool ExtEnabled => _ext is { Enabled: true };

    /// <summary>for_each_active_class: fair is skipped when ext has switched all tasks, ext when it is not enabled.</summary>
    private bool ClassActive(int c) => c switch
    {
        FairClass => _ext is not { Enabled: true, SwitchedAll: true },
        ExtClass => ExtEnabled,
        _ => true,
    };

    public void OnEvent(int kind, long arg)
    {
        int cpu = (int)arg;
        _thisCpu = cpu;
        switch (kind)
        {
            case KindResched:
                if (_needResched[cpu])
                {
                    Schedule(cpu, preempt: true);
                }
                break;
            case KindTick:
                Tick(cpu);
                break;
            case KindRemoteTick:
                RemoteTick(cpu);
                break;
            default:
                BurstEnd(cpu);
                break;
        }
    }

    /// <summary>Accounts every current task's runtime and work up to now (the counters are otherwise brought up to date at ticks and switches).</summary>
    public void UpdateAccounting()
    {
        for (int cpu = 0; cpu < NrCpus; cpu++)
        {
            UpdateCurrCore(cpu);
        }
    }

    /// <summary>Accounts every current task up to now and closes the timeline (the end of a run).</summary>
    public void Finish()
    {
        UpdateAccounting();
        FinishHotplug();
        Metrics.Finish(NowNs);
    }

    /// <summary>
    /// The core's part of update_curr: the current task of <paramref name="cpu"/> ran since the last accounting;
    /// its sum_exec_runtime and remaining work move by that (the classes keep their own se/scx accounting).
    /// </summary>
    private void UpdateCurrCore(int cpu)
    {
        long now = NowNs;
        long delta = now - _accountedAt[cpu];
        _accountedAt[cpu] = now;
        int curr = _curr[cpu];
        if (curr < 0 || delta <= 0)
        {
            return;
        }
        Metrics.Ran(curr, cpu, delta);
        if (_pt[curr].WorkLeft != InfiniteWork)
        {
            _pt[curr].WorkLeft = Math.Max(0, _pt[curr].WorkLeft - delta);
        }
    }

    private void GrowTaskArrays(int id)
    {
        if (id < _pt.Length)
        {
            return;
        }
        int n = Math.Max(id + 1, _pt.Length * 2);
        Array.Resize(ref _pt, n);
    }
}
