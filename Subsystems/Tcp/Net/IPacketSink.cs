namespace BpfSim.Tcp.Net;

/// <summary>An endpoint at the end of a route: it receives packets by pool index and frees them when done.</summary>
public interface IPacketSink
{
    void Receive(int packet);

    /// <summary>
    /// The object <see cref="Receive"/> reads first beside the sink itself (a connection), or null: the network
    /// prefetches it with the sink when an arrival at this sink is the likely next event. Read once, when the sink is added.
    /// </summary>
    object? PrefetchTarget => null;

    /// <summary>
    /// An arrival at this sink is the likely next event, and the sink and its <see cref="PrefetchTarget"/> were asked
    /// for an event earlier: prefetch what <see cref="Receive"/> reaches through them. Only hints, no state changes.
    /// </summary>
    void PrefetchState()
    {
    }
}
