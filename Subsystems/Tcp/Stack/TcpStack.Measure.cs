using BpfSim.Core.Metrics;
using BpfSim.Tcp.Metrics;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// What the stack measures for the run beyond the kernel's own counters: each data packet's one-way delay, sender to
/// receiving host, as Pantheon records it per packet at delivery (its one-way delay is the egress time minus the
/// ingress time of every packet the tunnel carries; here the arrival at the receiving NIC minus the TSval the sender
/// stamped when the segment left, retransmissions included, each with its own TSval).
/// </summary>
public sealed partial class TcpStack
{
    // Arrivals in [_owdFromNs, _owdToNs] are recorded; the empty default records none at the cost of one compare.
    private long _owdFromNs = long.MaxValue;
    private long _owdToNs = long.MinValue;

    /// <summary>
    /// Records, from now on, the one-way delay of every data packet that reaches a receiver inside
    /// <paramref name="window"/> into its connection's <see cref="TcpFlowStats.OneWayDelay"/>.
    /// </summary>
    public void RecordOneWayDelay(MeasureWindow window)
    {
        _owdFromNs = window.From.Nanoseconds;
        _owdToNs = window.To.Nanoseconds;
    }

    private static void AddOneWayDelay(TcpConnection conn, uint tsVal, long nowNs)
    {
        // TSval is the sender's clock in µs (32 bits): the unsigned difference survives its wrap.
        uint delayUs = (uint)(nowNs / 1000) - tsVal;
        long value = delayUs * 1000L;
        int bucket = LogLinearHistogram.BucketIndex(value);
        if (bucket == conn.OwdRunBucket && conn.OwdRunCount is > 0 and < int.MaxValue)
        {
            conn.OwdRunCount++;
            conn.OwdRunSum += value;
            conn.OwdRunMax = Math.Max(conn.OwdRunMax, value);
            return;
        }
        // One per flow: buckets made as delays come (a few octaves), not the 2.8 KB of every bucket up to 67 ms.
        conn.OneWayDelay ??= conn.Stats.OneWayDelay = new LogLinearHistogram(preallocateNs: 0);
        conn.FlushOneWayDelay();
        conn.OwdRunBucket = bucket;
        conn.OwdRunCount = 1;
        conn.OwdRunSum = value;
        conn.OwdRunMax = value;
    }
}
