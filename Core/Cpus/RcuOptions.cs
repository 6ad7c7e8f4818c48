using BpfSim.Core.Simulation;

namespace BpfSim.Core.Cpus;

/// <summary>How grace periods unfold in simulated time.</summary>
public sealed record RcuOptions
{
    /// <summary>
    /// The scheduler tick at which CPUs report quiescent states (CONFIG_HZ=250, the common distribution default,
    /// is 4 ms). A grace period with no readers therefore ends at the next tick boundary after it starts.
    /// </summary>
    public SimTime TickPeriod { get; init; } = SimTime.FromMilliseconds(4);

    /// <summary>
    /// How long a blocking <see cref="Rcu.Synchronize"/> may wait before it reports a stall
    /// (the kernel's rcu_cpu_stall_timeout default of 21 s).
    /// </summary>
    public SimTime StallTimeout { get; init; } = SimTime.FromSeconds(21);

    /// <exception cref="ArgumentOutOfRangeException">A period is zero or negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TickPeriod.Nanoseconds, nameof(TickPeriod));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(StallTimeout.Nanoseconds, nameof(StallTimeout));
    }
}
