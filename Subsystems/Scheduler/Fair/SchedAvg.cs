using System.Runtime.InteropServices;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// struct sched_avg (include/linux/sched.h, 6.12): PELT's load, runnable and utilization signals of a task or of a
/// CPU's cfs_rq. The sums are geometric series over 1024 µs periods (y^32 = 1/2); the averages are the sums divided by
/// their maximum (<see cref="Pelt.Divider"/>). <see cref="LastUpdateTime"/> is in PELT-clock ns; 0 on a task means
/// "not attached to a cfs_rq" (new, or just migrated).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedAvg
{
    public ulong LastUpdateTime;
    public ulong LoadSum;
    public ulong RunnableSum;
    public uint UtilSum;
    public uint PeriodContrib;
    public ulong LoadAvg;
    public ulong RunnableAvg;
    public ulong UtilAvg;

    /// <summary>util_est: a task's estimated utilization (EWMA of util_avg at dequeue, with <see cref="Pelt.UtilAvgUnchanged"/>), or a cfs_rq's sum over its enqueued tasks.</summary>
    public uint UtilEst;
}
