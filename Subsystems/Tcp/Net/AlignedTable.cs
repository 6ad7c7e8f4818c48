using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Records indexed by id in one array on the pinned object heap, each starting on a boundary of its own size (a power
/// of two) (a managed array's first element sits 16 bytes after a line start, so a record would otherwise
/// straddle one line more than it needs). Grows by doubling; records are never removed. What the many-flow runs read
/// per packet of a flow lives in such tables, so a record costs the fewest lines.
/// </summary>
internal abstract unsafe class AlignedTable<T>
    where T : unmanaged
{
    // Records are laid end to end from an aligned start, so each is aligned only if its size is the alignment: a
    // power of two (the spare record that makes room to align the start is then large enough, too).
    private static readonly int Alignment = BitOperations.IsPow2(sizeof(T)) && sizeof(T) >= 16
        ? sizeof(T)
        : throw new InvalidOperationException($"{typeof(T).Name}: an aligned table's record must be a power of two of at least 16 bytes, not {sizeof(T)}");
    private T[] _array = [];
    private T* _items;

    // The array holds one record more than the table (see Grow); it is kept only to keep the records alive.
    private int Capacity => Math.Max(0, _array.Length - 1);

    public int Count { get; private set; }

    /// <summary>The record of <paramref name="id"/>.</summary>
    public ref T this[int id]
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

    /// <summary>Brings record <paramref name="id"/> (its first two lines) into the caches; nothing for an id out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int id)
    {
        if (Sse.IsSupported && (uint)id < (uint)Count)
        {
            byte* record = (byte*)(_items + id);
            Sse.Prefetch0(record);
            if (sizeof(T) > 64)
            {
                Sse.Prefetch0(record + 64);
            }
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
        // One spare record gives room to move the start up to the next boundary; the pinned heap never moves it.
        var array = GC.AllocateArray<T>(capacity + 1, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        var items = (T*)((start + (nuint)Alignment - 1) & ~(nuint)(Alignment - 1));
        if (Count > 0)
        {
            new ReadOnlySpan<T>(_items, Count).CopyTo(new Span<T>(items, capacity));
        }
        _array = array;
        _items = items;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(int id) => throw new ArgumentOutOfRangeException(nameof(id), id, "no such record");
}
