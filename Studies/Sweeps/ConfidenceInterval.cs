using MathNet.Numerics.Distributions;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// The mean of a sample and the half-width of its 95 % confidence interval, Student's t over the sample's standard
/// deviation (n − 1 degrees of freedom): the interval is mean ± <see cref="HalfWidth"/>. Null half-width for fewer than
/// two values.
/// </summary>
public readonly record struct ConfidenceInterval(int Count, double Mean, double? HalfWidth)
{
    /// <summary>The two-sided 95 % quantile of Student's t with <paramref name="degreesOfFreedom"/> (2.262 for 9).</summary>
    public static double TQuantile95(int degreesOfFreedom) => StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);

    /// <exception cref="ArgumentException">No values.</exception>
    public static ConfidenceInterval Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("a confidence interval needs at least one value", nameof(values));
        }
        double mean = values.Average();
        if (values.Count < 2)
        {
            return new ConfidenceInterval(1, mean, null);
        }
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return new ConfidenceInterval(values.Count, mean, TQuantile95(values.Count - 1) * Math.Sqrt(variance / values.Count));
    }
}
