namespace BpfSim.Tcp.Net;

/// <summary>A FIFO that drops arrivals once it holds <c>limit</c> packets (or would exceed <c>limit_bytes</c>).</summary>
public sealed class DropTailQueue : QueueDiscipline
{
    /// <param name="limitPackets">Packets the queue holds at most (0 = no packet limit).</param>
    /// <param name="limitBytes">Bytes the queue holds at most (0 = no byte limit).</param>
    /// <exception cref="ArgumentOutOfRangeException">Both limits are 0, or one is negative.</exception>
    public DropTailQueue(int limitPackets, long limitBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limitPackets);
        ArgumentOutOfRangeException.ThrowIfNegative(limitBytes);
        if (limitPackets == 0 && limitBytes == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limitPackets), "a drop-tail queue needs a packet or byte limit");
        }
        LimitPackets = limitPackets;
        LimitBytes = limitBytes;
    }

    public int LimitPackets { get; }
    public long LimitBytes { get; }

    protected override QueueVerdict Admit(ref Packet packet, long now) =>
        (LimitPackets > 0 && Length >= LimitPackets) || (LimitBytes > 0 && Bytes + packet.SizeBytes > LimitBytes)
            ? QueueVerdict.Dropped
            : QueueVerdict.Enqueued;
}
