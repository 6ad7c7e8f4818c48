using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// CPU hotplug in sched_ext (kernel/sched/ext.c, 6.12): scx_hotplug_seq, handle_hotplug (scx_rq_activate /
// scx_rq_deactivate), rq_online_scx / rq_offline_scx and SCX_RQ_ONLINE, scx_rq_online(), check_hotplug_seq. What an
// offline CPU means elsewhere in ext.c, and where bpfsim does it:
// - do_enqueue_task: a task enqueued on a rq that is not scx_rq_online() goes to its local DSQ without asking the BPF
//   scheduler (ExtSchedClass.Enqueue.cs);
// - dispatch to LOCAL_ON of an offline CPU (task_can_run_on_remote_rq): no error, the task goes to the global DSQ
//   (ExtSchedClass.Balance.cs);
// - kick_one_cpu / kick_one_cpu_if_idle: an offline CPU is not kicked (ExtSchedClass.Tick.cs);
// - the idle masks are not hotplug-aware in 6.12: a CPU that went offline went idle (set_next_task_idle) and keeps
//   its bit, so scx_bpf_pick_idle_cpu and scx_select_cpu_dfl may return it; select_task_rq's is_cpu_allowed then
//   sends the task to select_fallback_rq's CPU (SchedKernel.Hotplug.cs), so an offline CPU still runs nothing.
public sealed partial class ExtSchedClass : ISchedExtHotplug
{
    private static readonly int MCpuOnline = Index("cpu_online"), MCpuOffline = Index("cpu_offline");

    private long _hotplugSeq;

    // CPUs whose rq->scx.flags lack SCX_RQ_ONLINE (all have it at boot: init_sched_ext_class).
    private Cpumask _rqNotOnline;
    private bool _anyRqNotOnline;

    /// <inheritdoc/>
    public long HotplugSeq => _hotplugSeq;

    /// <summary>scx_rq_online(): SCX_RQ_ONLINE (the BPF scheduler's view) and cpu_active().</summary>
    internal bool ScxRqOnline(int cpu) => !(_anyRqNotOnline && _rqNotOnline.Test(cpu)) && _core.CpuActive(cpu);

    /// <inheritdoc/>
    public long HandleHotplug(int cpu, bool online)
    {
        long seq = ++_hotplugSeq;
        Mark($"hotplug: cpu {cpu} {(online ? "online" : "offline")} (scx_hotplug_seq {seq})");
        var fn = _ops is null ? null : online ? _ops.CpuOnline : _ops.CpuOffline;
        if (fn is not null)
        {
            CallCpuHotplug(online ? MCpuOnline : MCpuOffline, fn, cpu);
        }
        else
        {
            // scx_ops_exit: a no-op unless a scheduler is loaded (scx_exit_kind is SCX_EXIT_DONE otherwise).
            ErrorExit(ScxExitKind.UnregKern, ScxExitCodes.ActRestart | ScxExitCodes.RsnHotplug,
                $"cpu {cpu} going {(online ? "online" : "offline")}, exiting scheduler");
        }
        return seq;
    }

    /// <summary>rq_online_scx: SCX_RQ_ONLINE is set.</summary>
    public override void RqOnline(int cpu)
    {
        _rqNotOnline.Clear(cpu);
        _anyRqNotOnline = !_rqNotOnline.IsEmpty;
    }

    /// <summary>
    /// rq_offline_scx: SCX_RQ_ONLINE is cleared; on a CPU that is really going away (not active) every task of the
    /// rq's runnable list that is not on its local DSQ is dequeued and enqueued again, which puts it there
    /// (do_enqueue_task: not scx_rq_online), so that balance_push can move it off.
    /// </summary>
    public override void RqOffline(int cpu)
    {
        _rqNotOnline.Set(cpu);
        _anyRqNotOnline = true;
        if (_core.CpuActive(cpu) || !_opsEnabled)
        {
            return;
        }
        int local = _dsqs.Local(cpu);
        // list_for_each_entry_safe_reverse: each task is re-added at the tail, so walk from the tail and stop at
        // the task that was first.
        int head = _runHead[cpu];
        for (int t = _runTail[cpu]; t >= 0;)
        {
            int prev = _runPrev[t];
            bool last = t == head;
            if (_dsqs.DsqOf(t) != local)
            {
                ref var p = ref Task(t);
                DequeueTask(cpu, ref p, DequeueFlags.Save | DequeueFlags.Move | DequeueFlags.NoClock);
                EnqueueTask(cpu, ref p, EnqueueFlags.Restore | EnqueueFlags.Move | EnqueueFlags.NoClock);
            }
            if (last)
            {
                break;
            }
            t = prev;
        }
    }

    /// <summary>
    /// check_hotplug_seq (scx_ops_enable): a scheduler that set hotplug_seq exits if a CPU went on- or offline
    /// since it read scx_hotplug_seq; the enable goes on and the exit disables it afterwards.
    /// </summary>
    private void CheckHotplugSeq(SchedExtOps ops)
    {
        if (ops.HotplugSeq != 0 && ops.HotplugSeq != (ulong)_hotplugSeq)
        {
            ErrorExit(ScxExitKind.UnregKern, ScxExitCodes.ActRestart | ScxExitCodes.RsnHotplug,
                $"expected hotplug seq {ops.HotplugSeq} did not match actual {(ulong)_hotplugSeq}");
        }
    }

    /// <summary>SCX_CALL_OP(SCX_KF_UNLOCKED, cpu_online / cpu_offline, cpu): no kfunc of a context-restricted set is allowed; the op may sleep.</summary>
    private void CallCpuHotplug(int member, CpuFn fn, int cpu)
    {
        // bpf_scx_check_member lets cpu_online/cpu_offline programs sleep (ext.c).
        if (!Enter(member, ScxKfMask.Unlocked, cpu, -1, -1, out var f, sleepable: true))
        {
            return;
        }
        try
        {
            fn(cpu);
        }
        catch (Exception e) when (Caught(member, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }
}
