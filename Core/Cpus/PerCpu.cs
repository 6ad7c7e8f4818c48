namespace BpfSim.Core.Cpus;

/// <summary>Per-CPU storage: one slot per CPU in an array indexed by CPU id (the kernel's DEFINE_PER_CPU).</summary>
public sealed class PerCpu<T>
{
    private readonly T[] _slots;
    private readonly CpuSet _cpus;

    public PerCpu(CpuSet cpus)
    {
        _cpus = cpus;
        _slots = new T[cpus.Count];
    }

    /// <summary>The slot of <paramref name="cpu"/> (per_cpu_ptr).</summary>
    public ref T this[int cpu] => ref _slots[cpu];

    /// <summary>The slot of the current CPU (this_cpu_ptr).</summary>
    /// <exception cref="InvalidOperationException">No program is running, so there is no current CPU.</exception>
    public ref T Current
    {
        get
        {
            int cpu = _cpus.Current;
            if (cpu == CpuSet.NoCpu)
            {
                throw new InvalidOperationException("this_cpu access outside a program: no current CPU");
            }
            return ref _slots[cpu];
        }
    }

    /// <summary>All slots, CPU 0 first.</summary>
    public ReadOnlySpan<T> All => _slots;
}
