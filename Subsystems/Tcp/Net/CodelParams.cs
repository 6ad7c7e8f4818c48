namespace BpfSim.Tcp.Net;

/// <summary>
/// struct codel_params (include/net/codel.h) in the kernel's units: times are codel_time_t, nanoseconds shifted right
/// by <see cref="CodelAlgorithm.Shift"/> (about a microsecond), kept in 32 bits and compared with wrap-around.
/// </summary>
public readonly record struct CodelParams
{
    /// <summary>CODEL_DISABLED_THRESHOLD: ce_threshold off.</summary>
    public const uint DisabledThreshold = int.MaxValue;

    /// <summary>The acceptable standing queue delay (codel units).</summary>
    public uint Target { get; init; }

    /// <summary>The sliding window the delay must stay above target for before the first drop (codel units).</summary>
    public uint Interval { get; init; }

    /// <summary>Sojourn above which ECT packets are marked CE regardless of state (codel units); disabled by default.</summary>
    public uint CeThreshold { get; init; }

    /// <summary>psched_mtu of the device: a backlog at most this large never counts as above target.</summary>
    public uint Mtu { get; init; }

    /// <summary>Mark ECT packets instead of dropping them.</summary>
    public bool Ecn { get; init; }

    /// <summary>codel_params_init: target 5 ms, interval 100 ms, ce_threshold off, ECN off; mtu 1514 (Ethernet).</summary>
    public static CodelParams Default => new()
    {
        Target = CodelAlgorithm.FromNs(5_000_000),
        Interval = CodelAlgorithm.FromNs(100_000_000),
        CeThreshold = DisabledThreshold,
        Mtu = 1514,
    };
}
