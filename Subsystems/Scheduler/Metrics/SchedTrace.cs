using BpfSim.Core.Metrics;

namespace BpfSim.Scheduler.Metrics;

/// <summary>A stretch of time a CPU ran one task (or was idle: <see cref="Task"/> = −1).</summary>
/// <param name="Class">The class the task ran in: 0 fair, 1 ext.</param>
public readonly record struct TimelineSegment(int Cpu, long StartNs, long EndNs, int Task, byte Class);

/// <summary>One sample of the machine: per-CPU busy fraction since the last sample and runqueue length.</summary>
public readonly record struct CpuSample(long TimeNs, int Cpu, double Busy, int Runnable);

/// <summary>
/// The run's trace for outputs: per-CPU segments (who ran when, up to the scenario's timeline limit, and the later
/// ones in an overview at a fixed resolution), sampled CPU
/// series, each task's wait times (for distributions), and the tasks' names by id.
/// </summary>
public sealed class SchedTrace
{
    /// <summary>
    /// The outputs' detail window: this long after the first scheduler's start its segments are drawn one by one, and
    /// kept for it even past the timeline limit.
    /// </summary>
    public const long DetailWindowNs = 50_000_000;

    public required IReadOnlyList<TimelineSegment> Timeline { get; init; }
    /// <summary>Segments not kept once the limit was reached.</summary>
    public long TimelineDropped { get; init; }
    /// <summary>The whole run at a fixed resolution, with the segments not kept (null when no timeline was asked for).</summary>
    public TimelineOverview? Overview { get; init; }
    public required IReadOnlyList<CpuSample> Samples { get; init; }
    /// <summary>Per task id: pid, comm and the group name.</summary>
    public required IReadOnlyList<(int Pid, string Comm, string Group)> TaskNames { get; init; }
    /// <summary>Per task group (fixed groups' tasks and arrival groups' jobs): wait times in ns, for distributions.</summary>
    public required IReadOnlyDictionary<string, long[]> WaitsByGroup { get; init; }
    /// <summary>
    /// Per fixed task group: all of its tasks' waits in one histogram (exact count, mean and maximum, the percentiles of
    /// its buckets), from which a group's line is computed as a task's is.
    /// </summary>
    public IReadOnlyDictionary<string, LogLinearHistogram> WaitHistogramsByGroup { get; init; } = new Dictionary<string, LogLinearHistogram>();
    /// <summary>struct_ops events (register, enable, ejection, unregister) as (time ns, text), in order.</summary>
    public required IReadOnlyList<(long TimeNs, string Text)> Markers { get; init; }
    /// <summary>Per CPU, the spans it was offline (CPU hotplug), as (cpu, from ns, to ns).</summary>
    public IReadOnlyList<(int Cpu, long FromNs, long ToNs)> OfflineSpans { get; init; } = [];
}
