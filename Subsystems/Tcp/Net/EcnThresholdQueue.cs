namespace BpfSim.Tcp.Net;

/// <summary>
/// DCTCP-style step marking: an ECN-capable packet arriving to find at least <c>K</c> packets queued is marked CE;
/// anything arriving to a full queue is dropped (Alizadeh et al., "Data Center TCP", SIGCOMM 2010, §3.1).
/// </summary>
public sealed class EcnThresholdQueue : QueueDiscipline
{
    /// <exception cref="ArgumentOutOfRangeException">K is not positive, or the limit is below K.</exception>
    public EcnThresholdQueue(int k, int limitPackets)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPackets, k);
        K = k;
        LimitPackets = limitPackets;
    }

    public int K { get; }
    public int LimitPackets { get; }

    protected override QueueVerdict Admit(ref Packet packet, long now)
    {
        if (Length >= LimitPackets)
        {
            return QueueVerdict.Dropped;
        }
        return Length >= K && IsEcnCapable(packet) ? QueueVerdict.Marked : QueueVerdict.Enqueued;
    }
}
