using System.Runtime.CompilerServices;
using System.Text;

namespace BpfSim.Core.Simulation;

/// <summary>
/// The xoshiro256** generator and its seeding (SplitMix64 from a seed, FNV-1a of a component's name mixed in), held by
/// value: <see cref="SimRandom"/> wraps one, and per-entity records that cannot afford a pointer to a separate object
/// (a scheduler's 10,000 tasks) embed one directly. Both give the same numbers for the same (seed, component).
/// </summary>
public struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A stream seeded directly from <paramref name="seed"/>.</summary>
    public static Xoshiro256 FromSeed(ulong seed)
    {
        ulong x = seed;
        var r = default(Xoshiro256);
        r._s0 = SplitMix(ref x);
        r._s1 = SplitMix(ref x);
        r._s2 = SplitMix(ref x);
        r._s3 = SplitMix(ref x);
        return r;
    }

    /// <summary>The stream of component <paramref name="component"/> under scenario seed <paramref name="seed"/>.</summary>
    public static Xoshiro256 For(ulong seed, string component) => FromSeed(Mix(seed, component));

    /// <summary>A child stream named <paramref name="component"/>, independent of this stream's position.</summary>
    public readonly Xoshiro256 Derive(string component) => For(_s0 ^ _s2, component);

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

    /// <summary>A double uniform in [0, 1) from the top 53 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
