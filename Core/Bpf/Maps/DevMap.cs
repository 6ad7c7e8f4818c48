using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_DEVMAP (kernel/bpf/devmap.c): an array of net devices, u32 index → <c>struct bpf_devmap_val</c>
/// (<c>{u32 ifindex}</c>, or <c>{u32 ifindex; u32 prog fd/id}</c> for value_size 8), the targets of
/// bpf_redirect_map. An entry holds a device that exists (dev_get_by_index); a slot starts empty. bpfsim runs no
/// devmap programs: an 8-byte value with a program fd is refused with EINVAL, as the kernel refuses a program that is
/// not of type XDP with expected attach type BPF_XDP_DEVMAP.
/// </summary>
public sealed class DevMap : BpfMap
{
    private readonly uint[] _ifindex;
    private int _items;

    internal DevMap(BpfSystem system, MapSpec spec) : base(system, spec)
    {
        _ifindex = new uint[spec.MaxEntries];
    }

    public override int Count => _items;

    /// <summary>dev_map_alloc_check: key 4, value 4 or 8, max_entries > 0, flags among NUMA_NODE, RDONLY, WRONLY.</summary>
    internal static BpfResult CheckSpec(MapSpec spec)
    {
        const MapFlags allowed = MapFlags.NumaNode | MapFlags.RdOnly | MapFlags.WrOnly;
        if (spec.MaxEntries == 0 || spec.KeySize != 4 || spec.ValueSize is not (4 or 8) || (spec.Flags & ~allowed) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "a devmap needs key_size 4, value_size 4 or 8 (struct bpf_devmap_val), max_entries > 0, " +
                                                "and map_flags among BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY");
        }
        return BpfResult.Ok;
    }

    /// <summary>
    /// The ifindex at <paramref name="index"/> (__dev_map_lookup_elem, what bpf_redirect_map finds); false for an
    /// index past the end or an empty slot.
    /// </summary>
    public bool TryGetIfindex(uint index, out uint ifindex)
    {
        ifindex = index < (uint)_ifindex.Length ? _ifindex[index] : 0;
        return ifindex != 0;
    }

    private static readonly BpfResult s_noEntry = BpfResult.Fail(Errno.ENOENT, "no device at this index");
    private static readonly BpfResult s_badFlags = BpfResult.Fail(Errno.EINVAL, "flags must be BPF_ANY, BPF_NOEXIST or BPF_EXIST");
    private static readonly BpfResult s_indexTooBig = BpfResult.Fail(Errno.E2BIG, "index is not below max_entries");
    private static readonly BpfResult s_noExist = BpfResult.Fail(Errno.EEXIST, "devmap slots always exist, so BPF_NOEXIST fails");
    private static readonly BpfResult s_fdWithoutDevice = BpfResult.Fail(Errno.EINVAL, "a program fd needs an ifindex (ifindex 0 empties the slot)");
    private static readonly BpfResult s_noDevice = BpfResult.Fail(Errno.EINVAL, "no net device has this ifindex (dev_get_by_index)");
    private static readonly BpfResult s_noProgram = BpfResult.Fail(Errno.EINVAL,
        "bpfsim runs no devmap programs (the kernel wants an XDP program with expected attach type BPF_XDP_DEVMAP)");
    private static readonly BpfResult s_deleteRange = BpfResult.Fail(Errno.EINVAL, "index is not below max_entries");
    private static readonly BpfResult s_last = BpfResult.Fail(Errno.ENOENT, "no index after the last one");

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (!TryGetIfindex(index, out uint ifindex))
        {
            return s_noEntry;
        }
        value.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(value, ifindex); // then bpf_prog.id: always 0
        return BpfResult.Ok;
    }

    /// <summary>__dev_map_update_elem, with __dev_map_alloc_node's checks of the device and program.</summary>
    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (flags > UpdateFlags.Exist)
        {
            return s_badFlags;
        }
        if (index >= (uint)_ifindex.Length)
        {
            return s_indexTooBig;
        }
        if (flags == UpdateFlags.NoExist)
        {
            return s_noExist;
        }
        uint ifindex = BinaryPrimitives.ReadUInt32LittleEndian(value);
        int progFd = value.Length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(value[4..]) : 0;
        if (ifindex == 0)
        {
            if (progFd > 0)
            {
                return s_fdWithoutDevice;
            }
        }
        else
        {
            if (!System.NetDevices.Any(d => d.Ifindex == ifindex))
            {
                return s_noDevice;
            }
            if (progFd > 0)
            {
                return s_noProgram;
            }
        }
        Set(index, ifindex);
        return BpfResult.Ok;
    }

    private void Set(uint index, uint ifindex)
    {
        _items += (_ifindex[index] == 0 ? 1 : 0) - (ifindex == 0 ? 1 : 0);
        _ifindex[index] = ifindex;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= (uint)_ifindex.Length)
        {
            return s_deleteRange;
        }
        Set(index, 0);
        return BpfResult.Ok;
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        // dev_map_get_next_key: every index, occupied or not.
        uint index = key.IsEmpty ? uint.MaxValue : BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= (uint)_ifindex.Length)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(next, 0);
            return BpfResult.Ok;
        }
        if (index == (uint)_ifindex.Length - 1)
        {
            return s_last;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(next, index + 1);
        return BpfResult.Ok;
    }

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) => default; // programs redirect, they do not read entries here

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => Errno.EINVAL;

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => Errno.EINVAL;
}
