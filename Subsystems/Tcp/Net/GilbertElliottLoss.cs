using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The Gilbert-Elliott two-state model of bursty loss: a Good and a Bad state with their own loss probabilities;
/// before each packet the chain moves Good→Bad with probability <c>p</c> and Bad→Good with probability <c>r</c>.
/// </summary>
public sealed class GilbertElliottLoss : LossModel
{
    private bool _bad;

    /// <param name="p">P(Good → Bad) per packet.</param>
    /// <param name="r">P(Bad → Good) per packet.</param>
    /// <param name="lossInGood">Loss probability in Good (often 0).</param>
    /// <param name="lossInBad">Loss probability in Bad (often 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A probability is outside [0, 1], or p + r is 0.</exception>
    public GilbertElliottLoss(double p, double r, double lossInGood = 0, double lossInBad = 1)
    {
        foreach (var (value, name) in new[] { (p, nameof(p)), (r, nameof(r)), (lossInGood, nameof(lossInGood)), (lossInBad, nameof(lossInBad)) })
        {
            if (value is < 0 or > 1 || double.IsNaN(value))
            {
                throw new ArgumentOutOfRangeException(name, value, "must be a probability in [0, 1]");
            }
        }
        if (p + r == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(r), "p + r must be positive");
        }
        P = p;
        R = r;
        LossInGood = lossInGood;
        LossInBad = lossInBad;
    }

    public double P { get; }
    public double R { get; }
    public double LossInGood { get; }
    public double LossInBad { get; }

    /// <summary>Stationary loss: π_bad·h + π_good·k with π_bad = p / (p + r).</summary>
    public override double MeanLossRate => (P * LossInBad + R * LossInGood) / (P + R);

    public override bool Lose(SimRandom random)
    {
        _bad = _bad ? random.NextDouble() >= R : random.NextDouble() < P;
        double loss = _bad ? LossInBad : LossInGood;
        return loss > 0 && random.NextDouble() < loss;
    }
}
