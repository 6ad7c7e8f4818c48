using System.Globalization;
using BpfSim.Studies.Output.Charts;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>
/// The time plots of a TCP run's report, built from its result: one series per flow in the flow's colour
/// (<see cref="ReportPalette.Flow"/>), the run's events marked on each (<see cref="ReportMarkers"/>), time from 0 to
/// the run's end.
/// </summary>
public sealed class TcpReportFigures(TcpRunSummary summary, TcpRunResult result, IReadOnlyList<ChartMarker> markers)
{
    private const string Time = "time (s)";

    /// <summary>The smoothing windows a rate plot's menu offers, in seconds (those at least one sample interval long).</summary>
    public static readonly double[] SmoothingWindows = [0.5, 1, 2, 5];

    private ChartAxis TimeAxis => new(Time) { Min = 0, Max = summary.SimTimeSeconds };

    /// <summary>One metric of every flow, as the sampler recorded it.</summary>
    public ChartFigure PerFlow(string metric, string title, string axis, string unit)
    {
        var figure = new ChartFigure(title, TimeAxis, new ChartAxis(axis) { Min = 0 });
        foreach (var f in summary.Flows)
        {
            figure.Add(ChartSeries.From(FlowName(f), result.Samples.Flow(f.Id - 1, metric), ReportPalette.Flow(f.Id)) with { Unit = unit });
        }
        return figure.Mark(markers);
    }

    /// <summary>
    /// A rate per flow (goodput, delivery rate): the <paramref name="window"/> moving average shown, the raw samples
    /// a hidden legend group; the y axis clipped to 1.2 × the bottleneck's rate when the raw samples go beyond it (a
    /// cumulative ACK after a loss episode credits a whole window's bytes to one sampling interval).
    /// </summary>
    public ChartFigure Rate(string metric, string title, double window, double bottleneckMbps)
    {
        // A closed flow's goodput samples read 0 to the run's end: the line stops with the flow instead (the sample after
        // its end holds its last bytes).
        double step = result.Samples.Interval.TotalSeconds;
        var raw = summary.Flows
            .Select(f => (Flow: f, Points: result.Samples.Flow(f.Id - 1, metric).Where(p => p.T <= f.EndSeconds + step + 1e-9).ToList()))
            .Where(r => r.Points.Count > 0) // series i of the figure is raw[i] smoothed, for the menu
            .ToList();
        double peak = raw.SelectMany(r => r.Points).Select(p => p.Value).DefaultIfEmpty(0).Max();
        double? top = RateAxisTop(peak, bottleneckMbps);
        string interval = $"{F(step * 1000)} ms";
        // The reader picks the window from a menu; the one asked for is picked at first.
        var windows = SmoothingWindows.Where(w => w >= step - 1e-9).Append(window).Distinct().Order().ToList();
        string Title(double w) => $"{title} ({F(w)} s moving average)";
        var choices = windows.Select(w => new ChartChoice($"{F(w)} s", Title(w),
            raw.Select((r, i) => (i, (IReadOnlyList<double>)MovingAverage(r.Points, w).Select(p => p.Value).ToArray())).ToList())).ToList();
        var figure = new ChartFigure(Title(window), TimeAxis, new ChartAxis($"{title.ToLowerInvariant()} (Mbit/s)") { Min = 0, Max = top })
        {
            Choices = choices,
            ChosenIndex = windows.IndexOf(window),
            Caption = $"Each line is the mean of the {interval} samples over the trailing window picked above the plot. The raw samples are " +
                "in the legend's \"raw\" group, hidden: click an entry to show it." +
                (top is { } t ? $" The y axis stops at {F(t)} Mbit/s (1.2 × the bottleneck's rate; raw samples reach {F(Math.Round(peak, 1))}): double-click the plot to see all." : ""),
        };
        foreach (var (f, points) in raw)
        {
            figure.Add(ChartSeries.From(FlowName(f), MovingAverage(points, window), ReportPalette.Flow(f.Id)) with { Unit = "Mbit/s", Group = "smoothed" });
        }
        foreach (var (f, points) in raw)
        {
            figure.Add(ChartSeries.From($"{FlowName(f)} raw", points, ReportPalette.Flow(f.Id)) with
            {
                Unit = "Mbit/s", Group = $"raw ({interval} samples)", Hidden = true, Dotted = true,
            });
        }
        return figure.Mark(markers);
    }

    /// <summary>The queue of every watched link, in packets.</summary>
    public ChartFigure Queues()
    {
        var figure = new ChartFigure("Bottleneck queue", TimeAxis, new ChartAxis("queue (packets)") { Min = 0 });
        for (int i = 0; i < summary.Links.Count; i++)
        {
            string name = summary.Links[i].Name;
            var points = result.Samples.Points().Where(p => p.Subject == name && p.Metric == "queue").Select(p => (p.TimeSeconds, p.Value));
            figure.Add(ChartSeries.From(name, points, ReportPalette.Other(i)) with { Unit = "packets" });
        }
        return figure.Mark(markers);
    }

    /// <summary>Each struct_ops map's reported refcnt, a step per change.</summary>
    public ChartFigure RefCounts()
    {
        var figure = new ChartFigure("struct_ops refcnt", TimeAxis, new ChartAxis("refcnt (registration/link + users)") { Min = 0 });
        for (int i = 0; i < summary.StructOps.Count; i++)
        {
            var m = summary.StructOps[i];
            var steps = m.Timeline.Select(e => (e.Seconds, (double)e.RefCount)).ToList();
            steps.Add((summary.SimTimeSeconds, steps.Count > 0 ? steps[^1].Item2 : 0));
            figure.Add(ChartSeries.From($"map {m.MapId} {m.Name}", steps, ReportPalette.Other(i)) with { Step = true });
        }
        return figure.Mark(markers);
    }

    /// <summary>
    /// The trailing moving average: at each sample, the mean of the samples in (t − window, t]. For a per-interval
    /// rate this is the bytes delivered in the window over its length (less at the start, where the window is short).
    /// </summary>
    public static IReadOnlyList<(double T, double Value)> MovingAverage(IReadOnlyList<(double T, double Value)> points, double window)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        var averaged = new (double, double)[points.Count];
        double sum = 0;
        int first = 0;
        for (int i = 0; i < points.Count; i++)
        {
            sum += points[i].Value;
            // 1e-9 s of slack: sample times are sums of a float interval.
            while (points[first].T <= points[i].T - window + 1e-9)
            {
                sum -= points[first].Value;
                first++;
            }
            averaged[i] = (points[i].T, sum / (i - first + 1));
        }
        return averaged;
    }

    /// <summary>
    /// Where a rate plot's y axis stops: 1.2 × the bottleneck's rate when the samples reach beyond that, else null
    /// (plotly fits the data). With no known bottleneck rate (0) the axis is never clipped.
    /// </summary>
    public static double? RateAxisTop(double peakMbps, double bottleneckMbps) =>
        bottleneckMbps > 0 && peakMbps > 1.2 * bottleneckMbps ? 1.2 * bottleneckMbps : null;

    public static string FlowName(FlowResult f) => $"flow {f.Id} {f.Cc}";

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
