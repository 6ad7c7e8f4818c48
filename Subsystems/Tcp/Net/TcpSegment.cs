namespace BpfSim.Tcp.Net;

/// <summary>TCP header flags carried by a segment.</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    /// <summary>ECN-Echo: the receiver saw CE.</summary>
    Ece = 0x40,
    /// <summary>Congestion Window Reduced: the sender reacted to ECE.</summary>
    Cwr = 0x80,
}

/// <summary>
/// The TCP header of a simulated segment: sequence numbers, flags, the number of SACK blocks and the timestamp option.
/// A plain struct inside <see cref="Packet"/>, so a segment never allocates; the SACK blocks themselves are beside the
/// packet (<see cref="SackBlocks"/>).
/// </summary>
public struct TcpSegment
{
    /// <summary>
    /// SACK blocks that fit in the 40-byte option space beside the 12-byte timestamp option (tcp_established_options:
    /// TCPOLEN_SACK_BASE_ALIGNED 4 + 8 per block), of the kernel's TCP_NUM_SACKS = 4.
    /// </summary>
    public const int MaxSackBlocks = 3;

    public uint Seq;
    public uint Ack;
    public TcpFlags Flags;
    /// <summary>The SACK blocks the option carries, in the packet's <see cref="SackBlocks"/>.</summary>
    public byte SackCount;
    /// <summary>TSval and TSecr of the timestamp option, in microseconds.</summary>
    public uint TsVal, TsEcr;
}
