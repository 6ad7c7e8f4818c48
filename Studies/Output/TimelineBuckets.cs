using BpfSim.Scheduler.Metrics;

namespace BpfSim.Studies.Output;

/// <summary>
/// A per-CPU timeline reduced to columns for drawing (the terminal's strip, report.html's lanes): each column of
/// each CPU gets how long each task group ran in it. A run keeps up to hundreds of thousands of segments, far more
/// than pixels; a column shows the group that ran most of it, with the shares in its hover text.
/// </summary>
public sealed class TimelineBuckets
{
    /// <summary>At most this many groups get their own colour; the rest are drawn as "other".</summary>
    public const int MaxGroups = 24;

    private readonly double[] _ns; // [cpu, column, group]: group MaxGroups+… is "other"

    /// <summary>The groups drawn, in order of first appearance in <see cref="SchedTrace.TaskNames"/>; the last may be "other".</summary>
    public IReadOnlyList<string> Groups { get; }
    public int Cpus { get; }
    public int Columns { get; }
    public long StartNs { get; }
    public long EndNs { get; }
    /// <summary>Segments that fell in the window (those of the overview included).</summary>
    public long Segments { get; }

    /// <summary>
    /// The run's overview when segments it did not keep are drawn from it (at its resolution, from
    /// <see cref="TimelineOverview.FirstNs"/> on); null when every segment was kept.
    /// </summary>
    public TimelineOverview? Overview { get; }

    private int Slots => Groups.Count;

    public double ColumnNs => (EndNs - StartNs) / (double)Columns;

    private TimelineBuckets(IReadOnlyList<string> groups, int cpus, int columns, long startNs, long endNs, double[] ns, long segments,
        TimelineOverview? overview)
    {
        (Groups, Cpus, Columns, StartNs, EndNs, _ns, Segments, Overview) = (groups, cpus, columns, startNs, endNs, ns, segments, overview);
    }

    /// <summary>Buckets the segments of <paramref name="trace"/> between <paramref name="startNs"/> and <paramref name="endNs"/>.</summary>
    public static TimelineBuckets Of(SchedTrace trace, int cpus, long startNs, long endNs, int columns)
    {
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var groupOfTask = new int[trace.TaskNames.Count];
        for (int t = 0; t < trace.TaskNames.Count; t++)
        {
            string g = trace.TaskNames[t].Group;
            if (!index.TryGetValue(g, out int i))
            {
                i = index[g] = index.Count;
            }
            groupOfTask[t] = i;
            if (i < MaxGroups && names.Count == i)
            {
                names.Add(g);
            }
        }
        if (index.Count > MaxGroups)
        {
            names.Add("other");
        }
        int slots = Math.Max(1, names.Count);
        endNs = Math.Max(endNs, startNs + 1);
        var ns = new double[cpus * columns * slots];
        double width = (endNs - startNs) / (double)columns;
        long segments = 0;
        foreach (var s in trace.Timeline)
        {
            if (s.Task < 0 || s.Cpu < 0 || s.Cpu >= cpus || s.EndNs <= startNs || s.StartNs >= endNs)
            {
                continue; // idle, or outside the window
            }
            segments++;
            int g = s.Task < groupOfTask.Length ? Math.Min(groupOfTask[s.Task], slots - 1) : slots - 1;
            long from = Math.Max(s.StartNs, startNs), to = Math.Min(s.EndNs, endNs);
            int c0 = Math.Min((int)((from - startNs) / width), columns - 1), c1 = Math.Min((int)((to - startNs) / width), columns - 1);
            for (int c = c0; c <= c1; c++)
            {
                double lo = startNs + c * width, hi = lo + width;
                double overlap = Math.Min(to, hi) - Math.Max(from, lo);
                if (overlap > 0)
                {
                    ns[(s.Cpu * columns + c) * slots + g] += overlap;
                }
            }
        }
        var overview = trace.Overview is { Segments: > 0 } o && o.FirstNs < endNs ? o : null;
        if (overview != null)
        {
            AddOverview(overview, index, slots, cpus, startNs, endNs, columns, ns);
            segments += overview.Segments;
        }
        return new TimelineBuckets(names, cpus, columns, startNs, endNs, ns, segments, overview);
    }

    /// <summary>
    /// The segments the run did not keep, from its overview: each overview column's time goes to the columns here in
    /// proportion to their overlap (spread evenly over the overview column, the most its resolution tells).
    /// </summary>
    private static void AddOverview(TimelineOverview o, Dictionary<string, int> index, int slots, int cpus, long startNs, long endNs,
        int columns, double[] ns)
    {
        var slotOf = new int[o.Slots];
        for (int k = 0; k < o.Slots; k++)
        {
            string name = k < o.Groups.Count ? o.Groups[k] : "";
            slotOf[k] = index.TryGetValue(name, out int g) ? Math.Min(g, slots - 1) : slots - 1;
        }
        double width = (endNs - startNs) / (double)columns, ow = o.ColumnNs;
        for (int oc = 0; oc < o.Columns; oc++)
        {
            double from = Math.Max(oc * ow, startNs), to = Math.Min((oc + 1) * ow, endNs);
            if (to <= from)
            {
                continue;
            }
            int c0 = Math.Min((int)((from - startNs) / width), columns - 1), c1 = Math.Min((int)((to - startNs) / width), columns - 1);
            for (int cpu = 0; cpu < Math.Min(cpus, o.Cpus); cpu++)
            {
                for (int k = 0; k < o.Slots; k++)
                {
                    double v = o.Ns(cpu, oc, k);
                    if (v <= 0)
                    {
                        continue;
                    }
                    for (int c = c0; c <= c1; c++)
                    {
                        double lo = startNs + c * width;
                        double overlap = Math.Min(to, lo + width) - Math.Max(from, lo);
                        if (overlap > 0)
                        {
                            ns[(cpu * columns + c) * slots + slotOf[k]] += v * overlap / ow;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The group that ran longest in the column (−1 when the CPU was idle all of it) and the busy fraction.</summary>
    public (int Group, double Busy) Dominant(int cpu, int column)
    {
        int at = (cpu * Columns + column) * Slots, best = -1;
        double total = 0, most = 0;
        for (int g = 0; g < Slots; g++)
        {
            double v = _ns[at + g];
            total += v;
            if (v > most)
            {
                (most, best) = (v, g);
            }
        }
        return (best, Math.Min(1, total / ColumnNs));
    }

    /// <summary>The shares of the column by group, largest first, idle included: "hog 80%, web 15%, idle 5%".</summary>
    public string Shares(int cpu, int fromColumn, int toColumn)
    {
        var sums = new double[Slots];
        for (int c = fromColumn; c <= toColumn; c++)
        {
            for (int g = 0; g < Slots; g++)
            {
                sums[g] += _ns[(cpu * Columns + c) * Slots + g];
            }
        }
        double span = ColumnNs * (toColumn - fromColumn + 1), busy = sums.Sum();
        var parts = Enumerable.Range(0, Slots).Where(g => sums[g] > 0).OrderByDescending(g => sums[g])
            .Select(g => $"{Groups[g]} {Percent(sums[g] / span)}").ToList();
        if (span - busy > span * 0.005)
        {
            parts.Add($"idle {Percent((span - busy) / span)}");
        }
        return string.Join(", ", parts);
    }

    private static string Percent(double f) => f >= 0.995 ? "100%" : f < 0.01 ? "<1%" : $"{f * 100:0}%";
}
