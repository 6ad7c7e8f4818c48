using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// scx_ops_enable_workfn, scx_ops_init_task / enable_task / disable_task / exit_task, the fork hooks,
// switching_to/switched_from, task_should_scx, scx_ops_bypass (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    private SchedExtOps? _ops;
    private StructOpsMap? _map;
    private ScxEnableState _enableState = ScxEnableState.Disabled;
    private bool _opsEnabled;
    private bool _switchingAll;
    private bool _switchedAll;
    private bool _initTaskEnabled;
    private int _bypassDepth;
    private int _guardOrdinal;
    private readonly List<ConsumerGuard> _guards = [];
    private Core.Bpf.BpfSystem? _bpf;

    /// <summary>The BpfSystem of the loaded scheduler's struct_ops map (null for a table enabled directly).</summary>
    public Core.Bpf.BpfSystem? Bpf => _bpf;

    /// <summary>
    /// Calls that earlier attempts of a contained run never returned from, by guard ordinal: the guard created with
    /// that ordinal refuses that call (see <see cref="ConsumerGuard.AbandonAt"/>), which makes it an error exit.
    /// </summary>
    public IDictionary<int, (long Call, string Message)> AbandonedCalls { get; } = new Dictionary<int, (long, string)>();

    /// <summary>The guard of every scheduler enabled so far, in order; safe to read from another thread (a watchdog's).</summary>
    public IReadOnlyList<ConsumerGuard> Guards
    {
        get
        {
            lock (_guards)
            {
                return _guards.ToArray();
            }
        }
    }

    /// <summary>Raised when a consumer's guard records a fault (an exception in a C# scheduler).</summary>
    public event Action<ConsumerGuard>? ConsumerFaulted;

    /// <summary>scx_ops_enable (bpf_scx_reg): EBUSY while a scheduler is loaded; failures after arming return 0 and exit.</summary>
    public BpfResult EnableScheduler(SchedExtOps ops, StructOpsMap? map = null)
    {
        if (_enableState != ScxEnableState.Disabled)
        {
            return BpfResult.Fail(Errno.EBUSY, $"a BPF scheduler ({_ops?.Name}) is already loaded: one at a time");
        }
        EnsureTasks(_core.Tasks.Count);
        // Arm the disable path: from here on every failure is an error exit and reg returns 0.
        _ops = ops;
        _map = map;
        _bpf = map?.System;
        _guard = null;
        if (map is not null)
        {
            _guard = new ConsumerGuard(_guardOrdinal++, ops.Name, map, _core.Simulator, SchedExtOpsType.MemberNames);
            if (AbandonedCalls.TryGetValue(_guard.Ordinal, out var abandoned))
            {
                _guard.AbandonAt(abandoned.Call, abandoned.Message);
            }
            _guard.Faulted += OnGuardFaulted;
            lock (_guards)
            {
                _guards.Add(_guard);
            }
        }
        _enableState = ScxEnableState.Enabling;
        _exitKind = ScxExitKind.None;
        _exitCode = 0;
        _exitMessage = "";
        _exitDump = "";
        _warnedZeroSlice = false;
        _current = new SchedulerRecord(ops.Name, _core.Simulator.Now.TotalSeconds);
        _schedulers.Add(_current);
        Mark($"sched_ext: BPF scheduler \"{ops.Name}\" enabling");
        _builtinIdle = ops.UpdateIdle is null || (ops.Flags & ScxOpsFlags.KeepBuiltinIdle) != 0;
        if (_builtinIdle)
        {
            ResetIdleMasks();
        }
        if (ops.Init is not null)
        {
            int ret = CallInit();
            if (ret != 0)
            {
                ret = SanitizeErr("init", ret);
                ErrorExit(ScxExitKind.Error, 0, $"ops.init() failed ({ret})");
                return EnableFailed(ret);
            }
        }
        CheckHotplugSeq(ops);
        if ((ops.Flags & ScxOpsFlags.EnqLast) != 0 && ops.Enqueue is null)
        {
            ErrorExit(ScxExitKind.Error, 0, "SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented");
            return EnableFailed(-22);
        }
        uint batch = ops.DispatchMaxBatch != 0 ? ops.DispatchMaxBatch : ScxConsts.DspDflMaxBatch;
        // scx_ops_enable_workfn allocates the dispatch buffer with __alloc_percpu; pcpu_alloc (mm/percpu.c) warns and
        // returns NULL above PCPU_MIN_UNIT_SIZE, and the enable fails with -ENOMEM through err_disable.
        long bytes = ScxConsts.DspCtxBytes(batch);
        if (bytes > ScxConsts.PcpuMinUnitSize)
        {
            Mark($"percpu: illegal size ({bytes}) or align (8) for percpu allocation");
            return EnableFailed(-12);
        }
        _dspMaxBatch = (int)batch;
        _dspTask = new int[_dspMaxBatch];
        _dspQseq = new ulong[_dspMaxBatch];
        _dspDsq = new ulong[_dspMaxBatch];
        _dspFlags = new ulong[_dspMaxBatch];
        _dspCursor = 0;
        _watchdogTimeout = ops.TimeoutMs != 0
            ? Jiffies.MsecsToJiffies(ops.TimeoutMs, (uint)_core.Hz)
            : ScxConsts.WatchdogMaxTimeoutMs * (ulong)_core.Hz / 1000;
        _watchdogTimestamp = _core.Jiffies;
        ArmWatchdog();
        Bypass(true);
        _cpuPreempt = ops.CpuAcquire is not null || ops.CpuRelease is not null;
        _initTaskEnabled = true;
        var tasks = _core.Tasks;
        for (int id = 0; id < tasks.Count; id++)
        {
            ref var p = ref tasks[id];
            if (!IsListed(p))
            {
                continue;
            }
            int ret = InitTask(ref p, fork: false);
            if (ret != 0)
            {
                ErrorExit(ScxExitKind.Error, 0, $"ops.init_task() failed ({ret}) for {p.CommString}[{p.Pid}]");
                Bypass(false);
                return EnableFailed(ret);
            }
            SetTaskScxState(ref tasks[id], ScxTaskFlags.StateReady);
        }
        _switchingAll = (ops.Flags & ScxOpsFlags.SwitchPartial) == 0;
        _opsEnabled = true;
        // Fully committed: switch every eligible task into ext with a fresh slice.
        for (int id = 0; id < tasks.Count; id++)
        {
            ref var p = ref tasks[id];
            if (!IsListed(p) || !TaskShouldScx(p) || OnExt(p))
            {
                continue;
            }
            p.Scx.Slice = ScxConsts.SliceDfl;
            _core.SwitchClass(ref p, this);
        }
        Bypass(false);
        if (_exitKind != ScxExitKind.None)
        {
            // An error during the switch: the disable work is already queued.
            return BpfResult.Ok;
        }
        _enableState = ScxEnableState.Enabled;
        _switchedAll = _switchingAll;
        Mark($"sched_ext: BPF scheduler \"{ops.Name}\" enabled{(_switchedAll ? "" : " (partial)")}");
        return BpfResult.Ok;
    }

    /// <summary>err_disable: the error is already recorded; the disable work reports it and reg returns 0.</summary>
    private BpfResult EnableFailed(int ret)
    {
        ErrorExit(ScxExitKind.Error, 0, $"scx_ops_enable() failed ({ret})");
        // kthread_flush_work(&scx_ops_disable_work): the exit is complete when reg returns.
        DisableWork();
        return BpfResult.Ok;
    }

    /// <summary>ops_sanitize_err: a value that is not −errno becomes −EPROTO with an error.</summary>
    private int SanitizeErr(string op, int err)
    {
        if (err < 0 && err >= -4095)
        {
            return err;
        }
        ErrorExit(ScxExitKind.Error, 0, $"ops.{op}() returned an invalid errno {err}");
        return -71;
    }

    private void OnGuardFaulted(ConsumerGuard guard)
    {
        var fault = guard.Fault!;
        ErrorExit(ScxExitKind.Error, 0, $"ops.{fault.Member}() failed: {fault.Message}");
        ConsumerFaulted?.Invoke(guard);
    }

    /// <summary>Whether the task is on scx_tasks: between fork and free, and not the idle task.</summary>
    private bool IsListed(in TaskStruct p) =>
        !_freed[p.Id] && (p.Flags & (uint)TaskFlags.Idle) == 0 && p.State != (uint)TaskState.Dead;

    /// <summary>task_should_scx: every fair-policy task while switching all, else only SCHED_EXT ones; none while disabling.</summary>
    public bool TaskShouldScx(in TaskStruct p)
    {
        if (!_opsEnabled || _enableState == ScxEnableState.Disabling)
        {
            return false;
        }
        return _switchingAll || p.Policy == (uint)SchedPolicy.Ext;
    }

    /// <summary>scx_ops_init_task.</summary>
    private int InitTask(ref TaskStruct p, bool fork)
    {
        EnsureTasks(p.Id + 1);
        if (!_entityInit[p.Id])
        {
            InitEntity(ref p);
        }
        p.Scx.Disallow = 0;
        if (_ops!.InitTask is not null)
        {
            int ret = CallInitTask(ref p, fork);
            if (ret != 0)
            {
                return SanitizeErr("init_task", ret);
            }
        }
        SetTaskScxState(ref p, ScxTaskFlags.StateInit);
        if (p.Scx.Disallow != 0)
        {
            if (!fork)
            {
                if (p.Policy == (uint)SchedPolicy.Ext)
                {
                    p.Policy = (uint)SchedPolicy.Normal;
                    Rejected++;
                }
            }
            else if (p.Policy == (uint)SchedPolicy.Ext)
            {
                ErrorExit(ScxExitKind.Error, 0, $"ops.init_task() set task->scx.disallow for {p.CommString}[{p.Pid}] during fork");
            }
        }
        p.Scx.Flags |= ScxTaskFlags.ResetRunnableAt;
        return 0;
    }

    /// <summary>scx_nr_rejected: tasks init_task disallowed from SCX at load.</summary>
    public long Rejected { get; private set; }

    /// <summary>scx_ops_enable_task: the weight is set before ops.enable, then ops.set_weight.</summary>
    private void EnableTask(ref TaskStruct p)
    {
        p.Scx.Weight = WeightOf(p);
        if (_ops!.Enable is { } enable)
        {
            CallTask(MEnable, enable, p.Cpu, ref p);
        }
        SetTaskScxState(ref p, ScxTaskFlags.StateEnabled);
        if (_ops.SetWeight is not null)
        {
            CallSetWeight(p.Cpu, ref p, p.Scx.Weight);
        }
    }

    /// <summary>scx_ops_disable_task.</summary>
    private void DisableTask(ref TaskStruct p)
    {
        ClearDirectDispatch(ref p);
        if (_ops!.Disable is { } disable)
        {
            CallTask(MDisable, disable, p.Cpu, ref p);
        }
        SetTaskScxState(ref p, ScxTaskFlags.StateReady);
    }

    /// <summary>scx_ops_exit_task.</summary>
    private void ExitTask(ref TaskStruct p)
    {
        bool cancelled = false;
        switch (TaskScxState(p))
        {
            case ScxTaskFlags.StateNone:
                return;
            case ScxTaskFlags.StateInit:
                cancelled = true;
                break;
            case ScxTaskFlags.StateEnabled:
                DisableTask(ref p);
                break;
        }
        if (_ops!.ExitTask is not null)
        {
            CallExitTask(p.Cpu, ref p, cancelled);
        }
        SetTaskScxState(ref p, ScxTaskFlags.StateNone);
    }

    /// <summary>scx_fork: ops.init_task for a new task while a scheduler is loaded.</summary>
    public int Fork(ref TaskStruct p)
    {
        InitEntity(ref p);
        return _initTaskEnabled ? InitTask(ref p, fork: true) : 0;
    }

    /// <summary>scx_post_fork: READY, and enabled at once if the task is in ext.</summary>
    public void PostFork(ref TaskStruct p)
    {
        EnsureTasks(p.Id + 1);
        if (_initTaskEnabled && TaskScxState(p) == ScxTaskFlags.StateInit)
        {
            SetTaskScxState(ref p, ScxTaskFlags.StateReady);
            if (OnExt(p))
            {
                EnableTask(ref p);
            }
        }
    }

    /// <summary>sched_ext_free.</summary>
    public void TaskFree(ref TaskStruct p)
    {
        EnsureTasks(p.Id + 1);
        _freed[p.Id] = true;
        if (TaskScxState(p) != ScxTaskFlags.StateNone && _ops is not null)
        {
            ExitTask(ref p);
        }
    }

    /// <inheritdoc/>
    public override void SwitchingTo(ref TaskStruct p)
    {
        EnsureTasks(p.Id + 1);
        EnableTask(ref p);
        if (_ops!.SetCpumask is not null)
        {
            CallSetCpumask(p.Cpu, ref p);
        }
    }

    /// <inheritdoc/>
    public override void SwitchedFrom(int cpu, ref TaskStruct p)
    {
        if (_ops is not null && TaskScxState(p) == ScxTaskFlags.StateEnabled)
        {
            DisableTask(ref p);
        }
    }

    /// <summary>
    /// scx_ops_bypass: while bypassing, enqueues go to the global DSQ and ops.dispatch is not called; entering or
    /// leaving it re-enqueues every runnable task (last first, as list_for_each_entry_safe_reverse) so each goes
    /// through the path now in force, and reschedules every CPU.
    /// </summary>
    private void Bypass(bool on)
    {
        _bypassDepth += on ? 1 : -1;
        if (_bypassDepth != (on ? 1 : 0) || !_opsEnabled)
        {
            return;
        }
        for (int cpu = 0; cpu < _core.NrCpus; cpu++)
        {
            // Collect first: re-enqueueing appends to the same list.
            int n = 0;
            for (int t = _runHead[cpu]; t >= 0; t = _runNext[t])
            {
                n++;
            }
            if (n > 0)
            {
                var ids = new int[n];
                int i = 0;
                for (int t = _runHead[cpu]; t >= 0; t = _runNext[t])
                {
                    ids[i++] = t;
                }
                for (i = n - 1; i >= 0; i--)
                {
                    ref var p = ref Task(ids[i]);
                    if (OnExt(p))
                    {
                        RequeueTask(cpu, ref p);
                    }
                }
            }
            _core.ReschedCurr(cpu);
        }
    }

    /// <summary>
    /// sched_deq_and_put_task + sched_enq_and_set_task within ext: dequeue (SAVE|MOVE) and put a running task, then
    /// enqueue (RESTORE|MOVE) and set it next again, so the task goes through the enqueue path now in force.
    /// </summary>
    private void RequeueTask(int cpu, ref TaskStruct p)
    {
        bool running = _core.Current(cpu) == p.Id;
        if (p.OnRq != 0)
        {
            DequeueTask(cpu, ref p, DequeueFlags.Save | DequeueFlags.Move | DequeueFlags.NoClock);
        }
        if (running)
        {
            PutPrevTask(cpu, ref p, -1);
        }
        if (p.OnRq != 0)
        {
            EnqueueTask(cpu, ref p, EnqueueFlags.Restore | EnqueueFlags.Move | EnqueueFlags.NoClock);
        }
        if (running)
        {
            SetNextTask(cpu, ref p, false);
        }
    }
}
