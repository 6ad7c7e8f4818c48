namespace BpfSim.Tcp.Net;

/// <summary>An endpoint at the end of a route: it receives packets by pool index and frees them when done.</summary>
public interface IPacketSink
{
    void Receive(int packet);

    /// <summary>
    /// The lines <see cref="Receive"/> reads first beside the sink itself (of a connection), or none: the network
    /// prefetches them with the sink when an arrival at this sink is the likely next event. Read once, when the sink is added.
    /// </summary>
    HotLines PrefetchTarget => default;

    /// <summary>
    /// An arrival at this sink is the likely next event, and the sink and its <see cref="PrefetchTarget"/> were asked
    /// for an event earlier: prefetch what <see cref="Receive"/> reaches through them. Only hints, no state changes.
    /// </summary>
    void PrefetchState()
    {
    }
}
