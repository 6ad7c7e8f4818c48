namespace BpfSim.Tcp.Net;

/// <summary>
/// Sees what happens at a <see cref="Link"/> as mm-link's log does (src/frontend/link_queue.cc: record_arrival,
/// record_drop, record_departure_opportunity, record_departure): each arrival, each packet the queue drops, each
/// delivery opportunity of a trace-driven link, and each packet leaving. A recorder reads the packet there and then
/// (the pool reuses it) and never changes the run; a link without one pays a null check per event.
/// </summary>
public interface ILinkRecorder
{
    /// <summary>A packet reached the link at <paramref name="nowNs"/>, before its queue admits or drops it.</summary>
    void Arrival(Link link, in Packet packet, long nowNs);

    /// <summary>The queue dropped <paramref name="packet"/> at <paramref name="nowNs"/>.</summary>
    void Drop(Link link, in Packet packet, long nowNs);

    /// <summary>A trace-driven link's delivery opportunity of <paramref name="bytes"/> opened at <paramref name="timeNs"/>.</summary>
    void Opportunity(Link link, long timeNs, int bytes);

    /// <summary>
    /// <paramref name="packet"/> leaves the link at <paramref name="departureNs"/> (its last byte delivered); it reached
    /// the link at <see cref="Packet.EnqueuedNs"/>. Reported when known, which on a fixed-rate link is when its
    /// transmission starts, so departures may be told before arrivals that happen earlier.
    /// </summary>
    void Departure(Link link, in Packet packet, long departureNs);

    /// <summary>The link's rate, delay or loss is about to change at <paramref name="nowNs"/> (<see cref="LinkChange"/>).</summary>
    void Changing(Link link, long nowNs);
}
