using System.Runtime.CompilerServices;
using System.Text;

namespace BpfSim.Core.Simulation;

/// <summary>
/// A seeded pseudo-random stream (xoshiro256**). Each component derives its own stream from
/// (scenario seed, component name) with <see cref="For"/>, so adding a flow never perturbs another's numbers and
/// the same seed gives the same numbers on every machine and .NET version.
/// </summary>
public sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A stream seeded directly from <paramref name="seed"/>.</summary>
    public SimRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>The stream of component <paramref name="component"/> under scenario seed <paramref name="seed"/>.</summary>
    public static SimRandom For(ulong seed, string component) => new(Mix(seed, component));

    /// <summary>A child stream named <paramref name="component"/>, independent of this stream's position.</summary>
    public SimRandom Derive(string component) => new(Mix(_s0 ^ _s2, component));

    private static ulong Mix(ulong seed, string component)
    {
        // FNV-1a over the UTF-8 name: stable across runs and platforms, unlike string.GetHashCode.
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(component))
        {
            h = (h ^ b) * 1099511628211UL;
        }
        ulong x = seed ^ h;
        return SplitMix(ref x) ^ h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A double uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

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
