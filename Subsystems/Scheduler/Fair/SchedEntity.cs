using System.Runtime.InteropServices;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// struct sched_entity (include/linux/sched.h, 6.12): what the fair class (kernel/sched/fair.c, EEVDF) keeps per task.
/// Times in nanoseconds; <see cref="Weight"/> is load.weight as the kernel keeps it on 64-bit (scale_load: × 1024).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedEntity
{
    /// <summary>load.weight: sched_prio_to_weight[nice + 20] scaled by 1024 (SCHED_FIXEDPOINT_SHIFT 10).</summary>
    public ulong Weight;

    /// <summary>load.inv_weight: sched_prio_to_wmult[nice + 20].</summary>
    public uint InvWeight;

    /// <summary>on_rq: queued in the fair runqueue (including the current task).</summary>
    public int OnRq;

    public ulong ExecStart;

    public ulong SumExecRuntime;

    public ulong PrevSumExecRuntime;

    public ulong Vruntime;

    /// <summary>deadline: vruntime + the slice scaled by weight (EEVDF's virtual deadline).</summary>
    public ulong Deadline;

    /// <summary>min_vruntime of the subtree (the augmented rbtree's value).</summary>
    public ulong MinVruntime;

    /// <summary>vlag: the lag kept across sleeps (place_entity).</summary>
    public long Vlag;

    /// <summary>slice: the request size (sysctl_sched_base_slice, 0.75 ms by default, unless custom).</summary>
    public ulong Slice;
}
