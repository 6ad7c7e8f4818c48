using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// sch_fq's parameters with fq_init's defaults (net/sched/sch_fq.c) for an Ethernet device (psched_mtu 1514), named
/// as tc-fq(8) names them. Rates are in bytes per second, as the kernel keeps them.
/// </summary>
public sealed record FqOptions
{
    /// <summary>limit: packets in the qdisc (10000).</summary>
    public int Limit { get; init; } = 10000;

    /// <summary>flow_limit: packets per flow (100).</summary>
    public int FlowLimit { get; init; } = 100;

    /// <summary>quantum: bytes a flow may send per round (2 × MTU).</summary>
    public int Quantum { get; init; } = 2 * 1514;

    /// <summary>initial_quantum: the credit of a new flow (10 × MTU).</summary>
    public int InitialQuantum { get; init; } = 10 * 1514;

    /// <summary>maxrate: a per-flow rate cap in bytes per second (~0UL: none).</summary>
    public ulong MaxRate { get; init; } = ulong.MaxValue;

    /// <summary>pacing: rate_enable (on). Off, fq neither paces nor tells sockets it would.</summary>
    public bool Pacing { get; init; } = true;

    /// <summary>
    /// refill_delay: a flow idle this long gets a fresh quantum of credit when it returns (40 ms). Kept, as in the
    /// kernel, in whole jiffies of <see cref="Hz"/> (usecs_to_jiffies, rounded up).
    /// </summary>
    public long RefillDelayNs { get; init; } = 40_000_000;

    /// <summary>The kernel's CONFIG_HZ: a flow's age and refill_delay are counted in its jiffies.</summary>
    public uint Hz { get; init; } = Jiffies.DefaultHz;

    /// <summary>low_rate_threshold: below this pacing rate every packet is paced, with no credit burst (550 kbit/s).</summary>
    public ulong LowRateThreshold { get; init; } = 550_000 / 8;

    /// <summary>horizon: a packet whose timestamp is further ahead than this is dropped, or capped (10 s).</summary>
    public long HorizonNs { get; init; } = 10_000_000_000;

    /// <summary>horizon_drop: drop beyond the horizon (on), else cap the timestamp to it.</summary>
    public bool HorizonDrop { get; init; } = true;

    /// <summary>ce_threshold: mark CE when a packet leaves this late after its time (default 4294 s: off in practice).</summary>
    public long CeThresholdNs { get; init; } = 1000L * uint.MaxValue;

    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of the range fq_change accepts.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Limit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FlowLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(Quantum, 256); // fq_change clamps quantum into [256, 2^20]
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Quantum, 1 << 20);
        ArgumentOutOfRangeException.ThrowIfNegative(InitialQuantum);
        ArgumentOutOfRangeException.ThrowIfNegative(RefillDelayNs);
        ArgumentOutOfRangeException.ThrowIfNotEqual(Jiffies.IsValidHz(Hz), true, nameof(Hz));
        ArgumentOutOfRangeException.ThrowIfNegative(HorizonNs);
        ArgumentOutOfRangeException.ThrowIfNegative(CeThresholdNs);
    }
}
