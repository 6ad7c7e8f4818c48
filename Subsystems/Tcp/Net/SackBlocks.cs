namespace BpfSim.Tcp.Net;

/// <summary>
/// The SACK blocks of a segment's option: <see cref="TcpSegment.SackCount"/> of them are set, at most
/// <see cref="TcpSegment.MaxSackBlocks"/>. They are kept beside the pool's packets, one per packet
/// (<see cref="PacketPool.SacksOf"/>), rather than in <see cref="Packet"/>: only ACKs in recovery carry blocks, and
/// every hop of every packet reads the packet, which without them fits in 64 bytes.
/// </summary>
public struct SackBlocks
{
    public uint Sack0Start, Sack0End, Sack1Start, Sack1End, Sack2Start, Sack2End;
}
