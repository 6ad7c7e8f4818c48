using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Cpus;

/// <summary>
/// N simulated CPUs and the CPU the running program is on. A subsystem that invokes a program enters a CPU with
/// <c>BpfSystem.EnterProgram</c>; per-CPU maps and <see cref="PerCpu{T}"/> then address that CPU's slot.
/// </summary>
public sealed class CpuSet
{
    /// <summary>The kernel's NR_CPUS-style upper bound for one simulation; keeps per-CPU buffers small and bounded.</summary>
    public const int MaxCpus = 1024;

    private int _current = NoCpu;

    /// <summary>The value of <see cref="Current"/> when no program is running (user space).</summary>
    public const int NoCpu = -1;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [1, <see cref="MaxCpus"/>].</exception>
    public CpuSet(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCpus);
        Count = count;
    }

    /// <summary>Possible CPUs (num_possible_cpus()); every per-CPU value has this many slots.</summary>
    public int Count { get; }

    /// <summary>The CPU whose program is running, or <see cref="NoCpu"/> in user space.</summary>
    public int Current => _current;

    /// <summary>True while a program runs (smp_processor_id() is meaningful).</summary>
    public bool InProgram => _current != NoCpu;

    /// <summary>Sets the current CPU and returns the previous one, for scopes that nest.</summary>
    internal int Swap(int cpu)
    {
        if (cpu != NoCpu)
        {
            CheckCpu(cpu);
        }
        int previous = _current;
        _current = cpu;
        return previous;
    }

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cpu"/> is not a CPU of this set.</exception>
    public void CheckCpu(int cpu)
    {
        if ((uint)cpu >= (uint)Count)
        {
            ThrowNoSuchCpu(cpu, Count);
        }
    }

    // Out of line: the interpolated message kept CheckCpu from being inlined into every program entry (sched_ext calls).
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNoSuchCpu(int cpu, int count) =>
        throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"CPU {cpu} does not exist (CPUs 0..{count - 1})");
}
