using System.Text;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Scheduler.Ext;

// scx_ops_exit_kind / scx_ops_error_kind, scx_ops_disable, scx_ops_disable_workfn, scx_dump_state, scx_exit_reason
// (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    private ScxExitKind _exitKind = ScxExitKind.Done;
    private long _exitCode;
    private string _exitMessage = "";
    private string _exitDump = "";
    private int _exitCpu;
    private bool _disableQueued;
    private readonly List<string> _notes = [];
    private readonly List<SchedulerRecord> _schedulers = [];
    private readonly List<EjectionResult> _ejections = [];
    private readonly List<(long TimeNs, string Text)> _markers = [];
    private SchedulerRecord? _current;

    /// <summary>One scheduler's life in the run.</summary>
    private sealed class SchedulerRecord(string name, double enabledSeconds)
    {
        public string Name { get; } = name;
        public double EnabledSeconds { get; } = enabledSeconds;
        public double? DisabledSeconds { get; set; }
        public ScxExitInfo? Exit { get; set; }
    }

    /// <summary>Things worth telling the user that are not errors (the zero-slice warning, a throwing ops.exit).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>struct_ops and sched_ext events in time order (register, enable, exit, disable).</summary>
    public IReadOnlyList<(long TimeNs, string Text)> Markers => _markers;

    /// <summary>Error exits (kind ≥ SCX_EXIT_ERROR) in order.</summary>
    public IReadOnlyList<EjectionResult> Ejections => _ejections;

    /// <summary>The exit info of the last scheduler that was disabled, or null.</summary>
    public ScxExitInfo? LastExit { get; private set; }

    /// <summary>Every scheduler enabled so far, with when it was enabled and disabled and how it exited.</summary>
    public IReadOnlyList<SchedulerResult> Schedulers =>
        _schedulers.Select(s => new SchedulerResult(s.Name, s.EnabledSeconds, s.DisabledSeconds,
            s.Exit is null ? null : KindName(s.Exit.Kind), s.Exit?.Reason, s.Exit?.Message)).ToList();

    /// <summary>
    /// Raised when a scheduler has been disabled, with its exit info and struct_ops map. A loader reads the exit
    /// info (UEI_EXITED) and destroys its link: the runner does that here, as scx_simple's main loop does.
    /// </summary>
    public event Action<ScxExitInfo, StructOpsMap?>? SchedulerExited;

    private void Mark(string text) => _markers.Add((_core.NowNs, text));

    /// <summary>scx_exit_reason.</summary>
    public static string ExitReason(ScxExitKind kind) => kind switch
    {
        ScxExitKind.Unreg => "unregistered from user space",
        ScxExitKind.UnregBpf => "unregistered from BPF",
        ScxExitKind.UnregKern => "unregistered from the main kernel",
        ScxExitKind.Sysrq => "disabled by sysrq-S",
        ScxExitKind.Error => "runtime error",
        ScxExitKind.ErrorBpf => "scx_bpf_error",
        ScxExitKind.ErrorStall => "runnable task stall",
        _ => "<UNKNOWN>",
    };

    /// <summary>The kernel's enum name, e.g. <c>SCX_EXIT_ERROR_STALL</c>.</summary>
    public static string KindName(ScxExitKind kind) => kind switch
    {
        ScxExitKind.None => "SCX_EXIT_NONE",
        ScxExitKind.Done => "SCX_EXIT_DONE",
        ScxExitKind.Unreg => "SCX_EXIT_UNREG",
        ScxExitKind.UnregBpf => "SCX_EXIT_UNREG_BPF",
        ScxExitKind.UnregKern => "SCX_EXIT_UNREG_KERN",
        ScxExitKind.Sysrq => "SCX_EXIT_SYSRQ",
        ScxExitKind.Error => "SCX_EXIT_ERROR",
        ScxExitKind.ErrorBpf => "SCX_EXIT_ERROR_BPF",
        ScxExitKind.ErrorStall => "SCX_EXIT_ERROR_STALL",
        _ => $"{(int)kind}",
    };

    /// <summary>
    /// scx_ops_exit_kind: the first exit claims it (compare-and-exchange from NONE); its message is kept to
    /// SCX_EXIT_MSG_LEN − 1 bytes (vscnprintf), and the irq_work is queued that dumps the state of an error kind and
    /// queues the disable work: the dump runs after the failing operation has returned, outside any callback.
    /// </summary>
    public void ErrorExit(ScxExitKind kind, long exitCode, string message)
    {
        if (_exitKind != ScxExitKind.None)
        {
            return;
        }
        _exitKind = kind;
        _exitCode = exitCode;
        // irq_work_queue: the dump runs on the CPU that called scx_ops_exit_kind.
        _exitCpu = Kfuncs.ThisCpu >= 0 ? Kfuncs.ThisCpu : Math.Max(_core.ThisCpu, 0);
        _exitMessage = TruncateBytes(message, ScxConsts.ExitMsgLen - 1);
        Mark($"sched_ext: {_ops?.Name}: exit {KindName(kind)}: {_exitMessage}");
        QueueDisable();
    }

    private void QueueDisable()
    {
        if (_disableQueued)
        {
            return;
        }
        _disableQueued = true;
        _core.Simulator.Schedule(_core.Simulator.Now, _handler, EvDisable);
    }

    /// <summary>The ASCII/UTF-8 prefix of <paramref name="s"/> that fits in <paramref name="max"/> bytes.</summary>
    private static string TruncateBytes(string s, int max)
    {
        if (Encoding.UTF8.GetByteCount(s) <= max)
        {
            return s;
        }
        int n = Math.Min(s.Length, max);
        while (n > 0 && Encoding.UTF8.GetByteCount(s.AsSpan(0, n)) > max)
        {
            n--;
        }
        return s[..n];
    }

    /// <summary>bpf_scx_unreg: scx_ops_disable(SCX_EXIT_UNREG), then wait for the disable work.</summary>
    public void UnregisterScheduler(StructOpsMap? map)
    {
        if (map is not null && !ReferenceEquals(map, _map))
        {
            return;
        }
        if (_exitKind == ScxExitKind.None)
        {
            _exitKind = ScxExitKind.Unreg;
            _exitCode = 0;
            _exitMessage = "";
        }
        DisableWork();
    }

    /// <summary>
    /// scx_ops_error_irq_workfn (an error kind's dump, with no callback on the stack) followed by
    /// scx_ops_disable_workfn.
    /// </summary>
    private void DisableWork()
    {
        _disableQueued = false;
        var kind = _exitKind;
        if (kind is ScxExitKind.None or ScxExitKind.Done || _ops is null)
        {
            return;
        }
        if (kind >= ScxExitKind.Error && _exitDump.Length == 0)
        {
            _exitDump = DumpState(kind);
        }
        _exitKind = ScxExitKind.Done;
        var ops = _ops;
        Bypass(true);
        _enableState = ScxEnableState.Disabling;
        _switchedAll = false;
        _switchingAll = false;
        _initTaskEnabled = false;
        var tasks = _core.Tasks;
        EnsureTasks(tasks.Count);
        for (int id = 0; id < tasks.Count; id++)
        {
            ref var p = ref tasks[id];
            if (_freed[id] || TaskScxState(p) == ScxTaskFlags.StateNone)
            {
                continue;
            }
            if (OnExt(p))
            {
                _core.SwitchClass(ref p, _fair);
            }
            ExitTask(ref tasks[id]);
        }
        _opsEnabled = false;
        var info = new ScxExitInfo(kind, _exitCode, ExitReason(kind), _exitMessage, _exitDump);
        LastExit = info;
        Mark($"sched_ext: BPF scheduler \"{ops.Name}\" disabled ({info.Reason})");
        if (ops.Exit is not null)
        {
            CallExit(info);
        }
        _core.Simulator.Cancel(_watchdogTimer);
        CancelTimers();
        // Destroy every user DSQ (destroy_dsq from the rhashtable walk).
        while (_dsqs.UserDsqs.Count > 0)
        {
            int dsq = _dsqs.UserDsqs[0];
            DrainDsq(dsq);
            _dsqs.RemoveUser(dsq);
        }
        for (int d = 0; d < _core.Topology.NodeCount; d++)
        {
            DrainDsq(_dsqs.Global(d));
        }
        for (int cpu = 0; cpu < _core.NrCpus; cpu++)
        {
            DrainDsq(_dsqs.Local(cpu));
            DrainDsq(_dsqs.Deferred(cpu));
            _nrRunning[cpu] = 0;
            _rqFlags[cpu] = 0;
            _cpuReleased[cpu] = false;
            _kick[cpu] = 0;
        }
        _dspCursor = 0;
        _dspMaxBatch = 0;
        if (_current is not null)
        {
            _current.DisabledSeconds = _core.Simulator.Now.TotalSeconds;
            _current.Exit = info;
            if (kind >= ScxExitKind.Error)
            {
                _ejections.Add(new EjectionResult(_core.Simulator.Now.TotalSeconds, ops.Name, KindName(kind), (int)kind,
                    info.ExitCode, info.Reason, info.Message));
            }
        }
        var map = _map;
        _ops = null;
        _map = null;
        _bpf = null;
        _guard = null;
        _current = null;
        _enableState = ScxEnableState.Disabled;
        Bypass(false);
        SchedulerExited?.Invoke(info, map);
    }

    // After every task has left ext, nothing should remain queued; anything left (a leak) is dropped, not kept.
    private void DrainDsq(int dsq)
    {
        int t;
        while ((t = _dsqs.First(dsq)) >= 0)
        {
            _dsqs.Unlink(t, ref Task(t));
        }
    }

    /// <summary>scx_dump_state: the header, ops.dump, then per CPU (ops.dump_cpu) and per task (ops.dump_task).</summary>
    private string DumpState(ScxExitKind kind)
    {
        int limit = (int)(_ops?.ExitDumpLen ?? ScxConsts.ExitDumpDflLen);
        var sb = new StringBuilder();
        sb.Append($"{_ops?.Name}[{_core.Simulator.Now}] triggered exit kind {(int)kind}:\n  {ExitReason(kind)} ({_exitMessage})\n");
        _dumpBuilder = sb;
        var ctx = new ScxDumpCtx(kind, _exitCode, ExitReason(kind), (ulong)_core.NowNs, _core.Jiffies);
        if (_ops?.Dump is not null && sb.Length < limit)
        {
            sb.Append("\nBPF scheduler dump\n");
            CallDump(MDump, _exitCpu, -1, false, -1, ctx);
        }
        sb.Append("\nCPU states\n----------\n");
        for (int cpu = 0; cpu < _core.NrCpus && sb.Length < limit; cpu++)
        {
            int curr = _core.Current(cpu);
            bool idle = curr < 0;
            sb.Append($"\nCPU {cpu,-4}: nr_run={_nrRunning[cpu]} flags=0x{_rqFlags[cpu]:x} curr={(idle ? "idle" : $"{Task(curr).CommString}[{Task(curr).Pid}]")}\n");
            if (_ops?.DumpCpu is not null)
            {
                CallDump(MDumpCpu, _exitCpu, cpu, idle, -1, ctx);
            }
            for (int t = _runHead[cpu]; t >= 0 && sb.Length < limit; t = _runNext[t])
            {
                ref var p = ref Task(t);
                sb.Append($"  {p.CommString}[{p.Pid}] +{(long)(_core.Jiffies - p.Scx.RunnableAt)}j ops_state/qseq={p.Scx.OpsState & ScxOpss.StateMask}/{p.Scx.OpsState >> ScxOpss.QseqShift} dsq=0x{p.Scx.DsqId:x} slice={p.Scx.Slice} vtime={p.Scx.DsqVtime} weight={p.Scx.Weight}\n");
                if (_ops?.DumpTask is not null)
                {
                    CallDump(MDumpTask, _exitCpu, cpu, false, t, ctx);
                }
            }
        }
        _dumpBuilder = null;
        string dump = sb.ToString();
        return dump.Length > limit ? dump[..limit] : dump;
    }

    private StringBuilder? _dumpBuilder;

    /// <summary>scx_bpf_dump's effect: appends to the dump being written; false outside ops.dump and friends.</summary>
    internal bool AppendDump(string text)
    {
        if (_dumpBuilder is null)
        {
            return false;
        }
        _dumpBuilder.Append(text);
        return true;
    }

    private readonly List<ScxTimer> _timers = [];

    internal ScxTimer CreateTimer(Action callback)
    {
        var t = new ScxTimer(this, callback);
        _timers.Add(t);
        return t;
    }

    /// <summary>A timer callback: kfuncs reachable, on its pinned CPU; an exception is an error exit.</summary>
    internal void RunTimer(Action callback, int cpu)
    {
        var k = Kfuncs;
        var saved = (k.KfMask, k.InSleepable, k.ThisCpu, Scx.Current);
        k.KfMask = ScxKfMask.Unlocked;
        k.InSleepable = false; // a BPF timer callback is not a sleepable program
        k.ThisCpu = cpu;
        Scx.Current = k;
        try
        {
            callback();
        }
        catch (Exception e)
        {
            ErrorExit(ScxExitKind.Error, 0, $"BPF timer callback threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            (k.KfMask, k.InSleepable, k.ThisCpu, Scx.Current) = saved;
        }
    }

    private void CancelTimers()
    {
        foreach (var t in _timers)
        {
            t.Cancel();
        }
        _timers.Clear();
    }
}
