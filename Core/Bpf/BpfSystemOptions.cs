using BpfSim.Core.Cpus;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf;

/// <summary>How a <see cref="BpfSystem"/> is built. Defaults follow a stock kernel.</summary>
public sealed record BpfSystemOptions
{
    /// <summary>Possible CPUs (num_possible_cpus()).</summary>
    public int Cpus { get; init; } = 4;

    /// <summary>The run's seed: what bpf_get_prandom_u32 streams are derived from.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Grace-period timing.</summary>
    public RcuOptions Rcu { get; init; } = new();

    /// <summary>What a user-space map-in-map update waits for; the default is the kernel's behaviour.</summary>
    public InnerMapReplaceWait InnerMapWait { get; init; } = InnerMapReplaceWait.SynchronizeRcu;

    /// <summary>The bound on a <see cref="InnerMapReplaceWait.ProgramReferences"/> wait.</summary>
    public SimTime ProgramRefWaitBound { get; init; } = SimTime.FromMilliseconds(10);

    /// <summary>
    /// Whether a tcx attach or detach that publishes a new program array waits for an RCU grace period before it
    /// returns (tcx_entry_sync, kernel/bpf/tcx.c), as the kernel does. Off, the syscall returns at once.
    /// </summary>
    public bool TcxSynchronizeRcu { get; init; } = true;

    /// <summary>
    /// Whether BPF objects' programs are compiled (net.core.bpf_jit_enable, on by default as on x86-64): translated to
    /// .NET IL and from there to machine code on first run, instead of run by the interpreter. Results are identical
    /// either way (docs/bpf-vm.md, "JIT"); off is for comparing the two.
    /// </summary>
    public bool Jit { get; init; } = true;

    /// <summary>
    /// The simulated kernel's CONFIG_HZ (kernel/Kconfig.hz: 100, 250, 300 or 1000): the value objects' <c>CONFIG_HZ
    /// __kconfig</c> extern reads and the rate bpf_jiffies64 counts at. A TCP stack on this system must use the same
    /// (its options' Hz).
    /// </summary>
    public uint Hz { get; init; } = Simulation.Jiffies.DefaultHz;

    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(Simulation.Jiffies.IsValidHz(Hz), true, nameof(Hz));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Cpus);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Cpus, CpuSet.MaxCpus);
        ArgumentOutOfRangeException.ThrowIfNegative(ProgramRefWaitBound.Nanoseconds, nameof(ProgramRefWaitBound));
        if (!Enum.IsDefined(InnerMapWait))
        {
            throw new ArgumentOutOfRangeException(nameof(InnerMapWait), InnerMapWait, "unknown wait mode");
        }
        Rcu.Validate();
    }
}
