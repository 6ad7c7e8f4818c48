using System.Numerics;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c). Per-CPU values are stored as the syscall
/// sees them, one 8-byte-aligned slot per possible CPU, so user-space copies are a single block copy.
/// </summary>
public abstract class HashMapBase : BpfMap
{
    private readonly HashTable _table;
    private readonly bool _perCpu;
    private readonly int _slot;
    private readonly int _cpus;

    private protected HashMapBase(BpfSystem system, MapSpec spec, bool perCpu) : base(system, spec)
    {
        _perCpu = perCpu;
        _cpus = system.Cpus.Count;
        _slot = RoundUp8(ValueSize);
        _table = new HashTable(KeySize, perCpu ? _slot * _cpus : ValueSize, (int)spec.MaxEntries);
    }

    public override int SyscallValueSize => _perCpu ? _slot * _cpus : ValueSize;

    public override int Count => _table.Count;

    /// <summary>The most buckets whose array (16 bytes each) stays within U32_MAX bytes, a power of two: 2^27.</summary>
    internal const uint MaxBucketsWithinU32 = 1u << 27;

    /// <summary>htab_map_alloc_check and htab_map_alloc's size checks: the create-time rules for hash maps.</summary>
    internal static BpfResult CheckSpec(MapSpec spec, int cpus)
    {
        const MapFlags allowed = MapFlags.NoPrealloc | MapFlags.NoCommonLru | MapFlags.NumaNode | MapFlags.RdOnly |
                                 MapFlags.WrOnly | MapFlags.RdOnlyProg | MapFlags.WrOnlyProg | MapFlags.ZeroSeed;
        if ((spec.Flags & ~allowed) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map_flags 0x{(uint)spec.Flags:x} has bits a hash map does not accept");
        }
        if ((spec.Flags & (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg)) == (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg))
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
        }
        if ((spec.Flags & MapFlags.NoCommonLru) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_NO_COMMON_LRU is only for LRU maps");
        }
        if (spec.Type.IsPerCpu() && (spec.Flags & MapFlags.NumaNode) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_NUMA_NODE is not for per-CPU maps (their values are on every CPU's node)");
        }
        if (spec.MaxEntries == 0 || spec.KeySize == 0 || spec.ValueSize == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "max_entries, key_size and value_size must all be non-zero");
        }
        // KMALLOC_MAX_SIZE (4 MiB) minus the element header: larger elements could not be copied by bpf(2).
        if ((ulong)spec.KeySize + spec.ValueSize >= (4u << 20) - 48)
        {
            return BpfResult.Fail(Errno.E2BIG, "key_size + value_size exceeds KMALLOC_MAX_SIZE");
        }
        if (spec.Type.IsPerCpu() && RoundUp8((int)Math.Min(spec.ValueSize, int.MaxValue - 8)) > 32 * 1024)
        {
            return BpfResult.Fail(Errno.E2BIG, "per-CPU value_size rounded to 8 bytes exceeds PCPU_MIN_UNIT_SIZE (32 KiB)");
        }
        // htab_map_alloc: max_entries above 2^31 is E2BIG, and so are buckets (roundup_pow_of_two(max_entries), 16 bytes
        // each: struct bucket) whose array would pass U32_MAX bytes, i.e. max_entries above 2^27.
        if (spec.MaxEntries > 1u << 31)
        {
            return BpfResult.Fail(Errno.E2BIG, "max_entries exceeds 2^31");
        }
        if (spec.MaxEntries > MaxBucketsWithinU32)
        {
            return BpfResult.Fail(Errno.E2BIG,
                $"max_entries {spec.MaxEntries} needs {BitOperations.RoundUpToPowerOf2(spec.MaxEntries)} hash buckets of 16 bytes, more than U32_MAX bytes");
        }
        return BpfResult.Ok;
    }

    /// <summary>check_flags in hashtab.c, for an update that found <paramref name="exists"/>.</summary>
    internal static BpfResult CheckUpdateFlags(ulong flags, bool exists)
    {
        if (flags > UpdateFlags.Exist)
        {
            return BpfResult.Fail(Errno.EINVAL, "flags must be BPF_ANY, BPF_NOEXIST or BPF_EXIST");
        }
        if (exists && flags == UpdateFlags.NoExist)
        {
            return BpfResult.Fail(Errno.EEXIST, "key already exists and flags is BPF_NOEXIST");
        }
        if (!exists && flags == UpdateFlags.Exist)
        {
            return BpfResult.Fail(Errno.ENOENT, "key does not exist and flags is BPF_EXIST");
        }
        return BpfResult.Ok;
    }

    private static readonly BpfResult s_noKey = BpfResult.Fail(Errno.ENOENT, "no element with this key");
    private static readonly BpfResult s_full = BpfResult.Fail(Errno.E2BIG, "map is full (max_entries elements)");
    private static readonly BpfResult s_end = BpfResult.Fail(Errno.ENOENT, "no key after this one (end of map)");

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return s_noKey;
        }
        _table.ValueAt(e).CopyTo(value);
        return BpfResult.Ok;
    }

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        int e = _table.Find(key);
        var check = CheckUpdateFlags(flags, e >= 0);
        if (!check.IsOk)
        {
            return check;
        }
        if (e < 0)
        {
            e = _table.Insert(key);
            if (e < 0)
            {
                return s_full;
            }
        }
        else if (!_perCpu)
        {
            // A plain hash map replaces the element with a new one at the head of the chain.
            _table.MoveToHead(e);
        }
        value.CopyTo(_table.ValueAt(e));
        return BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return s_noKey;
        }
        _table.Remove(e);
        return BpfResult.Ok;
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        int e = _table.Next(key);
        if (e < 0)
        {
            return s_end;
        }
        _table.KeyAt(e).CopyTo(next);
        return BpfResult.Ok;
    }

    internal override BpfResult SysLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return s_noKey;
        }
        _table.ValueAt(e).CopyTo(value);
        _table.Remove(e);
        return BpfResult.Ok;
    }

    private protected override bool ProgLookupLocation(ReadOnlySpan<byte> key, int cpu, out byte[] array, out int offset)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            (array, offset) = (null!, 0);
            return false;
        }
        (array, offset) = _table.ValueLocation(e);
        offset += _perCpu ? cpu * _slot : 0;
        return true;
    }

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return default;
        }
        var v = _table.ValueAt(e);
        return _perCpu ? v.Slice(cpu * _slot, ValueSize) : v;
    }

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        int e = _table.Find(key);
        var check = CheckUpdateFlags(flags, e >= 0);
        if (!check.IsOk)
        {
            return check.Errno;
        }
        if (e < 0)
        {
            // A new element has the value on this CPU and zeros on the others (pcpu_init_value).
            e = _table.Insert(key);
            if (e < 0)
            {
                return Errno.E2BIG;
            }
        }
        else if (!_perCpu)
        {
            _table.MoveToHead(e);
        }
        value.CopyTo(_perCpu ? _table.ValueAt(e).Slice(cpu * _slot, ValueSize) : _table.ValueAt(e));
        return Errno.None;
    }

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return Errno.ENOENT;
        }
        _table.Remove(e);
        return Errno.None;
    }
}
