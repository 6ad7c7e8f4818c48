using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// A seeded pseudo-random stream (xoshiro256**, <see cref="Xoshiro256"/>). Each component derives its own stream from
/// (scenario seed, component name) with <see cref="For"/>, so adding a flow never perturbs another's numbers and
/// the same seed gives the same numbers on every machine and .NET version.
/// </summary>
public sealed class SimRandom
{
    private Xoshiro256 _state;

    /// <summary>A stream seeded directly from <paramref name="seed"/>.</summary>
    public SimRandom(ulong seed) => _state = Xoshiro256.FromSeed(seed);

    private SimRandom(Xoshiro256 state) => _state = state;

    /// <summary>The stream of component <paramref name="component"/> under scenario seed <paramref name="seed"/>.</summary>
    public static SimRandom For(ulong seed, string component) => new(Xoshiro256.For(seed, component));

    /// <summary>A child stream named <paramref name="component"/>, independent of this stream's position.</summary>
    public SimRandom Derive(string component) => new(_state.Derive(component));

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64() => _state.NextUInt64();

    /// <summary>A double uniform in [0, 1).</summary>
    public double NextDouble() => _state.NextDouble();

    /// <summary>An integer uniform in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>An integer uniform in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>An exponentially distributed value with the given mean (Poisson inter-arrival times).</summary>
    public double NextExponential(double mean) => -mean * Math.Log(1.0 - NextDouble());
}
