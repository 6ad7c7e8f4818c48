using BpfSim.Tcp.Workloads;

namespace BpfSim.Tcp.Metrics;

/// <summary>
/// Completion-time statistics of a set of sized flows: how many, how many completed, and over the completed ones the
/// mean and nearest-rank percentiles (the ⌈q·n⌉-th smallest, as FCT studies report them) of FCT and slowdown.
/// </summary>
public readonly record struct FctStats(int Count, int Completed, double MeanMs, double P50Ms, double P95Ms, double P99Ms,
    double SlowdownP50, double SlowdownP99)
{
    public static FctStats Of(IReadOnlyCollection<FctSample> samples)
    {
        var fct = samples.Where(s => s.FctMs is not null).Select(s => s.FctMs!.Value).Order().ToArray();
        var slowdown = samples.Where(s => s.Slowdown is not null).Select(s => s.Slowdown!.Value).Order().ToArray();
        return new FctStats(samples.Count, fct.Length, fct.Length == 0 ? 0 : Math.Round(fct.Average(), 3), Rank(fct, 0.50),
            Rank(fct, 0.95), Rank(fct, 0.99), Math.Round(Rank(slowdown, 0.50), 4), Math.Round(Rank(slowdown, 0.99), 4));
    }

    /// <summary>The nearest-rank <paramref name="q"/>-quantile of ascending <paramref name="sorted"/> (0 when empty).</summary>
    public static double Rank(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
