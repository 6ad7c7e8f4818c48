using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): u32 keys, every element exists and
/// starts zeroed, elements are 8-byte aligned, delete is EINVAL.
/// </summary>
public abstract class ArrayMapBase : BpfMap
{
    private readonly byte[] _data;
    private readonly bool _perCpu;
    private readonly int _slot;
    private readonly int _stride;

    private protected ArrayMapBase(BpfSystem system, MapSpec spec, bool perCpu) : base(system, spec)
    {
        _perCpu = perCpu;
        _slot = RoundUp8(ValueSize);
        _stride = perCpu ? _slot * system.Cpus.Count : _slot;
        _data = new byte[checked((long)_stride * spec.MaxEntries)];
    }

    public override int SyscallValueSize => _perCpu ? _stride : ValueSize;

    public override int Count => (int)MaxEntries;

    /// <summary>array_map_alloc_check: the create-time rules for arrays.</summary>
    internal static BpfResult CheckSpec(MapSpec spec, int cpus)
    {
        const MapFlags allowed = MapFlags.NumaNode | MapFlags.Mmapable | MapFlags.RdOnly | MapFlags.WrOnly |
                                 MapFlags.RdOnlyProg | MapFlags.WrOnlyProg | MapFlags.PreserveElems | MapFlags.InnerMap;
        if (spec.MaxEntries == 0 || spec.KeySize != 4 || spec.ValueSize == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "an array needs key_size 4, value_size > 0 and max_entries > 0");
        }
        if ((spec.Flags & ~allowed) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map_flags 0x{(uint)spec.Flags:x} has bits an array does not accept");
        }
        if ((spec.Flags & (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg)) == (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg))
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
        }
        if (spec.Type.IsPerCpu() && (spec.Flags & MapFlags.NumaNode) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_NUMA_NODE is not for per-CPU maps (their values are on every CPU's node)");
        }
        if (spec.Type != MapType.Array && (spec.Flags & (MapFlags.Mmapable | MapFlags.InnerMap)) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for BPF_MAP_TYPE_ARRAY");
        }
        if ((spec.Flags & MapFlags.PreserveElems) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_PRESERVE_ELEMS is only for perf event arrays");
        }
        if (spec.ValueSize > int.MaxValue)
        {
            return BpfResult.Fail(Errno.E2BIG, "value_size exceeds INT_MAX");
        }
        if (spec.Type.IsPerCpu() && RoundUp8((int)Math.Min(spec.ValueSize, int.MaxValue - 8)) > 32 * 1024)
        {
            return BpfResult.Fail(Errno.E2BIG, "per-CPU value_size rounded to 8 bytes exceeds PCPU_MIN_UNIT_SIZE (32 KiB)");
        }
        // array_map_alloc: every element is allocated at create time (bpf_map_area_alloc, ENOMEM when that fails).
        // bpfsim keeps them in one array, which cannot be larger than Array.MaxLength bytes.
        long bytes = (long)RoundUp8((int)spec.ValueSize) * (spec.Type.IsPerCpu() ? cpus : 1) * spec.MaxEntries;
        if (bytes > Array.MaxLength)
        {
            return BpfResult.Fail(Errno.ENOMEM, $"{bytes} bytes of elements is more than bpfsim can allocate for one map");
        }
        return BpfResult.Ok;
    }

    private static readonly BpfResult s_noIndex = BpfResult.Fail(Errno.ENOENT, "index is not below max_entries");
    private static readonly BpfResult s_badFlags = BpfResult.Fail(Errno.EINVAL, "flags must be BPF_ANY, BPF_NOEXIST or BPF_EXIST");
    private static readonly BpfResult s_indexTooBig = BpfResult.Fail(Errno.E2BIG, "index is not below max_entries");
    private static readonly BpfResult s_noExist = BpfResult.Fail(Errno.EEXIST, "array elements always exist, so BPF_NOEXIST fails");
    private static readonly BpfResult s_noSpinLock = BpfResult.Fail(Errno.EINVAL, "BPF_F_LOCK on a value without a bpf_spin_lock");
    private static readonly BpfResult s_noDelete = BpfResult.Fail(Errno.EINVAL, "array elements cannot be deleted");
    private static readonly BpfResult s_last = BpfResult.Fail(Errno.ENOENT, "no index after the last one");

    private Span<byte> Element(uint index) => _data.AsSpan(checked((int)(index * (long)_stride)), _stride);

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            return s_noIndex;
        }
        Element(index)[..value.Length].CopyTo(value);
        return BpfResult.Ok;
    }

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        var r = CheckUpdate(index, flags);
        if (!r.IsOk)
        {
            return r;
        }
        value.CopyTo(Element(index));
        return BpfResult.Ok;
    }

    /// <summary>array_map_update_elem's checks, in its order: unknown flags, the index, BPF_NOEXIST, then BPF_F_LOCK.</summary>
    private BpfResult CheckUpdate(uint index, ulong flags)
    {
        if ((flags & ~UpdateFlags.FLock) > UpdateFlags.Exist)
        {
            return s_badFlags;
        }
        if (index >= MaxEntries)
        {
            return s_indexTooBig;
        }
        if ((flags & UpdateFlags.NoExist) != 0)
        {
            return s_noExist;
        }
        // No value in bpfsim holds a bpf_spin_lock, so BPF_F_LOCK always finds none.
        return (flags & UpdateFlags.FLock) != 0 ? s_noSpinLock : BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key) => s_noDelete;

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        // A NULL key behaves as index U32_MAX: iteration starts at 0 (array_map_get_next_key).
        uint index = key.IsEmpty ? uint.MaxValue : BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(next, 0);
            return BpfResult.Ok;
        }
        if (index == MaxEntries - 1)
        {
            return s_last;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(next, index + 1);
        return BpfResult.Ok;
    }

    private protected override bool ProgLookupLocation(ReadOnlySpan<byte> key, int cpu, out byte[] array, out int offset)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        (array, offset) = (_data, index >= MaxEntries ? 0 : (int)(index * (long)_stride) + (_perCpu ? cpu * _slot : 0));
        return index < MaxEntries;
    }

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            return default;
        }
        return _data.AsSpan((int)(index * (long)_stride) + (_perCpu ? cpu * _slot : 0), ValueSize);
    }

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        var r = CheckUpdate(index, flags);
        if (!r.IsOk)
        {
            return r.Errno;
        }
        value.CopyTo(_data.AsSpan((int)(index * (long)_stride) + (_perCpu ? cpu * _slot : 0), ValueSize));
        return Errno.None;
    }

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => Errno.EINVAL;
}
