using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Net;

/// <summary>
/// What one hop of a packet reads and writes of a link, in one 128-byte record of the network's
/// <see cref="LinkTable"/> (two cache lines, 128-byte aligned): the transmitter, the queue's length and integral, the
/// counters <see cref="LinkStats"/> shows, and for a plain drop-tail FIFO the FIFO itself (its packets linked through
/// <see cref="PacketPool.NextQueued"/>). With 10,000 flows the links' objects (the link, its stats, its queue and
/// its ring) were four or five cache misses a hop; a record indexed by link id is one pair of lines.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Bytes)]
internal struct LinkState
{
    public const int Bytes = 128;

    /// <summary>A transmission-complete event is pending (only while packets wait behind the one on the wire).</summary>
    public const int TxPending = 1;

    /// <summary>The queue is a <see cref="DropTailQueue"/> whose FIFO is this record (<see cref="QueueDiscipline"/> reads it).</summary>
    public const int Fifo = 2;

    /// <summary>
    /// Something needs the <see cref="Link"/> object on every packet: a tap, a recorder, a loss model that may draw,
    /// or a delivery trace.
    /// </summary>
    public const int Observed = 4;

    /// <summary>
    /// The link records queueing delays (<see cref="Link.RecordQueueDelay"/>): a plain link reaches its histogram
    /// through the link object at each departure, and stays plain, since the links a run reports on are its busiest.
    /// </summary>
    public const int DelayRecorded = 8;

    // First line: the transmitter and the queue's time integral, which every hop updates.
    public long BusyUntil;
    public long LastDeliveryNs;
    public long LastQueueChange;
    public double QueueIntegral;
    public long DelayNs;
    public long SerializationNs;
    public long RateBps;
    public int LastSize;
    public int Flags;

    // Second line: the queue's occupancy and the counters.
    public long QueueBytes;
    public long PacketsArrived;
    public long PacketsSent;
    public long BytesSent;
    public long BusyNs;
    public long LimitBytes;
    public int QueueLength;
    public int MaxQueuePackets;
    public int LimitPackets;

    /// <summary>
    /// The last packet of a <see cref="Fifo"/> queue; the queued packets form a ring through
    /// <see cref="PacketPool.NextQueued"/>, so the tail's next is the head.
    /// </summary>
    public int FifoTail;

    /// <summary>
    /// The serialisation time of <paramref name="bytes"/> at <see cref="RateBps"/> (ns, rounded up). One direction of a
    /// link carries nearly always one packet size (data one way, ACKs the other), so the last size's time is kept:
    /// the 64-bit division was the most expensive instruction of forwarding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Serialization(int bytes)
    {
        if (bytes != LastSize)
        {
            SerializationNs = (bytes * 8_000_000_000L + RateBps - 1) / RateBps;
            LastSize = bytes;
        }
        return SerializationNs;
    }

    /// <summary>Folds the queue length (<paramref name="length"/> packets since the last change) into the time integral.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Account(int length, long now)
    {
        QueueIntegral += (double)length * (now - LastQueueChange);
        LastQueueChange = now;
    }

    /// <summary>Whether a <see cref="Fifo"/> queue takes a packet of <paramref name="size"/> bytes (drop-tail's limits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool FifoAdmits(int size) =>
        !((LimitPackets > 0 && QueueLength >= LimitPackets) || (LimitBytes > 0 && QueueBytes + size > LimitBytes));

    /// <summary>Appends packet <paramref name="index"/> of <paramref name="size"/> bytes to a <see cref="Fifo"/> queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FifoPush(PacketPool pool, int index, int size)
    {
        if (QueueLength == 0)
        {
            pool.NextQueued(index) = index;
        }
        else
        {
            ref int tailNext = ref pool.NextQueued(FifoTail); // the head
            pool.NextQueued(index) = tailNext;
            tailNext = index;
        }
        FifoTail = index;
        QueueLength++;
        QueueBytes += size;
    }

    /// <summary>Takes the head of a non-empty <see cref="Fifo"/> queue; the caller subtracts its bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FifoPop(PacketPool pool)
    {
        ref int tailNext = ref pool.NextQueued(FifoTail);
        int head = tailNext;
        tailNext = pool.NextQueued(head);
        QueueLength--;
        return head;
    }

    /// <summary>The head of a non-empty <see cref="Fifo"/> queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int FifoHead(PacketPool pool) => pool.NextQueued(FifoTail);

    /// <summary>True if a hop needs neither the link's object nor its queue's: a drop-tail FIFO nothing observes.</summary>
    public readonly bool IsPlain => (Flags & (Fifo | Observed)) == Fifo;
}
