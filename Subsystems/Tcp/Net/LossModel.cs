using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>Decides whether a packet that left a link's queue is lost on the wire.</summary>
public abstract class LossModel
{
    /// <summary>True if the next packet is lost.</summary>
    public abstract bool Lose(SimRandom random);

    /// <summary>The long-run fraction of packets lost.</summary>
    public abstract double MeanLossRate { get; }

    /// <summary>No loss.</summary>
    public static LossModel None { get; } = new BernoulliLoss(0);
}

/// <summary>Independent loss with probability <c>p</c> per packet.</summary>
public sealed class BernoulliLoss : LossModel
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is not in [0, 1].</exception>
    public BernoulliLoss(double probability)
    {
        if (probability is < 0 or > 1 || double.IsNaN(probability))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "loss probability must be in [0, 1]");
        }
        Probability = probability;
    }

    public double Probability { get; }

    public override double MeanLossRate => Probability;

    public override bool Lose(SimRandom random) => Probability > 0 && random.NextDouble() < Probability;
}
