using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Workloads;

/// <summary>The shapes a scenario's time distributions take.</summary>
public enum DistributionKind
{
    /// <summary><c>const(5ms)</c>.</summary>
    Const,

    /// <summary><c>exp(10ms)</c>: exponential with that mean.</summary>
    Exp,

    /// <summary><c>uniform(1ms, 3ms)</c>.</summary>
    Uniform,

    /// <summary><c>lognormal(10ms, 0.5)</c>: that median, σ of the underlying normal.</summary>
    LogNormal,
}

/// <summary>
/// A distribution of durations (DESIGN §5): <see cref="A"/> is the constant, mean, lower bound or median in ns;
/// <see cref="B"/> the upper bound in ns (uniform) or σ (lognormal).
/// </summary>
public readonly record struct Distribution(DistributionKind Kind, double A, double B = 0)
{
    public static Distribution Const(SimTime t) => new(DistributionKind.Const, t.Nanoseconds);

    /// <summary>The mean in ns.</summary>
    public double MeanNs => Kind switch
    {
        DistributionKind.Const or DistributionKind.Exp => A,
        DistributionKind.Uniform => (A + B) / 2,
        _ => A * Math.Exp(B * B / 2),
    };

    /// <summary>One sample in ns, at least 1, from <paramref name="random"/> (the caller's own stream).</summary>
    public long SampleNs(SimRandom random)
    {
        var source = new SharedRandom(random);
        return SampleNs(ref source);
    }

    /// <summary>One sample in ns, at least 1, from a task's own stream held by value.</summary>
    internal long SampleNs<TRandom>(ref TRandom random)
        where TRandom : struct, IUniformSource
    {
        double v = Kind switch
        {
            DistributionKind.Const => A,
            DistributionKind.Exp => -A * Math.Log(1.0 - random.NextDouble()), // SimRandom.NextExponential
            DistributionKind.Uniform => A + (B - A) * random.NextDouble(),
            _ => A * Math.Exp(B * StandardNormal(ref random)),
        };
        return Math.Max(1, (long)Math.Round(v));
    }

    /// <summary>Box–Muller on two uniforms of the stream (deterministic: no cached second value).</summary>
    private static double StandardNormal<TRandom>(ref TRandom random)
        where TRandom : struct, IUniformSource
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The scenario text: <c>exp(10ms)</c>.</summary>
    public override string ToString() => Kind switch
    {
        DistributionKind.Const => $"const({new SimTime((long)A)})",
        DistributionKind.Exp => $"exp({new SimTime((long)A)})",
        DistributionKind.Uniform => $"uniform({new SimTime((long)A)}, {new SimTime((long)B)})",
        _ => $"lognormal({new SimTime((long)A)}, {B})",
    };
}
