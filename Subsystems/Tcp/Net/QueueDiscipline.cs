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
    // Made at the first packet (a network runs a plain drop-tail queue's FIFO itself, and this stays empty), then
    // doubled as the queue grows.
    private int[] _ring = [];
    private int _head;
    private int _fifoLength;
    private Network? _network;
    private Link? _link;
    private LinkTable? _fifoTable;
    private int _fifoLink;
    private int _length;
    private long _bytes;
    private long _enqueued;

    /// <summary>Packets queued (not counting the one being transmitted).</summary>
    public int Length
    {
        get => _fifoTable is null ? _length : _fifoTable[_fifoLink].QueueLength;
        protected set => _length = value;
    }

    /// <summary>Bytes queued.</summary>
    public long Bytes
    {
        get => _fifoTable is null ? _bytes : _fifoTable[_fifoLink].QueueBytes;
        protected set => _bytes = value;
    }

    /// <summary>Packets the queue took (arrivals it did not refuse).</summary>
    public long Enqueued
    {
        get => _fifoTable is null ? _enqueued : _fifoTable[_fifoLink].PacketsArrived - Drops;
        protected set => _enqueued = value;
    }

    /// <summary>ETH_HLEN: the Ethernet header a Linux qdisc counts in each packet's length on an Ethernet device.</summary>
    public const int EthernetHeaderBytes = 14;

    /// <summary>
    /// Bytes of link-layer header the queue counts on top of each packet's IP length (<see cref="Packet.SizeBytes"/>):
    /// its byte counts (<see cref="Bytes"/>, backlogs, DRR credit, byte thresholds) use qdisc_pkt_len, which on an
    /// Ethernet device includes the 14-byte header (include/net/sch_generic.h, set by __dev_queue_xmit after the
    /// header is built), as the Ethernet defaults (psched_mtu 1514, include/net/pkt_sched.h) assume. The Linux
    /// qdiscs (codel, fq_codel, pie, fq) set <see cref="EthernetHeaderBytes"/>; drop-tail (mm-link's queue as well as
    /// pfifo/bfifo), RED and the step marker count IP bytes (0). A trace-driven link sets 0: it stands for mm-link's
    /// TUN device, which has no link-layer header. The wire is not affected: a link serialises the IP length.
    /// </summary>
    public int LinkHeaderBytes { get; internal set; }

    /// <summary>qdisc_pkt_len: the length the queue counts for <paramref name="packet"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected int PktLen(in Packet packet) => packet.SizeBytes + LinkHeaderBytes;

    /// <summary>Packets dropped: arrivals refused and packets dropped from the queue.</summary>
    public long Drops { get; protected set; }

    /// <summary>
    /// Packets whose ECN codepoint the queue set to CE, each counted once (a packet CoDel marks twice, for ECN and for
    /// ce_threshold, is one; a packet that arrived CE is none). The kernel's per-reason counters, which count every
    /// successful INET_ECN_set_ce, are the disciplines' own (<see cref="CodelQueue.EcnMarks"/>, <see cref="CodelQueue.CeMarks"/>).
    /// </summary>
    public long Marks { get; protected set; }

    /// <summary>
    /// When <see cref="Dequeue"/> returned -1 although packets are queued (sch_fq holding every flow back for its
    /// pacing), the earliest time one becomes eligible: the link arms a wake-up for it, as fq arms its qdisc watchdog.
    /// <see cref="long.MaxValue"/> when there is nothing to wait for.
    /// </summary>
    public virtual long NextEligibleNs => long.MaxValue;

    /// <summary>Offers packet <paramref name="index"/> to the queue at time <paramref name="now"/> (ns).</summary>
    /// <returns>What became of the packet; on <see cref="QueueVerdict.Dropped"/> the caller still owns (and frees) it.</returns>
    /// <exception cref="InvalidOperationException">The queue is a network link's drop-tail FIFO, which the network runs itself.</exception>
    public virtual QueueVerdict Enqueue(PacketPool pool, int index, long now)
    {
        ThrowIfBound();
        ref var packet = ref pool[index];
        var verdict = Admit(ref packet, now);
        if (verdict == QueueVerdict.Dropped)
        {
            Drops++;
            return verdict;
        }
        if (verdict == QueueVerdict.Marked && packet.Ecn != EcnCodepoint.Ce)
        {
            packet.Ecn = EcnCodepoint.Ce;
            Marks++;
        }
        packet.EnqueuedNs = now;
        PushTail(index);
        _length++;
        _bytes += PktLen(packet);
        _enqueued++;
        return verdict;
    }

    /// <summary>The packet to transmit now, or -1 when none is (the queue is empty, or see <see cref="NextEligibleNs"/>).</summary>
    /// <exception cref="InvalidOperationException">The queue is a network link's drop-tail FIFO, which the network runs itself.</exception>
    public virtual int Dequeue(PacketPool pool, long now)
    {
        ThrowIfBound();
        return DequeueHead(pool, now);
    }

    /// <summary>
    /// What the link does when its wire frees: <see cref="Dequeue"/>, and if that took the last packet, one more
    /// dequeue of the now empty queue, as Linux's __qdisc_run loop does (net/sched/sch_generic.c: qdisc_restart is
    /// called again after each packet sent and stops only when dequeue returns NULL). Only disciplines whose empty
    /// dequeue changes their state (<see cref="DequeuesWhenEmpty"/>) are asked again.
    /// </summary>
    /// <returns>The packet to transmit now, or -1 when none is (as <see cref="Dequeue"/>).</returns>
    /// <exception cref="InvalidOperationException">The queue is a network link's drop-tail FIFO, which the network runs itself.</exception>
    public int DequeueToTransmit(PacketPool pool, long now)
    {
        int packet = Dequeue(pool, now);
        if (packet >= 0 && DequeuesWhenEmpty && Length == 0)
        {
            Dequeue(pool, now); // returns -1: the queue is empty
        }
        return packet;
    }

    /// <summary>
    /// True for a discipline whose <see cref="Dequeue"/> of an empty queue changes its state (fq_codel unlinks its
    /// emptied flows; CoDel leaves the dropping state), so <see cref="DequeueToTransmit"/> runs it.
    /// </summary>
    protected bool DequeuesWhenEmpty { get; init; }

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
        _length--;
        _bytes -= PktLen(pool[index]);
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
    /// Hands the FIFO of a plain drop-tail queue to its link's record in <paramref name="table"/>: the network queues
    /// and dequeues there without touching this object (<see cref="LinkState.Fifo"/>), and <see cref="Length"/>,
    /// <see cref="Bytes"/> and <see cref="Enqueued"/> read the record. Only for an empty queue that never held a packet.
    /// </summary>
    internal void BindFifo(LinkTable table, int link, int limitPackets, long limitBytes)
    {
        ref var s = ref table[link];
        s.Flags |= LinkState.Fifo;
        s.LimitPackets = limitPackets;
        s.LimitBytes = limitBytes;
        _fifoTable = table;
        _fifoLink = link;
    }

    /// <summary>Counts an arrival the network's FIFO for this queue refused.</summary>
    internal void CountFifoDrop() => Drops++;

    private void ThrowIfBound()
    {
        if (_fifoTable is not null)
        {
            throw new InvalidOperationException("this queue's FIFO is run by its link's network");
        }
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
    /// INET_ECN_set_ce (include/net/inet_ecn.h) on a packet the queue holds: ECT(0)/ECT(1) become CE, which is
    /// counted in <see cref="Marks"/> and traced as a mark; true if the packet is (now) CE, as the kernel's return.
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
            Marks++;
            _network?.Tracer?.Queue(now, _link!, in packet, TcpQueueEvent.Mark);
        }
        return true;
    }

    /// <summary>Counts a packet a subclass stored in its own structures.</summary>
    protected void CountEnqueued(in Packet packet)
    {
        _length++;
        _bytes += PktLen(packet);
        _enqueued++;
    }

    /// <summary>Uncounts a packet a subclass took from its own structures.</summary>
    protected void CountDequeued(in Packet packet)
    {
        _length--;
        _bytes -= PktLen(packet);
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
        var bigger = new int[Math.Max(16, _ring.Length * 2)];
        for (int i = 0; i < _fifoLength; i++)
        {
            bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }
        _ring = bigger;
        _head = 0;
    }
}
