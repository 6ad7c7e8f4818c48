namespace BpfSim.Scheduler.Fair;

/// <summary>
/// The sched_feat() switches of kernel/sched/features.h that the fair class reads, with the defaults of this tree
/// (6.12). Tests turn one off to pin what it does; a scenario sets them by their features.h names (its
/// <c>sched_features</c>), as /sys/kernel/debug/sched/features does.
/// </summary>
public sealed record FairFeatures
{
    /// <summary>The defaults of features.h.</summary>
    public static FairFeatures Default { get; } = new();

    /// <summary>Each switch by its features.h name, in features.h's order: how to read it and how to set it.</summary>
    public static IReadOnlyList<(string Name, Func<FairFeatures, bool> Get, Func<FairFeatures, bool, FairFeatures> With)> Switches { get; } =
    [
        ("PLACE_LAG", f => f.PlaceLag, (f, on) => f with { PlaceLag = on }),
        ("PLACE_DEADLINE_INITIAL", f => f.PlaceDeadlineInitial, (f, on) => f with { PlaceDeadlineInitial = on }),
        ("PLACE_REL_DEADLINE", f => f.PlaceRelDeadline, (f, on) => f with { PlaceRelDeadline = on }),
        ("RUN_TO_PARITY", f => f.RunToParity, (f, on) => f with { RunToParity = on }),
        ("PREEMPT_SHORT", f => f.PreemptShort, (f, on) => f with { PreemptShort = on }),
        ("DELAY_DEQUEUE", f => f.DelayDequeue, (f, on) => f with { DelayDequeue = on }),
        ("DELAY_ZERO", f => f.DelayZero, (f, on) => f with { DelayZero = on }),
        ("WAKEUP_PREEMPTION", f => f.WakeupPreemption, (f, on) => f with { WakeupPreemption = on }),
        ("UTIL_EST", f => f.UtilEst, (f, on) => f with { UtilEst = on }),
        ("NI_RANDOM", f => f.NiRandom, (f, on) => f with { NiRandom = on }),
    ];

    /// <summary>
    /// The switches that differ from the defaults, as the kernel's features file writes them: NAME when on, NO_NAME
    /// when off; empty for the defaults.
    /// </summary>
    public IReadOnlyList<string> Changed() =>
        [.. Switches.Where(s => s.Get(this) != s.Get(Default)).Select(s => s.Get(this) ? s.Name : "NO_" + s.Name)];

    /// <summary>PLACE_LAG: a waking entity keeps the lag it had when it went to sleep.</summary>
    public bool PlaceLag { get; init; } = true;

    /// <summary>PLACE_DEADLINE_INITIAL: a new task starts with half a slice to its deadline.</summary>
    public bool PlaceDeadlineInitial { get; init; } = true;

    /// <summary>PLACE_REL_DEADLINE: a non-sleep dequeue (migration, attribute change) keeps the relative deadline.</summary>
    public bool PlaceRelDeadline { get; init; } = true;

    /// <summary>RUN_TO_PARITY: an eligible current task runs until its deadline once picked.</summary>
    public bool RunToParity { get; init; } = true;

    /// <summary>PREEMPT_SHORT: a waking task with a shorter slice may cancel the current task's protection.</summary>
    public bool PreemptShort { get; init; } = true;

    /// <summary>DELAY_DEQUEUE: a sleeping entity with negative lag stays queued until it is eligible.</summary>
    public bool DelayDequeue { get; init; } = true;

    /// <summary>DELAY_ZERO: a delayed entity that is dequeued or requeued with positive lag gets lag 0.</summary>
    public bool DelayZero { get; init; } = true;

    /// <summary>WAKEUP_PREEMPTION: a waking task may preempt the current one.</summary>
    public bool WakeupPreemption { get; init; } = true;

    /// <summary>UTIL_EST: a CPU's utilization is at least the estimates of its enqueued tasks (PELT's util_est).</summary>
    public bool UtilEst { get; init; } = true;

    /// <summary>
    /// NI_RANDOM: a newidle balance runs each domain with a probability that follows how often it pulled there
    /// (sched_balance_newidle's dice, in this tree since 6.12.y's backport).
    /// </summary>
    public bool NiRandom { get; init; } = true;
}
