namespace BpfSim.Tcp.Stack;

/// <summary><c>struct rate_sample</c> (include/net/tcp.h): the delivery-rate sample cong_control receives.</summary>
public struct RateSample
{
    public ulong PriorMstamp;
    public uint PriorDelivered;
    public uint PriorDeliveredCe;
    public int Delivered;
    public int DeliveredCe;
    public long IntervalUs;
    public uint SndIntervalUs;
    public uint RcvIntervalUs;
    public long RttUs;
    public int Losses;
    public uint AckedSacked;
    public uint PriorInFlight;
    public uint LastEndSeq;
    public bool IsAppLimited;
    public bool IsRetrans;
    public bool IsAckDelayed;
}
