namespace BpfSim.Tcp.Net;

/// <summary>
/// A packet in the pool: where it goes (route and hop), its size on the wire, its ECN codepoint and its TCP segment.
/// Packets are referred to by their index in the <see cref="PacketPool"/>; queues and events carry that index.
/// </summary>
/// <remarks>
/// 64 bytes, in this order (the 8-byte fields first, then the 4-byte ones, then the small ones, with no padding), so
/// that a packet spans at most two cache lines: every hop of every packet reads it, and with many flows the pool no
/// longer fits in the caches. The segment's SACK blocks, which only ACKs in recovery carry, live beside the pool
/// (<see cref="PacketPool.SacksOf"/>).
/// </remarks>
public struct Packet
{
    /// <summary>
    /// When the packet reached the link it is on and joined its queue (ns): its sojourn there (the queueing delay the
    /// link's histogram and log report, CoDel's and PIE's delay) is its dequeue time minus this.
    /// </summary>
    public long EnqueuedNs;
    /// <summary>
    /// skb->tstamp: the earliest departure time (EDT, ns) the sending socket stamped, or 0 for none. Only sch_fq reads
    /// it (as time_to_send).
    /// </summary>
    public long Tstamp;
    /// <summary>The flow (connection) the packet belongs to. While the packet is free: the next free packet.</summary>
    public int Flow;
    /// <summary>The route it follows and the position on it (the link it is on or next enters).</summary>
    public int Route;
    public int Hop;
    /// <summary>Bytes on the wire (headers included), which is what links serialise and byte queues count.</summary>
    public int SizeBytes;
    /// <summary>TCP payload bytes.</summary>
    public int PayloadBytes;

    /// <summary>
    /// 0 while the packet follows its <see cref="Route"/>; the id + 1 of the link it is on once a packet hook sent it
    /// off the route (XDP_TX, a redirect), from where routers forward it by their tables.
    /// </summary>
    public int Via;
    public TcpSegment Segment;

    /// <summary>
    /// The IPv4 TTL relative to what its position implies (64 less the routers it passed on its route): a program's
    /// change, and the decrements of forwarding off the route. 0 for every packet no hook touched.
    /// </summary>
    public short TtlDelta;
    public EcnCodepoint Ecn;

    /// <summary>Pool bookkeeping: 1 while the packet is free (its <see cref="Flow"/> then links the free list), 0 in use.</summary>
    internal byte IsFree;
}
