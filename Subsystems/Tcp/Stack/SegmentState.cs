namespace BpfSim.Tcp.Stack;

/// <summary>
/// Scoreboard bits of an outstanding segment (TCPCB_SACKED_ACKED, TCPCB_LOST, TCPCB_SACKED_RETRANS, TCPCB_EVER_RETRANS),
/// and whether its skb carries PSH.
/// </summary>
[Flags]
public enum SegmentFlags : byte
{
    None = 0,
    Sacked = 1,
    Lost = 2,
    Retrans = 4,
    EverRetrans = 8,
    /// <summary>TCPHDR_PSH in the retransmit queue's skb: the segment ends a write (tcp_mark_push), and is resent with PSH.</summary>
    Pushed = 16,
}

/// <summary>
/// What the sender remembers about one outstanding segment: its scoreboard bits and the delivery-rate snapshot taken
/// when it was (re)sent (tcp_rate_skb_sent: delivered, delivered time, first-send time, app-limited).
/// </summary>
public struct SegmentState
{
    public SegmentFlags Flags;
    public bool IsAppLimited;
    public long SentNs;
    public uint DeliveredAtSend;
    public uint DeliveredCeAtSend;
    public long DeliveredTimeNs;
    public long FirstTxNs;
}
