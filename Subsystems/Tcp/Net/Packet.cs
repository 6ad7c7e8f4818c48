namespace BpfSim.Tcp.Net;

/// <summary>
/// A packet in the pool: where it goes (route and hop), its size on the wire, its ECN codepoint and its TCP segment.
/// Packets are referred to by their index in the <see cref="PacketPool"/>; queues and events carry that index.
/// </summary>
public struct Packet
{
    /// <summary>The flow (connection) the packet belongs to.</summary>
    public int Flow;
    /// <summary>The route it follows and the position on it (the link it is on or next enters).</summary>
    public int Route;
    public int Hop;
    /// <summary>Bytes on the wire (headers included), which is what links serialise and byte queues count.</summary>
    public int SizeBytes;
    /// <summary>TCP payload bytes.</summary>
    public int PayloadBytes;
    public EcnCodepoint Ecn;
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
    public TcpSegment Segment;

    /// <summary>
    /// 0 while the packet follows its <see cref="Route"/>; the id + 1 of the link it is on once a packet hook sent it
    /// off the route (XDP_TX, a redirect), from where routers forward it by their tables.
    /// </summary>
    public int Via;

    /// <summary>
    /// The IPv4 TTL relative to what its position implies (64 less the routers it passed on its route): a program's
    /// change, and the decrements of forwarding off the route. 0 for every packet no hook touched.
    /// </summary>
    public int TtlDelta;

    /// <summary>Pool bookkeeping: the next free packet while free, -1 while in use.</summary>
    internal int NextFree;
}
