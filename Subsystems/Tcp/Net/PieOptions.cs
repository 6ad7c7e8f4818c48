namespace BpfSim.Tcp.Net;

/// <summary>
/// PIE's parameters with pie_params_init's defaults (include/net/pie.h), named as tc-pie(8) names them.
/// </summary>
public sealed record PieOptions
{
    /// <summary>target: the queueing delay PIE steers to (15 ms).</summary>
    public long TargetNs { get; init; } = 15_000_000;

    /// <summary>tupdate: how often the drop probability is recomputed (15 ms; the kernel counts it in jiffies, HZ=1000 here).</summary>
    public long TupdateNs { get; init; } = 15_000_000;

    /// <summary>limit: packets (1000).</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>alpha in units of 1/16 (2, i.e. 0.125).</summary>
    public int Alpha { get; init; } = 2;

    /// <summary>beta in units of 1/16 (20, i.e. 1.25).</summary>
    public int Beta { get; init; } = 20;

    /// <summary>ecn: mark ECT packets instead of dropping while the probability is at most 10 % (off).</summary>
    public bool Ecn { get; init; }

    /// <summary>bytemode: scale the probability by packet size / MTU (off).</summary>
    public bool Bytemode { get; init; }

    /// <summary>dq_rate_estimator: estimate the delay from the departure rate instead of timestamps (off).</summary>
    public bool DqRateEstimator { get; init; }

    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of the range pie_change accepts.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TargetNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TupdateNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Limit);
        // tc passes alpha and beta as 0..32 (sch_pie.c: "we use values 0-32 passed from user space").
        ArgumentOutOfRangeException.ThrowIfNegative(Alpha);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Alpha, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(Beta);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Beta, 32);
    }
}
