using BpfSim.Studies.Output.Charts;

namespace BpfSim.Studies.Output;

/// <summary>
/// Plots that compare results rather than follow time: the Pantheon plot and FCT distributions. Each takes typed data,
/// so a report adds one by handing it the numbers.
/// </summary>
public static class ComparisonFigures
{
    /// <summary>
    /// Throughput against 95th-percentile one-way delay, one point per algorithm, drawn as Pantheon draws it: the delay
    /// axis reversed, so better (more throughput, less delay) is up and to the right.
    /// </summary>
    public static ChartFigure Pantheon(IReadOnlyList<AlgorithmPoint> points)
    {
        var figure = new ChartFigure("Throughput vs 95th-percentile one-way delay (Pantheon)",
            new ChartAxis("95th percentile one-way delay (ms)") { Reversed = true }, new ChartAxis("throughput (Mbit/s)") { Min = 0 })
        {
            UnifiedHover = false,
            Caption = "One point per algorithm; the delay axis runs right to left, as in Pantheon's plots: better is up and right.",
        };
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            figure.Add(new ChartSeries(p.Algorithm, [p.DelayP95Ms], [p.ThroughputMbps], ReportPalette.Other(i))
            {
                Mode = ChartMode.Markers, PointLabels = [p.Algorithm], Unit = "Mbit/s",
            });
        }
        return figure;
    }

    /// <summary>The empirical CDF of each group's flow completion times (a step at each sorted sample), FCT on a log axis.</summary>
    public static ChartFigure FctCdf(IReadOnlyList<FctSamples> groups)
    {
        var figure = new ChartFigure("Flow completion time (CDF)", new ChartAxis("flow completion time (ms)") { Log = true },
            new ChartAxis("fraction of flows ≤ x") { Min = 0, Max = 1 })
        {
            UnifiedHover = false,
        };
        for (int i = 0; i < groups.Count; i++)
        {
            var sorted = groups[i].FctMs.Where(double.IsFinite).Order().ToArray();
            var y = sorted.Select((_, k) => (k + 1) / (double)sorted.Length).ToArray();
            figure.Add(new ChartSeries($"{groups[i].Label} ({sorted.Length} flows)", sorted, y, ReportPalette.Other(i)) { Step = true });
        }
        return figure;
    }
}
