using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Scheduler.Ext;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// sched_ext in a run: the ext class attached to the kernel (CONFIG_SCHED_CLASS_EXT), <c>sched_ext_ops</c> bound to
/// it in the run's BpfSystem so <c>structops:</c> entries load and link schedulers, and a scheduler's exit handled as
/// its loader would: the loader sees UEI_EXITED and destroys its link.
/// </summary>
public sealed partial class SchedScenarioRunner
{
    private ExtSchedClass _ext = null!;

    /// <summary>The sched_ext class of the run's kernel.</summary>
    public ExtSchedClass Ext => _ext;

    /// <exception cref="InvalidOperationException">The system already has a sched_ext_ops type (bound to another kernel).</exception>
    private void AttachExt(BpfSystem bpf)
    {
        _ext = new ExtSchedClass(Kernel, Kernel.Fair);
        Kernel.AttachExt(_ext);
        var existing = bpf.FindStructOpsType(SchedExtOpsType.TypeName);
        if (existing is not null)
        {
            throw new InvalidOperationException(
                "the BpfSystem already has a sched_ext_ops type; the runner binds sched_ext_ops to the kernel it builds, so the system must come without one");
        }
        bpf.RegisterStructOpsType(new SchedExtOpsType(_ext));
        // A C# scheduler's exception: the ext class has already made it an error exit; the run lists the fault.
        _ext.ConsumerFaulted += guard => _faults.Add(guard.Fault!);
        // After an exit the loader destroys its link, after the code that disabled the scheduler has returned
        // (SCX_EXIT_UNREG: the link was detached already; that is what disabled it).
        _ext.SchedulerExited += (info, map) =>
        {
            if (map is not null && info.Kind != ScxExitKind.Unreg)
            {
                bpf.Simulator.Schedule(bpf.Simulator.Now, () => DetachExited(map));
            }
        };
    }

    private void DetachExited(StructOpsMap map)
    {
        if (_actions.LoaderOf(map) is not { } loaded || (loaded.Map.IsLinkMode ? loaded.LinkFd < 0 : map.State != StructOpsState.InUse))
        {
            return;
        }
        _actions.MarkEjected(loaded);
        var r = loaded.Unregister();
        if (!r.IsOk)
        {
            _notes.Add($"t={_bpf.Simulator.Now}: detaching {loaded.Name} after its exit: {r.Reason}");
        }
    }

    private IReadOnlyList<SchedulerResult> Schedulers => _ext.Schedulers;

    private IReadOnlyList<EjectionResult> Ejections => _ext.Ejections;
}
