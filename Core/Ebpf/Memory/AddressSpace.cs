namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// The memory a BPF program sees: a table of regions (its stack frames, the context, map values, global-data
/// sections, kernel objects), each reached through addresses <c>Base + (handle &lt;&lt; 32) + offset</c>. Addresses
/// are never host pointers, so a run computes the same values on every machine, and an address that decodes to no
/// region, or past a region's end, is a fault rather than a stray access.
/// </summary>
/// <remarks>
/// <para>Handles 1 to 8 are the stack frames (MAX_CALL_FRAMES, include/linux/bpf_verifier.h), 512 bytes each
/// (MAX_BPF_STACK, include/linux/filter.h). Regions are backed by byte arrays (persistent: maps, sections) or by a
/// span bound for one call through <see cref="Vm.RunContext.Bind"/> (call-scoped: the socket a hook runs on).
/// Regions a helper creates during a run (<see cref="MapTransient"/>) vanish when the run ends.</para>
/// <para>One run at a time: an address space is not thread-safe, and its stack belongs to the running program.</para>
/// </remarks>
public sealed class AddressSpace
{
    /// <summary>
    /// The address of region 0, offset 0. Regions sit above it, in the x86-64 direct map's range, so their addresses
    /// read like kernel pointers and no small integer (NULL above all) is ever one.
    /// </summary>
    public const ulong Base = 0xffff_8880_0000_0000;

    /// <summary>MAX_CALL_FRAMES: the deepest chain of bpf-to-bpf calls, the program's own frame included.</summary>
    public const int MaxCallFrames = 8;

    /// <summary>MAX_BPF_STACK: the bytes of one stack frame.</summary>
    public const int StackSize = 512;

    /// <summary>The most regions a space holds (addresses of higher handles would wrap past 2^64).</summary>
    public const int MaxRegions = 0x7000;

    /// <summary>How many call-scoped regions a space can have (spans an <see cref="Vm.RunContext"/> holds).</summary>
    public const int CallScopedSlots = 4;

    private const int FirstFree = 1 + MaxCallFrames;

    private readonly byte[] _stack = new byte[MaxCallFrames * StackSize];
    private Region[] _regions = new Region[32];
    private int _count;
    private int _persistentCount;
    private int _slotsUsed;
    private bool _running;

    /// <summary>Creates a space holding only the stack frames.</summary>
    public AddressSpace()
    {
        _regions[0] = Dead();
        for (int i = 0; i < MaxCallFrames; i++)
        {
            _regions[1 + i] = new Region
            {
                Array = _stack,
                Start = i * StackSize,
                Length = StackSize,
                Slot = -1,
                Kind = RegionKind.Stack,
                Access = MemoryAccess.ReadWrite,
                FastAccess = MemoryAccess.ReadWrite,
                Name = $"stack frame {i}",
            };
        }
        _count = _persistentCount = FirstFree;
    }

    /// <summary>The number of region table entries in use, the stack frames and unmapped holes included.</summary>
    public int RegionCount => _count;

    /// <summary>Whether a program is running on this space.</summary>
    public bool IsRunning => _running;

    internal Region[] Regions => _regions;

    internal int Count => _count;

    /// <summary>Maps the whole of <paramref name="backing"/> as a region.</summary>
    /// <inheritdoc cref="Map(byte[], int, int, RegionKind, MemoryAccess, string, WriteFilter?)"/>
    public RegionHandle Map(byte[] backing, RegionKind kind, MemoryAccess access, string name, WriteFilter? filter = null)
        => Map(backing, 0, backing?.Length ?? 0, kind, access, name, filter);

    /// <summary>
    /// Maps <paramref name="length"/> bytes of <paramref name="backing"/> from <paramref name="start"/> as a region
    /// that lasts until <see cref="Unmap"/>. Takes the lowest free handle, so the same sequence of calls gives the
    /// same addresses.
    /// </summary>
    /// <param name="filter">Checks every store, e.g. the members of tcp_sock a congestion-control program may write.</param>
    /// <returns>The region's handle.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the array.</exception>
    /// <exception cref="InvalidOperationException">A program is running, or the table is full.</exception>
    public RegionHandle Map(byte[] backing, int start, int length, RegionKind kind, MemoryAccess access, string name,
        WriteFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(backing);
        CheckRange(backing, start, length);
        ThrowIfRunning();
        int handle = FindFree();
        _regions[handle] = Entry(backing, start, length, -1, kind, access, name, filter);
        return new RegionHandle(handle);
    }

    /// <summary>
    /// Maps a region whose bytes are a span bound for each call (<see cref="Vm.RunContext.Bind"/>): memory
    /// that lives elsewhere, such as a socket struct in the stack's arrays, reached without copying or pinning.
    /// Until a span is bound, any access to it faults.
    /// </summary>
    /// <returns>The region's handle.</returns>
    /// <exception cref="InvalidOperationException">A program is running, or all <see cref="CallScopedSlots"/> are taken.</exception>
    public RegionHandle MapCallScoped(RegionKind kind, MemoryAccess access, string name, WriteFilter? filter = null)
    {
        ThrowIfRunning();
        if (_slotsUsed == CallScopedSlots)
        {
            throw new InvalidOperationException($"an address space has at most {CallScopedSlots} call-scoped regions");
        }
        int handle = FindFree();
        _regions[handle] = Entry(null, 0, 0, _slotsUsed++, kind, access, name, filter);
        return new RegionHandle(handle);
    }

    /// <summary>
    /// Maps a region for the rest of the current run, e.g. the value a map lookup returns. Allocates nothing once the
    /// table has grown to the run's needs.
    /// </summary>
    /// <returns>The region's handle, valid until the run ends.</returns>
    /// <exception cref="InvalidOperationException">No program is running, or the table is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the array.</exception>
    public RegionHandle MapTransient(byte[] backing, int start, int length, RegionKind kind, MemoryAccess access, string name)
    {
        ArgumentNullException.ThrowIfNull(backing);
        CheckRange(backing, start, length);
        if (!_running)
        {
            throw new InvalidOperationException("transient regions exist only while a program runs");
        }
        // The same memory asked for again (a lookup in a loop) gets the region it already has, so a long run's
        // lookups cannot fill the table.
        for (int i = _persistentCount; i < _count; i++)
        {
            ref var r = ref _regions[i];
            if (ReferenceEquals(r.Array, backing) && r.Start == start && r.Length == length && r.Access == access && r.Kind == kind)
            {
                return new RegionHandle(i);
            }
        }
        int handle = Append();
        _regions[handle] = Entry(backing, start, length, -1, kind, access, name, null);
        return new RegionHandle(handle);
    }

    /// <summary>Unmaps a region: its addresses fault from now on, and its handle may be reused.</summary>
    /// <exception cref="ArgumentException">The handle is a stack frame or not a mapped region.</exception>
    /// <exception cref="InvalidOperationException">A program is running.</exception>
    public void Unmap(RegionHandle region)
    {
        ThrowIfRunning();
        if (region.Value < FirstFree || region.Value >= _count || _regions[region.Value].Access == MemoryAccess.None)
        {
            throw new ArgumentException($"region {region.Value} is not a mapped region", nameof(region));
        }
        if (_regions[region.Value].Slot >= 0)
        {
            // Slots are handed out in order; only the last one can be given back without renumbering the others.
            if (_regions[region.Value].Slot != _slotsUsed - 1)
            {
                throw new ArgumentException("call-scoped regions are unmapped in reverse order", nameof(region));
            }
            _slotsUsed--;
        }
        _regions[region.Value] = Dead();
    }

    /// <summary>The address of a byte of a region: <c>Base + (handle &lt;&lt; 32) + offset</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The handle is not below <see cref="MaxRegions"/>.</exception>
    public static ulong AddressOf(RegionHandle region, int offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(region.Value, nameof(region));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(region.Value, MaxRegions, nameof(region));
        return Base + ((ulong)(uint)region.Value << 32) + (ulong)(long)offset;
    }

    /// <summary>The region of a stack frame: depth 0 is the program's own, 1 its first callee's, and so on.</summary>
    /// <exception cref="ArgumentOutOfRangeException">depth is not below <see cref="MaxCallFrames"/>.</exception>
    public static RegionHandle Frame(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(depth, MaxCallFrames);
        return new RegionHandle(1 + depth);
    }

    /// <summary>R10 in a frame: the address just past its top (stack slots are at negative offsets from it).</summary>
    public static ulong FramePointer(int depth) => AddressOf(Frame(depth), StackSize);

    /// <summary>Splits an address into a mapped region and an offset within it.</summary>
    /// <returns>false if the address is in no mapped region (it may still be past the end of one).</returns>
    public bool TryTranslate(ulong address, out RegionHandle region, out int offset)
    {
        ulong relative = address - Base;
        uint handle = (uint)(relative >> 32);
        region = default;
        offset = 0;
        if (handle == 0 || handle >= (uint)_count || _regions[handle].Access == MemoryAccess.None)
        {
            return false;
        }
        region = new RegionHandle((int)handle);
        offset = (int)(uint)relative;
        return true;
    }

    /// <summary>The name a region was mapped with.</summary>
    /// <returns>The name, or null if the handle is not mapped.</returns>
    public string? NameOf(RegionHandle region)
        => region.Value > 0 && region.Value < _count && _regions[region.Value].Access != MemoryAccess.None
            ? _regions[region.Value].Name
            : null;

    /// <summary>Starts a run: the stack becomes the program's.</summary>
    internal void Enter()
    {
        if (_running)
        {
            throw new InvalidOperationException("this address space is already running a program (runs do not nest)");
        }
        _running = true;
    }

    /// <summary>Ends a run: transient regions go.</summary>
    internal void Leave()
    {
        for (int i = _persistentCount; i < _count; i++)
        {
            _regions[i] = default;
        }
        _count = _persistentCount;
        _running = false;
    }

    /// <summary>Zeroes a stack frame, so a run never sees what an earlier one left (bytes the verifier would call uninitialized).</summary>
    internal void ClearFrame(int depth) => _stack.AsSpan(depth * StackSize, StackSize).Clear();

    private int FindFree()
    {
        for (int i = FirstFree; i < _count; i++)
        {
            if (_regions[i].Access == MemoryAccess.None)
            {
                return i;
            }
        }
        int handle = Append();
        _persistentCount = _count;
        return handle;
    }

    private int Append()
    {
        if (_count == MaxRegions)
        {
            throw new InvalidOperationException($"an address space holds at most {MaxRegions} regions");
        }
        if (_count == _regions.Length)
        {
            Array.Resize(ref _regions, Math.Min(_regions.Length * 2, MaxRegions));
        }
        return _count++;
    }

    private void ThrowIfRunning()
    {
        if (_running)
        {
            throw new InvalidOperationException("regions other than transient ones cannot change while a program runs");
        }
    }

    private static void CheckRange(byte[] backing, int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, backing.Length - start, nameof(length));
    }

    private static Region Entry(byte[]? array, int start, int length, int slot, RegionKind kind, MemoryAccess access,
        string name, WriteFilter? filter)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new Region
        {
            Array = array,
            Start = start,
            Length = length,
            Slot = slot,
            Kind = kind,
            Access = access,
            FastAccess = filter is null ? access : access & ~MemoryAccess.Write,
            Filter = filter,
            Name = name,
        };
    }

    private static Region Dead() => new() { Slot = -1, Name = "" };
}
