namespace BpfSim.Tcp.Net;

/// <summary>
/// fq_codel's parameters with fq_codel_init's defaults (net/sched/sch_fq_codel.c), named as tc-fq_codel(8) names them.
/// </summary>
public sealed record FqCodelOptions
{
    /// <summary>limit: packets in the whole qdisc (10 × 1024).</summary>
    public int Limit { get; init; } = 10 * 1024;

    /// <summary>flows: hash buckets (1024).</summary>
    public int Flows { get; init; } = 1024;

    /// <summary>quantum: bytes a flow may send per round (psched_mtu: 1514).</summary>
    public int Quantum { get; init; } = 1514;

    /// <summary>memory_limit: bytes of skb truesize the qdisc may hold (32 MB).</summary>
    public long MemoryLimit { get; init; } = 32L << 20;

    /// <summary>drop_batch_size: packets dropped at most at once from the fattest flow when over a limit (64).</summary>
    public int DropBatchSize { get; init; } = 64;

    /// <summary>CoDel's target, interval, ce_threshold and ecn; fq_codel turns ECN on by default.</summary>
    public CodelParams Codel { get; init; } = CodelParams.Default with { Ecn = true };

    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of the range fq_codel_change accepts.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Limit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Flows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Flows, 65536); // fq_codel_change: flows_cnt <= 65536
        ArgumentOutOfRangeException.ThrowIfLessThan(Quantum, 256); // fq_codel_change: max(256, quantum), at most 2^20
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Quantum, 1 << 20);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MemoryLimit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DropBatchSize);
        ArgumentOutOfRangeException.ThrowIfZero(Codel.Interval, nameof(Codel));
    }
}
