namespace BpfSim.Tcp.Stack;

/// <summary>
/// The counters of <see cref="TcpFlowStats"/> that change on every ACK or segment — bytes acknowledged, segments sent
/// and the RTT samples — held in the connection itself (<see cref="TcpConnection.Counters"/>), one line beside its
/// state: with 10,000 flows the stats object's own lines were two more misses per ACK.
/// </summary>
internal struct TcpHotCounters
{
    public long BytesAcked;
    public long SegmentsSent;
    public long RttSamples;
    public double RttSumMs;
    public double RttMinMs;
    public double RttMaxMs;

    public TcpHotCounters()
    {
        RttMinMs = double.MaxValue;
    }

    public void AddRtt(long rttUs)
    {
        double ms = rttUs / 1000.0;
        RttSamples++;
        RttSumMs += ms;
        RttMinMs = Math.Min(RttMinMs, ms);
        RttMaxMs = Math.Max(RttMaxMs, ms);
    }
}
