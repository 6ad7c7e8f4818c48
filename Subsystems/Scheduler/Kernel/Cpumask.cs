using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// struct cpumask for up to <see cref="MaxCpus"/> CPUs: a blittable bitmap of 64-bit words, laid out as the kernel's
/// <c>unsigned long bits[]</c> so a BPF program reading <c>p->cpus_ptr</c> sees the kernel's bits.
/// </summary>
public struct Cpumask : IEquatable<Cpumask>
{
    /// <summary>NR_CPUS of the simulated kernel.</summary>
    public const int MaxCpus = 256;

    private const int Words = MaxCpus / 64;

    [InlineArray(Words)]
    private struct Bits
    {
        private ulong _word;
    }

    private Bits _bits;

    /// <summary>CPUs 0 … <paramref name="count"/> − 1.</summary>
    public static Cpumask FirstN(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCpus);
        var m = new Cpumask();
        for (int w = 0; w < Words && count > 0; w++, count -= 64)
        {
            m._bits[w] = count >= 64 ? ulong.MaxValue : (1UL << count) - 1;
        }
        return m;
    }

    /// <summary>The mask of exactly <paramref name="cpus"/>.</summary>
    public static Cpumask Of(params ReadOnlySpan<int> cpus)
    {
        var m = new Cpumask();
        foreach (int cpu in cpus)
        {
            m.Set(cpu);
        }
        return m;
    }

    public readonly bool Test(int cpu) => (uint)cpu < MaxCpus && (_bits[cpu >> 6] & (1UL << (cpu & 63))) != 0;

    public void Set(int cpu) => _bits[cpu >> 6] |= 1UL << (cpu & 63);

    public void Clear(int cpu) => _bits[cpu >> 6] &= ~(1UL << (cpu & 63));

    /// <summary>Clears <paramref name="cpu"/> and says whether it was set (cpumask_test_and_clear_cpu).</summary>
    public bool TestAndClear(int cpu)
    {
        bool was = Test(cpu);
        Clear(cpu);
        return was;
    }

    /// <summary>cpumask_weight.</summary>
    public readonly int Weight
    {
        get
        {
            int n = 0;
            for (int w = 0; w < Words; w++)
            {
                n += BitOperations.PopCount(_bits[w]);
            }
            return n;
        }
    }

    public readonly bool IsEmpty => Weight == 0;

    /// <summary>The lowest set CPU at or after <paramref name="from"/>, or −1 (cpumask_next − 1 semantics: inclusive).</summary>
    public readonly int NextFrom(int from)
    {
        for (int cpu = Math.Max(from, 0); cpu < MaxCpus;)
        {
            ulong word = _bits[cpu >> 6] >> (cpu & 63);
            if (word != 0)
            {
                return cpu + BitOperations.TrailingZeroCount(word);
            }
            cpu = (cpu | 63) + 1;
        }
        return -1;
    }

    /// <summary>cpumask_first, or −1 when empty.</summary>
    public readonly int First => NextFrom(0);

    /// <summary>This mask AND <paramref name="other"/>.</summary>
    public readonly Cpumask And(in Cpumask other)
    {
        var m = this;
        for (int w = 0; w < Words; w++)
        {
            m._bits[w] &= other._bits[w];
        }
        return m;
    }

    /// <summary>Whether every CPU of this mask is in <paramref name="other"/>.</summary>
    public readonly bool IsSubsetOf(in Cpumask other)
    {
        for (int w = 0; w < Words; w++)
        {
            if ((_bits[w] & ~other._bits[w]) != 0)
            {
                return false;
            }
        }
        return true;
    }

    public readonly bool Equals(Cpumask other)
    {
        for (int w = 0; w < Words; w++)
        {
            if (_bits[w] != other._bits[w])
            {
                return false;
            }
        }
        return true;
    }

    public override readonly bool Equals(object? obj) => obj is Cpumask m && Equals(m);

    public override readonly int GetHashCode() => HashCode.Combine(_bits[0], _bits[1], _bits[2], _bits[3]);

    public static bool operator ==(Cpumask a, Cpumask b) => a.Equals(b);

    public static bool operator !=(Cpumask a, Cpumask b) => !a.Equals(b);

    /// <summary>The kernel's list format: <c>0-3,6</c>.</summary>
    public override readonly string ToString()
    {
        var parts = new List<string>();
        for (int cpu = First; cpu >= 0;)
        {
            int end = cpu;
            while (end + 1 < MaxCpus && Test(end + 1))
            {
                end++;
            }
            parts.Add(end == cpu ? $"{cpu}" : $"{cpu}-{end}");
            cpu = end + 1 < MaxCpus ? NextFrom(end + 1) : -1;
        }
        return string.Join(',', parts);
    }
}
