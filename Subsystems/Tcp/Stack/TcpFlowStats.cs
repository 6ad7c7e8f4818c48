namespace BpfSim.Tcp.Stack;

/// <summary>Per-flow counters, updated in place on the packet path.</summary>
public sealed class TcpFlowStats
{
    public long BytesAcked { get; internal set; }
    public long SegmentsSent { get; internal set; }
    public long Retransmits { get; internal set; }
    public long Timeouts { get; internal set; }
    public long FastRecoveries { get; internal set; }
    /// <summary>Reductions undone because the retransmissions proved unnecessary (spurious RTO or recovery).</summary>
    public long Undos { get; internal set; }
    public long EcnEchoes { get; internal set; }
    /// <summary>Window restarts after an idle period longer than the RTO (tcp_cwnd_restart, RFC 2861).</summary>
    public long CwndRestarts { get; internal set; }
    public long RttSamples { get; internal set; }
    public double RttSumMs { get; internal set; }
    public double RttMinMs { get; internal set; } = double.MaxValue;
    public double RttMaxMs { get; internal set; }

    public double RttMeanMs => RttSamples == 0 ? 0 : RttSumMs / RttSamples;

    internal void AddRtt(long rttUs)
    {
        double ms = rttUs / 1000.0;
        RttSamples++;
        RttSumMs += ms;
        RttMinMs = Math.Min(RttMinMs, ms);
        RttMaxMs = Math.Max(RttMaxMs, ms);
    }
}
