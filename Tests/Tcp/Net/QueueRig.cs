using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Drives a queue discipline directly: packets from a pool, enqueue and dequeue at chosen times.</summary>
internal sealed class QueueRig(QueueDiscipline queue)
{
    public PacketPool Pool { get; } = new(64);

    public QueueDiscipline Queue { get; } = queue;

    /// <summary>
    /// Offers a packet of <paramref name="size"/> bytes as the queue counts them (qdisc_pkt_len: a full-size Ethernet
    /// frame is 1514; the packet's IP length is that less <see cref="QueueDiscipline.LinkHeaderBytes"/>), or of
    /// <paramref name="ipBytes"/> IP bytes when given; returns its index, or -1 if it was refused (and freed).
    /// </summary>
    public int Offer(long now, int flow = 0, int size = 1514, EcnCodepoint ecn = EcnCodepoint.NotEct, long tstamp = 0, int? ipBytes = null)
    {
        int p = Pool.Allocate();
        ref var packet = ref Pool[p];
        packet.Flow = flow;
        packet.SizeBytes = ipBytes ?? size - Queue.LinkHeaderBytes;
        packet.Ecn = ecn;
        packet.Tstamp = tstamp;
        packet.Segment.Seq = (uint)p;
        if (Queue.Enqueue(Pool, p, now) == QueueVerdict.Dropped)
        {
            Pool.Free(p);
            return -1;
        }
        return p;
    }

    /// <summary>Dequeues and frees; returns (flow, ecn) of the packet, or null when none.</summary>
    public (int Flow, EcnCodepoint Ecn, long EnqueuedNs)? Take(long now)
    {
        int p = Queue.Dequeue(Pool, now);
        if (p < 0)
        {
            return null;
        }
        var packet = Pool[p];
        Pool.Free(p);
        return (packet.Flow, packet.Ecn, packet.EnqueuedNs);
    }
}
