using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Packets as structs in one array, handed out by index from a free list: no allocation per packet once the pool
/// has grown to the number in flight. A freed index is reused first (LIFO), which keeps the working set warm.
/// </summary>
/// <remarks>
/// The array is on the pinned object heap and the packets start on a 64-byte boundary within it (a managed array's
/// first element sits 16 bytes after one), so each 64-byte packet is one cache line rather than parts of two.
/// </remarks>
public sealed unsafe class PacketPool
{
    private Packet[] _array;
    private Packet* _packets;
    private int _capacity;
    private SackBlocks[] _sacks;
    private int[] _nextQueued;
    private int _free = -1;
    private int _used;

    public PacketPool(int initialCapacity = 1024)
    {
        _capacity = Math.Max(initialCapacity, 16);
        _array = AllocateAligned(_capacity, out _packets);
        _sacks = new SackBlocks[_capacity];
        _nextQueued = new int[_capacity];
    }

    /// <summary>Packets currently allocated.</summary>
    public int InUse { get; private set; }

    /// <summary>The largest number in use at once so far.</summary>
    public int Peak { get; private set; }

    /// <summary>Slots the pool holds (allocated or free).</summary>
    public int Capacity => _capacity;

    /// <summary>The packet at <paramref name="index"/>.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is not a slot of the pool.</exception>
    public ref Packet this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)_capacity)
            {
                ThrowIndex();
            }
            return ref _packets[index];
        }
    }

    /// <summary>
    /// The SACK blocks of the packet at <paramref name="index"/>: its segment's <see cref="TcpSegment.SackCount"/> of
    /// them are its; the rest are left from earlier packets (an allocation does not clear them).
    /// </summary>
    public ref SackBlocks SacksOf(int index) => ref _sacks[index];

    /// <summary>
    /// The packet after <paramref name="index"/> in the drop-tail FIFO it waits in (<see cref="LinkState.FifoPush"/>):
    /// beside the pool rather than in the packet, 4 bytes a packet, so the links of all queued packets stay in a few
    /// cache lines. Meaningless while the packet is in no such FIFO.
    /// </summary>
    internal ref int NextQueued(int index) => ref _nextQueued[index];

    /// <summary>
    /// Asks the CPU to bring packet <paramref name="index"/> into the caches (a hint, nothing else): a queue whose head
    /// changed fetches the new head while other events run, before its transmission needs it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe void Prefetch(int index)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(_packets + index);
        }
    }

    /// <summary>A zeroed packet's index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Allocate()
    {
        int index;
        if (_free >= 0)
        {
            index = _free;
            _free = _packets[index].Flow;
        }
        else
        {
            if (_used == _capacity)
            {
                Grow();
            }
            index = _used++;
        }
        _packets[index] = default;
        if (++InUse > Peak)
        {
            Peak = InUse;
        }
        return index;
    }

    /// <summary>Returns <paramref name="index"/> to the pool.</summary>
    /// <exception cref="InvalidOperationException">The packet is already free (a double free).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(int index)
    {
        ref var p = ref _packets[index];
        if (p.IsFree != 0)
        {
            ThrowDoubleFree(index);
        }
        p.IsFree = 1;
        p.Flow = _free;
        _free = index;
        InUse--;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        int capacity = _capacity * 2;
        var array = AllocateAligned(capacity, out var packets);
        new ReadOnlySpan<Packet>(_packets, _capacity).CopyTo(new Span<Packet>(packets, capacity));
        _array = array;
        _packets = packets;
        _capacity = capacity;
        Array.Resize(ref _sacks, capacity);
        Array.Resize(ref _nextQueued, capacity);
    }

    /// <summary>A pinned array of <paramref name="capacity"/> packets and one more, and where in it the first packet on a line boundary is.</summary>
    private static Packet[] AllocateAligned(int capacity, out Packet* first)
    {
        var array = GC.AllocateArray<Packet>(capacity + 1, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        first = (Packet*)((start + 63) & ~(nuint)63);
        return array;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIndex() => throw new IndexOutOfRangeException();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDoubleFree(int index) => throw new InvalidOperationException($"packet {index} freed twice");
}
