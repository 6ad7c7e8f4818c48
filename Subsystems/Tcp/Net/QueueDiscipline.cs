using System.Runtime.CompilerServices;

namespace BpfSim.Tcp.Net;

/// <summary>
/// A FIFO of packet indices (a ring buffer that grows, never shrinks) and the policy that admits, marks or drops
/// arriving packets. Subclasses decide admission in <see cref="Admit"/>; counting and storage live here.
/// </summary>
public abstract class QueueDiscipline
{
    private int[] _ring = new int[64];
    private int _head;

    /// <summary>Packets queued (not counting the one being transmitted).</summary>
    public int Length { get; private set; }

    /// <summary>Bytes queued.</summary>
    public long Bytes { get; private set; }

    public long Enqueued { get; private set; }
    public long Drops { get; private set; }
    public long Marks { get; private set; }

    /// <summary>Offers packet <paramref name="index"/> to the queue at time <paramref name="now"/> (ns).</summary>
    public QueueVerdict Enqueue(PacketPool pool, int index, long now)
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
        if (Length == _ring.Length)
        {
            Grow();
        }
        _ring[(_head + Length) & (_ring.Length - 1)] = index;
        Length++;
        Bytes += packet.SizeBytes;
        Enqueued++;
        return verdict;
    }

    /// <summary>The packet at the head, or -1 when empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Dequeue(PacketPool pool, long now)
    {
        if (Length == 0)
        {
            return -1;
        }
        int index = _ring[_head];
        _head = (_head + 1) & (_ring.Length - 1);
        Length--;
        Bytes -= pool[index].SizeBytes;
        if (Length == 0)
        {
            OnEmpty(now);
        }
        return index;
    }

    /// <summary>Decides what happens to an arriving packet, given the queue as it is before it joins.</summary>
    protected abstract QueueVerdict Admit(ref Packet packet, long now);

    /// <summary>The queue just became empty (RED starts its idle period here).</summary>
    protected virtual void OnEmpty(long now)
    {
    }

    /// <summary>True if an ECN-capable packet may be marked instead of dropped.</summary>
    protected static bool IsEcnCapable(in Packet packet) => packet.Ecn != EcnCodepoint.NotEct;

    private void Grow()
    {
        var bigger = new int[_ring.Length * 2];
        for (int i = 0; i < Length; i++)
        {
            bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }
        _ring = bigger;
        _head = 0;
    }
}
