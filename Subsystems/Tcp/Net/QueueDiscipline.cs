using System.Runtime.CompilerServices;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Net;

/// <summary>
/// A link's queueing discipline. By default a FIFO of packet indices (a ring buffer that grows, never shrinks) with
/// the policy that admits, marks or drops arriving packets in <see cref="Admit"/>; disciplines with their own
/// storage (per-flow queues: <see cref="FqCodelQueue"/>, <see cref="FqQueue"/>) override <see cref="Enqueue"/> and
/// <see cref="Dequeue"/>. A discipline may drop or mark packets it already holds (CoDel at dequeue, fq_codel's
/// batch drop): it frees them to the pool itself and counts them in <see cref="Drops"/> and <see cref="Marks"/>.
/// </summary>
public abstract class QueueDiscipline
{
    // Doubled as the queue grows: a dumbbell's access links (four per flow) rarely hold more than a few packets.
    private int[] _ring = new int[16];
    private int _head;
    private int _fifoLength;
    private Network? _network;
    private Link? _link;

    /// <summary>Packets queued (not counting the one being transmitted).</summary>
    public int Length { get; protected set; }

    /// <summary>Bytes queued.</summary>
    public long Bytes { get; protected set; }

    public long Enqueued { get; protected set; }

    /// <summary>Packets dropped: arrivals refused and packets dropped from the queue.</summary>
    public long Drops { get; protected set; }

    /// <summary>Packets whose ECN codepoint the queue set to CE.</summary>
    public long Marks { get; protected set; }

    /// <summary>
    /// When <see cref="Dequeue"/> returned -1 although packets are queued (sch_fq holding every flow back for its
    /// pacing), the earliest time one becomes eligible: the link arms a wake-up for it, as fq arms its qdisc watchdog.
    /// <see cref="long.MaxValue"/> when there is nothing to wait for.
    /// </summary>
    public virtual long NextEligibleNs => long.MaxValue;

    /// <summary>Offers packet <paramref name="index"/> to the queue at time <paramref name="now"/> (ns).</summary>
    /// <returns>What became of the packet; on <see cref="QueueVerdict.Dropped"/> the caller still owns (and frees) it.</returns>
    public virtual QueueVerdict Enqueue(PacketPool pool, int index, long now)
    {
        ref var packet = ref pool[index];
        var verdict = Admit(ref packet, now);
        if (verdict == QueueVerdict.Dropped)
        {
            Drops++;
            return verdict;
        }
        if (verdict == QueueVerdict.Marked)
        {
            packet.Ecn = EcnCodepoint.Ce;
            Marks++;
        }
        packet.EnqueuedNs = now;
        PushTail(index);
        Length++;
        Bytes += packet.SizeBytes;
        Enqueued++;
        return verdict;
    }

    /// <summary>The packet to transmit now, or -1 when none is (the queue is empty, or see <see cref="NextEligibleNs"/>).</summary>
    public virtual int Dequeue(PacketPool pool, long now) => DequeueHead(pool, now);

    /// <summary>Decides what happens to an arriving packet, given the queue as it is before it joins.</summary>
    protected virtual QueueVerdict Admit(ref Packet packet, long now) => QueueVerdict.Enqueued;

    /// <summary>The FIFO just became empty (RED starts its idle period here).</summary>
    protected virtual void OnEmpty(long now)
    {
    }

    /// <summary>Takes the FIFO's head, or -1 when it is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected int DequeueHead(PacketPool pool, long now)
    {
        if (_fifoLength == 0)
        {
            return -1;
        }
        int index = _ring[_head];
        _head = (_head + 1) & (_ring.Length - 1);
        _fifoLength--;
        Length--;
        Bytes -= pool[index].SizeBytes;
        if (_fifoLength == 0)
        {
            OnEmpty(now);
        }
        return index;
    }

    /// <summary>Packets in the FIFO (a discipline with its own storage may keep some there too: fq's internal queue).</summary>
    protected int FifoLength => _fifoLength;

    /// <summary>Appends to the FIFO and counts the packet, bypassing <see cref="Admit"/>.</summary>
    protected void EnqueueFifo(ref Packet packet, int index, long now)
    {
        packet.EnqueuedNs = now;
        PushTail(index);
        CountEnqueued(packet);
    }

    /// <summary>The link the queue belongs to, whose network's tracer sees what the queue drops or marks itself.</summary>
    internal void Attach(Network network, Link link)
    {
        _network = network;
        _link = link;
    }

    /// <summary>
    /// Drops a packet the queue held and has already taken out of its storage (CoDel at dequeue, fq_codel's batch
    /// drop): counted, traced as a queue drop, logged as a drop in the link's mm-link log, and freed. Arrivals refused are traced by the network.
    /// </summary>
    protected void DropTaken(PacketPool pool, int index, long now)
    {
        Drops++;
        _network?.Tracer?.Queue(now, _link!, in pool[index], TcpQueueEvent.Drop);
        _link?.Recorder?.Drop(_link, in pool[index], now); // an mm-link log's `d` line, as for a refused arrival
        pool.Free(index);
    }

    /// <summary>
    /// INET_ECN_set_ce (include/net/inet_ecn.h) on a packet the queue holds: ECT(0)/ECT(1) become CE; true if the
    /// packet is (now) CE, which is counted and traced as a mark.
    /// </summary>
    protected bool TrySetCe(ref Packet packet, long now)
    {
        if (packet.Ecn == EcnCodepoint.NotEct)
        {
            return false;
        }
        if (packet.Ecn != EcnCodepoint.Ce)
        {
            packet.Ecn = EcnCodepoint.Ce;
        }
        Marks++;
        _network?.Tracer?.Queue(now, _link!, in packet, TcpQueueEvent.Mark);
        return true;
    }

    /// <summary>Counts a packet a subclass stored in its own structures.</summary>
    protected void CountEnqueued(in Packet packet)
    {
        Length++;
        Bytes += packet.SizeBytes;
        Enqueued++;
    }

    /// <summary>Uncounts a packet a subclass took from its own structures.</summary>
    protected void CountDequeued(in Packet packet)
    {
        Length--;
        Bytes -= packet.SizeBytes;
    }

    /// <summary>Counts an arrival the subclass refused (the caller frees it).</summary>
    protected void CountRefused() => Drops++;

    /// <summary>True if an ECN-capable packet may be marked instead of dropped.</summary>
    protected static bool IsEcnCapable(in Packet packet) => packet.Ecn != EcnCodepoint.NotEct;

    private void PushTail(int index)
    {
        if (_fifoLength == _ring.Length)
        {
            Grow();
        }
        _ring[(_head + _fifoLength) & (_ring.Length - 1)] = index;
        _fifoLength++;
    }

    private void Grow()
    {
        var bigger = new int[_ring.Length * 2];
        for (int i = 0; i < _fifoLength; i++)
        {
            bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }
        _ring = bigger;
        _head = 0;
    }
}
