using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// What a scheduler run will cost, from the scenario alone (the TCP counterpart is <see cref="WorkEstimate"/>):
/// tasks, scheduling events, memory and wall time. <c>run</c> refuses a scenario whose memory estimate is over the
/// budget; <c>validate</c> prints it.
/// </summary>
/// <remarks>
/// Events: every CPU's tick (hz per second), a context switch per CPU per millisecond while it has more than one task
/// to run (the finest slice the fair class gives, erring high), and per wake-up, periodic release, job and rt-app event
/// about <see cref="EventsPerWakeup"/> (wake-up, enqueue, switch in, switch out). Sleep/wake tasks asking for more CPU
/// time than the CPUs have (with the hogs, periodic tasks and jobs beside them) wake up less often than their run and
/// sleep times say: each waits its turn, so their wake-ups are scaled down to what the CPUs can run. Memory: per task, per wait time kept
/// for the distributions (8 bytes each), per timeline segment kept and per sample.
/// </remarks>
public sealed record SchedWorkEstimate(double Tasks, double Events, double Samples, double MemoryBytes, double WallSeconds) : IRunEstimate
{
    public const double BytesBase = 64 << 20;
    // Measured: 3.9–4.4 KB per task at 1,000–40,000 tasks (task_struct, the classes' and metrics' records, a window of
    // 16-bit wait counts, its summary row), 7–8 KB while the counts were 32-bit; erring high.
    public const double BytesPerTask = 5_000;
    public const double BytesPerWait = 8;
    public const double BytesPerSegment = 32;
    public const double BytesPerSample = 24;
    public const double EventsPerWakeup = 4;
    public const double EventsPerWallSecond = 1e6;

    public bool Fits => MemoryBytes <= WorkEstimate.BudgetBytes;

    public static SchedWorkEstimate For(SchedScenarioSpec spec)
    {
        double duration = spec.Duration.TotalSeconds;
        int cpus = spec.Cpus.Count;
        double tasks = 0, wakeups = 0, busy = 0, sleepWakeups = 0, demand = 0;
        foreach (var g in spec.Tasks)
        {
            double end = Math.Min((g.Stop ?? spec.Duration).TotalSeconds, duration);
            double active = Math.Max(0, end - g.Start.TotalSeconds);
            double n = g.Arrivals == TaskArrivalKind.Poisson ? g.Rate * active : g.Count;
            tasks += n;
            var b = g.Behavior;
            double perTask = b.Kind switch
            {
                // At least a nanosecond a cycle or period: the simulation's clock does not go finer.
                BehaviorKind.SleepWake => active / Math.Max((b.Run.MeanNs + b.Sleep.MeanNs) / 1e9, 1e-9),
                BehaviorKind.Periodic => active / Math.Max(b.Period.TotalSeconds, 1e-9),
                BehaviorKind.Phases => PhaseEvents(b, active),
                BehaviorKind.Job => 1,
                _ => 0,
            };
            wakeups += n * perTask;
            busy += b.Kind == BehaviorKind.CpuBound ? n : 0;
            sleepWakeups += b.Kind == BehaviorKind.SleepWake ? n * perTask : 0;
            // CPUs' worth of work the group asks for while it is active.
            demand += active <= 0 ? 0 : b.Kind switch
            {
                BehaviorKind.CpuBound => n,
                BehaviorKind.SleepWake => n * b.Run.MeanNs / Math.Max(b.Run.MeanNs + b.Sleep.MeanNs, 1),
                BehaviorKind.Periodic => n * Math.Min(1, b.Runtime.Nanoseconds / (double)Math.Max(b.Period.Nanoseconds, 1)),
                BehaviorKind.Job => g.Arrivals == TaskArrivalKind.Poisson ? g.Rate * b.Work.MeanNs / 1e9 : 0,
                _ => 0,
            };
        }
        if (demand > cpus)
        {
            // Over capacity: a sleep/wake task's cycle stretches by its wait, so it wakes about cpus / demand as often.
            wakeups -= sleepWakeups * (1 - cpus / demand);
        }
        double ticks = cpus * (double)spec.Hz * duration;
        double switches = Math.Min(busy + wakeups / Math.Max(duration, 1e-9), cpus) * 1000 * duration;
        double events = ticks + switches + wakeups * EventsPerWakeup;
        double samples = Math.Floor(duration / spec.SampleInterval.TotalSeconds) + 1;
        double segments = Math.Min(spec.TimelineLimit, switches + wakeups);
        double memory = BytesBase + tasks * BytesPerTask + (switches + wakeups) * BytesPerWait + segments * BytesPerSegment
                        + samples * cpus * BytesPerSample;
        return new SchedWorkEstimate(tasks, events, samples, memory, events / EventsPerWallSecond);
    }

    /// <summary>An rt-app thread's events over <paramref name="active"/> seconds: its steps per pass over the phases.</summary>
    private static double PhaseEvents(TaskBehavior b, double active)
    {
        double ns = 0, steps = 0;
        foreach (var p in b.Phases)
        {
            foreach (var s in p.Steps)
            {
                ns += s.Duration.Nanoseconds * (double)p.Loop;
                steps += p.Loop;
            }
        }
        return ns <= 0 ? 0 : steps * active / (ns / 1e9);
    }

    public override string ToString() =>
        $"~{WorkEstimate.Count(Tasks)} tasks, ~{WorkEstimate.Count(Events)} scheduling events, {WorkEstimate.Count(Samples)} samples, " +
        $"~{WorkEstimate.Bytes(MemoryBytes)} of memory (budget {WorkEstimate.Bytes(WorkEstimate.BudgetBytes)}), ~{WorkEstimate.Seconds(WallSeconds)} of wall time";
}
