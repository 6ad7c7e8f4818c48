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

    /// <summary>
    /// min_vruntime: the kernel's is the smallest vruntime of the entity's rbtree subtree, which depends on a tree
    /// bpfsim does not have (its timeline is in blocks, Fair/CfsTimeline.cs); bpfsim keeps the entity's own vruntime.
    /// </summary>
    public ulong MinVruntime;

    /// <summary>vlag: the lag kept across sleeps (place_entity).</summary>
    public long Vlag;

    /// <summary>slice: the request size (sysctl_sched_base_slice, 0.70 ms × (1 + ilog2(min(CPUs, 8))) in this tree, unless custom).</summary>
    public ulong Slice;

    /// <summary>
    /// sched_delayed: DELAY_DEQUEUE kept the (sleeping) entity queued until it is eligible; the task is still on_rq.
    /// The core must wake such a task with ENQUEUE_DELAYED (ttwu_runnable) and dequeue it with DEQUEUE_DELAYED before a
    /// class change, as core.c does.
    /// </summary>
    public byte SchedDelayed;

    /// <summary>rel_deadline: <see cref="Deadline"/> holds deadline − vruntime across a non-sleep dequeue (PLACE_REL_DEADLINE).</summary>
    public byte RelDeadline;

    /// <summary>custom_slice: <see cref="Slice"/> was set by sched_setattr and is not reset to the base slice.</summary>
    public byte CustomSlice;
}
