namespace BpfSim.Tcp.Metrics;

/// <summary>A link's counters at an instant (or their difference over a window).</summary>
/// <param name="BusyNs">Nanoseconds spent transmitting.</param>
/// <param name="QueueIntegral">The queue length's time integral (packet-nanoseconds).</param>
/// <param name="Arrived">Packets offered to the link's queue.</param>
/// <param name="Drops">Packets the queue dropped.</param>
/// <param name="RandomLosses">Packets the wire lost.</param>
/// <param name="CapacityBytesUsed">
/// A trace-driven link's opportunity bytes that carried packets (<see cref="Net.LinkStats.CapacityBytesUsed"/>); 0 on a
/// fixed-rate link.
/// </param>
public readonly record struct LinkSnapshot(long BusyNs, double QueueIntegral, long Arrived, long Drops, long RandomLosses, long CapacityBytesUsed = 0)
{
    public static LinkSnapshot operator -(LinkSnapshot a, LinkSnapshot b) => new(a.BusyNs - b.BusyNs, a.QueueIntegral - b.QueueIntegral,
        a.Arrived - b.Arrived, a.Drops - b.Drops, a.RandomLosses - b.RandomLosses, a.CapacityBytesUsed - b.CapacityBytesUsed);

    /// <summary>(drops + random losses) / packets arrived; 0 when nothing arrived.</summary>
    public double LossRate => Arrived == 0 ? 0 : (Drops + RandomLosses) / (double)Arrived;
}
