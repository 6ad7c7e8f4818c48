namespace BpfSim.Scheduler.Fair;

// CPU hotplug in the fair class (kernel/sched/fair.c, 6.12): rq_online_fair and rq_offline_fair call
// update_sysctl, which rescales sysctl_sched_base_slice by 1 + ilog2(min(num_online_cpus(), 8)). Both run while
// the CPU counts as online (rq_offline before takedown clears it, rq_online after bringup set it), so offlining
// does not shrink the slice until the next hotplug event recomputes it — as in the kernel. An inactive CPU is out of
// every sched domain: FairSchedClass.Select.cs never counts it idle nor picks it, and the balancer never pulls to it
// (it never schedules).
public sealed partial class FairSchedClass
{
    /// <inheritdoc/>
    public override void RqOnline(int cpu) => UpdateSysctl();

    /// <inheritdoc/>
    public override void RqOffline(int cpu) => UpdateSysctl();

    private void UpdateSysctl() => _baseSlice = FairMath.BaseSliceNs(_core.NumOnlineCpus);
}
