namespace BpfSim.Tcp.Metrics;

/// <summary>Fairness of an allocation.</summary>
public static class Fairness
{
    /// <summary>
    /// Jain's index (Σx)² / (n · Σx²): 1 when all shares are equal, 1/n when one flow takes everything
    /// (Jain, Chiu and Hawe, DEC-TR-301, 1984). An empty or all-zero allocation counts as fair (1).
    /// </summary>
    public static double Jain(IReadOnlyCollection<double> shares)
    {
        double sum = 0, sumSquares = 0;
        foreach (double x in shares)
        {
            if (x < 0 || double.IsNaN(x))
            {
                throw new ArgumentOutOfRangeException(nameof(shares), x, "shares must be non-negative");
            }
            sum += x;
            sumSquares += x * x;
        }
        return sumSquares == 0 ? 1.0 : sum * sum / (shares.Count * sumSquares);
    }
}
