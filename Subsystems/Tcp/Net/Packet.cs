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
    /// <summary>When the packet reached the link it is on and joined its queue (ns), for the queueing delay a link's log reports.</summary>
    public long EnqueuedNs;
    public TcpSegment Segment;

    /// <summary>Pool bookkeeping: the next free packet while free, -1 while in use.</summary>
    internal int NextFree;
}
