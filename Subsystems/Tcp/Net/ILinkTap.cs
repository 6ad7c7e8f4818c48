namespace BpfSim.Tcp.Net;

/// <summary>
/// Sees every packet a <see cref="Link"/> puts on the wire (a pcap writer): called when the packet's transmission
/// starts, with the instant its last bit leaves the transmitter (on a trace-driven link, when its last byte is
/// delivered, with that instant). A tap reads the packet there and then (the pool
/// reuses it) and never changes the run. A link without a tap pays one null check per packet.
/// </summary>
public interface ILinkTap
{
    /// <summary>
    /// <paramref name="packet"/> is being transmitted on <paramref name="link"/>; its transmission ends at
    /// <paramref name="departureNs"/>; <paramref name="sacks"/> are its SACK blocks (its segment's
    /// <see cref="TcpSegment.SackCount"/> of them). Packets the wire then loses are seen too; packets the queue dropped
    /// are not.
    /// </summary>
    void Departing(Link link, in Packet packet, in SackBlocks sacks, long departureNs);
}
