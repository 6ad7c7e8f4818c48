using System.Runtime.CompilerServices;
using System.Text;
using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// The stream <see cref="SimRandom.For"/> gives (xoshiro256**, seeded from the scenario seed and a name by FNV-1a
/// and SplitMix64), held by value: a task's stream lives in the workload's per-task record, so a wake-up or the end
/// of a burst reads one line for both instead of the record and then a <see cref="SimRandom"/> object (a second,
/// dependent miss at 10,000 tasks, ~9 % of a run). It must give exactly <see cref="SimRandom"/>'s numbers
/// (TaskRandomTests compares the two).
/// </summary>
internal struct TaskRandom : IUniformSource
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>The stream of <c>SimRandom.For(seed, component)</c>.</summary>
    public static TaskRandom For(ulong seed, string component)
    {
        ulong h = 14695981039346656037UL; // FNV-1a over the UTF-8 name, as SimRandom.Mix
        foreach (byte b in Encoding.UTF8.GetBytes(component))
        {
            h = (h ^ b) * 1099511628211UL;
        }
        ulong x = seed ^ h;
        ulong s = SplitMix(ref x) ^ h;
        var r = default(TaskRandom);
        r._s0 = SplitMix(ref s);
        r._s1 = SplitMix(ref s);
        r._s2 = SplitMix(ref s);
        r._s3 = SplitMix(ref s);
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
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

    /// <summary>A double uniform in [0, 1) from the top 53 bits, as <see cref="SimRandom.NextDouble"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
