namespace BpfSim.Scheduler.Metrics;

/// <summary>
/// Fairness of CPU-bound tasks against their weights: each task's expected rate (CPUs' worth of time per second) is
/// its weight-proportional part of the rate the CPU-bound tasks got together, water-filled so that no task is
/// expected to use more than one CPU (a task cannot run on two CPUs at once); share/expected per task, Jain's index
/// over those ratios, and the largest |ratio − 1|. Affinity is not modelled: tasks pinned to different CPUs are
/// compared as if they could share all of them.
/// </summary>
public static class WeightedFairness
{
    /// <param name="rates">Each task's runtime over its lifetime (CPUs).</param>
    /// <param name="weights">Each task's load weight.</param>
    public static (double Jain, double MaxError) Compute(IReadOnlyList<double> rates, IReadOnlyList<double> weights)
    {
        int n = rates.Count;
        if (n == 0)
        {
            return (1, 0);
        }
        var expected = Expected(rates, weights);
        double sum = 0, sumSq = 0, maxError = 0;
        for (int i = 0; i < n; i++)
        {
            double x = expected[i] > 0 ? rates[i] / expected[i] : 1;
            sum += x;
            sumSq += x * x;
            maxError = Math.Max(maxError, Math.Abs(x - 1));
        }
        return (sumSq > 0 ? sum * sum / (n * sumSq) : 1, maxError);
    }

    /// <summary>Weighted max-min shares of the tasks' total rate with each capped at one CPU.</summary>
    public static double[] Expected(IReadOnlyList<double> rates, IReadOnlyList<double> weights)
    {
        int n = rates.Count;
        var expected = new double[n];
        var capped = new bool[n];
        double capacity = 0;
        for (int i = 0; i < n; i++)
        {
            capacity += rates[i];
        }
        while (true)
        {
            double w = 0;
            for (int i = 0; i < n; i++)
            {
                w += capped[i] ? 0 : weights[i];
            }
            if (w <= 0)
            {
                return expected;
            }
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                if (!capped[i] && capacity * weights[i] / w > 1)
                {
                    capped[i] = true;
                    expected[i] = 1;
                    capacity -= 1;
                    changed = true;
                }
            }
            if (!changed)
            {
                for (int i = 0; i < n; i++)
                {
                    if (!capped[i])
                    {
                        expected[i] = capacity * weights[i] / w;
                    }
                }
                return expected;
            }
        }
    }
}
