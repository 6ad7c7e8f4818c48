using BpfSim.Core.Metrics;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>Per task group totals of a scheduler run (<see cref="TaskGroupResult"/>), and wait-time statistics.</summary>
public static class SchedGroups
{
    /// <summary>The fixed task groups (arrival groups are <see cref="SchedRunResult.Jobs"/>), in order of their first pid.</summary>
    public static IReadOnlyList<TaskGroupResult> Of(SchedRunResult result)
    {
        var groupOf = GroupByPid(result);
        var groups = new List<TaskGroupResult>();
        foreach (var tasks in result.Tasks.GroupBy(t => groupOf.TryGetValue(t.Pid, out var g) ? g : t.Name).OrderBy(g => g.Min(t => t.Pid)))
        {
            // The group's own histogram when the run kept one (computed as each task's line is); else its representatives.
            var stats = result.Trace.WaitHistogramsByGroup.TryGetValue(tasks.Key, out var h) ? WaitStats.Of(h)
                : WaitStats.Of(result.Trace.WaitsByGroup.TryGetValue(tasks.Key, out var w) ? w : []);
            int minNice = tasks.Min(t => t.Nice), maxNice = tasks.Max(t => t.Nice);
            groups.Add(new TaskGroupResult(tasks.Key, tasks.Count(), minNice == maxNice ? $"{minNice}" : $"{minNice}..{maxNice}",
                string.Join("+", tasks.Select(t => t.Class).Distinct().Order(StringComparer.Ordinal)),
                Math.Round(tasks.Sum(t => t.RuntimeSeconds), 6), Math.Round(tasks.Sum(t => t.CpuShare), 4), R(stats.MeanMs), R(stats.P50Ms),
                R(stats.P99Ms), R(stats.P999Ms), R(stats.MaxMs), tasks.Sum(t => t.Switches), tasks.Sum(t => t.Migrations),
                tasks.Sum(t => t.DeadlineMisses)));
        }
        return groups;
    }

    private static double R(double ms) => Math.Round(ms, 4);

    /// <summary>Each task's group, by pid (<see cref="Scheduler.Metrics.SchedTrace.TaskNames"/>).</summary>
    public static Dictionary<int, string> GroupByPid(SchedRunResult result)
    {
        var map = new Dictionary<int, string>();
        foreach (var (pid, _, group) in result.Trace.TaskNames)
        {
            map[pid] = group;
        }
        return map;
    }
}

/// <summary>
/// Wait times (runnable → running) of a set of waits, in ms: count, mean, nearest-rank percentiles, max. The run
/// keeps per group values representative of its wait distribution (SchedTrace.WaitsByGroup), not every wait.
/// </summary>
public readonly record struct WaitStats(long Count, double MeanMs, double P50Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static WaitStats Of(long[] waitsNs)
    {
        if (waitsNs.Length == 0)
        {
            return default;
        }
        var sorted = (long[])waitsNs.Clone();
        Array.Sort(sorted);
        double sum = 0;
        foreach (long w in sorted)
        {
            sum += w;
        }
        return new WaitStats(sorted.Length, sum / sorted.Length / 1e6, Rank(sorted, 0.5), Rank(sorted, 0.99), Rank(sorted, 0.999), sorted[^1] / 1e6);
    }

    /// <summary>The statistics of a histogram's waits: exact count, mean and maximum, percentiles from its buckets.</summary>
    public static WaitStats Of(LogLinearHistogram waits) => waits.Count == 0 ? default
        : new WaitStats(waits.Count, waits.Mean / 1e6, waits.Quantile(0.5) / 1e6, waits.Quantile(0.99) / 1e6,
            waits.Quantile(0.999) / 1e6, waits.Max / 1e6);

    /// <summary>The nearest-rank percentile <paramref name="q"/> of <paramref name="sorted"/>, in ms.</summary>
    public static double Rank(long[] sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)] / 1e6;
}
