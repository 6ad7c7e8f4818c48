using BpfSim.Core.Metrics;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Counters a link keeps in place as packets pass; read after (or during) a run. Those every packet moves are read
/// from the link's record in its network's table (<see cref="LinkState"/>), the drops and marks from its queue.
/// </summary>
public sealed class LinkStats
{
    private readonly Link _link;

    internal LinkStats(Link link) => _link = link;

    /// <summary>Packets put on the wire (counted when their transmission starts, lost on the wire or not).</summary>
    public long PacketsSent => _link.State.PacketsSent;
    public long BytesSent => _link.State.BytesSent;
    /// <summary>Packets offered to the link's queue (dropped by it or not): the denominator of the loss rate.</summary>
    public long PacketsArrived => _link.State.PacketsArrived;
    /// <summary>Packets dropped by the queue (<see cref="QueueDiscipline.Drops"/>).</summary>
    public long QueueDrops => _link.Queue.Drops;
    /// <summary>Packets lost on the wire by the loss model.</summary>
    public long RandomLosses { get; internal set; }
    /// <summary>Packets the queue marked CE (<see cref="QueueDiscipline.Marks"/>).</summary>
    public long EcnMarks => _link.Queue.Marks;
    /// <summary>Nanoseconds spent transmitting.</summary>
    public long BusyNs => _link.State.BusyNs;
    /// <summary>The time integral of the queue length (packet-nanoseconds), for the time-averaged queue.</summary>
    public double QueueIntegral => _link.State.QueueIntegral;
    public int MaxQueuePackets => _link.State.MaxQueuePackets;

    /// <summary>
    /// Bytes a trace-driven link's opportunities offered so far (<see cref="DeliveryTrace.OpportunityBytes"/> each),
    /// and the part of them packets used (IP bytes plus mm-link's 4 per packet); 0 on a fixed-rate link.
    /// </summary>
    public long CapacityBytes { get; internal set; }

    /// <inheritdoc cref="CapacityBytes"/>
    public long CapacityBytesUsed { get; internal set; }

    /// <summary>
    /// Fraction of <paramref name="elapsedNs"/> the link was transmitting; for a trace-driven link, the fraction of its
    /// opportunities' bytes that carried packets.
    /// </summary>
    public double Utilization(long elapsedNs) =>
        CapacityBytes > 0 ? CapacityBytesUsed / (double)CapacityBytes
        : elapsedNs <= 0 ? 0 : Math.Min(1.0, BusyNs / (double)elapsedNs);

    /// <summary>
    /// Each transmitted packet's sojourn in the queue (dequeue minus enqueue, ns), when the link records it
    /// (<see cref="Link.RecordQueueDelay"/>); null otherwise.
    /// </summary>
    public LogLinearHistogram? QueueDelay { get; internal set; }

    /// <summary>Time-averaged queue length in packets over <paramref name="elapsedNs"/>.</summary>
    public double MeanQueuePackets(long elapsedNs) => elapsedNs <= 0 ? 0 : QueueIntegral / elapsedNs;
}
