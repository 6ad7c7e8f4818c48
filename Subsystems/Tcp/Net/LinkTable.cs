using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The <see cref="LinkState"/> of every link of a network, indexed by link id, in one array on the pinned object
/// heap whose records start on 128-byte boundaries (a managed array's first element sits 16 bytes after a line
/// start, so a record would otherwise straddle three lines). Grows by doubling; links are never removed.
/// </summary>
internal sealed unsafe class LinkTable
{
    private LinkState[] _array = [];
    private LinkState* _items;

    // The array holds one record more than the table (see Grow); it is kept only to keep the records alive.
    private int Capacity => Math.Max(0, _array.Length - 1);

    public int Count { get; private set; }

    /// <summary>The record of link <paramref name="id"/>.</summary>
    public ref LinkState this[int id]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)id >= (uint)Count)
            {
                ThrowOutOfRange(id);
            }
            return ref _items[id];
        }
    }

    /// <summary>Brings link <paramref name="id"/>'s record (two lines) into the caches; nothing for an id out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int id)
    {
        if (Sse.IsSupported && (uint)id < (uint)Count)
        {
            byte* record = (byte*)(_items + id);
            Sse.Prefetch0(record);
            Sse.Prefetch0(record + 64);
        }
    }

    /// <summary>Adds a zeroed record and returns its id.</summary>
    public int Add()
    {
        if (Count == Capacity)
        {
            Grow(Math.Max(16, Capacity * 2));
        }
        _items[Count] = default;
        return Count++;
    }

    private void Grow(int capacity)
    {
        // One spare record gives room to move the start up to the next 128-byte boundary; the pinned heap never moves it.
        var array = GC.AllocateArray<LinkState>(capacity + 1, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        var items = (LinkState*)((start + LinkState.Bytes - 1) & ~(nuint)(LinkState.Bytes - 1));
        if (Count > 0)
        {
            new ReadOnlySpan<LinkState>(_items, Count).CopyTo(new Span<LinkState>(items, capacity));
        }
        _array = array;
        _items = items;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(int id) => throw new ArgumentOutOfRangeException(nameof(id), id, "no such link");
}
