using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_ARRAY_OF_MAPS (kernel/bpf/arraymap.c, fd-array ops): slots hold inner maps; user space writes an
/// fd and reads back the inner map id; a program's lookup yields the inner map itself.
/// </summary>
public sealed class ArrayOfMaps : BpfMap
{
    private readonly BpfMap?[] _slots;

    internal ArrayOfMaps(BpfSystem system, MapSpec spec, InnerMapTemplate template) : base(system, spec)
    {
        Template = template;
        _slots = new BpfMap?[spec.MaxEntries];
    }

    /// <summary>What every inner map must look like.</summary>
    public InnerMapTemplate Template { get; }

    public override int SyscallValueSize => 4;

    public override int Count => _slots.Count(s => s is not null);

    /// <summary>fd_array_map_alloc_check, then array_map_alloc_check.</summary>
    internal static BpfResult CheckSpec(MapSpec spec)
    {
        if (spec.ValueSize != 4)
        {
            return BpfResult.Fail(Errno.EINVAL, "a map-in-map's value_size must be 4 (it holds an fd)");
        }
        if ((spec.Flags & (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg)) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not allowed on fd arrays");
        }
        return ArrayMapBase.CheckSpec(spec, cpus: 1);
    }

    private static readonly BpfResult s_empty = BpfResult.Fail(Errno.ENOENT, "slot is empty or index is not below max_entries");

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries || _slots[index] is not { } inner)
        {
            return s_empty;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(value, inner.Id);
        return BpfResult.Ok;
    }

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        if (flags != UpdateFlags.Any)
        {
            return BpfResult.Fail(Errno.EINVAL, "an array of maps accepts only BPF_ANY");
        }
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            return BpfResult.Fail(Errno.E2BIG, "index is not below max_entries");
        }
        var r = Template.Resolve(caller, value, out var inner);
        if (!r.IsOk)
        {
            return r;
        }
        var old = _slots[index];
        _slots[index] = inner;
        if (old is not null)
        {
            InnerMapTemplate.Release(old, deferFree: true);
        }
        return BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            return BpfResult.Fail(Errno.E2BIG, "index is not below max_entries");
        }
        var old = _slots[index];
        if (old is null)
        {
            return BpfResult.Fail(Errno.ENOENT, "slot is empty");
        }
        _slots[index] = null;
        InnerMapTemplate.Release(old, deferFree: true);
        return BpfResult.Ok;
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        uint index = key.IsEmpty ? uint.MaxValue : BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(next, 0);
            return BpfResult.Ok;
        }
        if (index == MaxEntries - 1)
        {
            return BpfResult.Fail(Errno.ENOENT, "no index after the last one");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(next, index + 1);
        return BpfResult.Ok;
    }

    private protected override BpfMap? ProgLookupInner(ReadOnlySpan<byte> key)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        return index < MaxEntries ? _slots[index] : null;
    }

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) =>
        throw new InvalidOperationException("a program's lookup in a map-in-map yields a map: use LookupInner");

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) =>
        throw new InvalidOperationException("programs may not update a map-in-map (the verifier rejects it)");

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) =>
        throw new InvalidOperationException("programs may not delete from a map-in-map (the verifier rejects it)");

    private protected override void OnFree()
    {
        // bpf_fd_array_map_clear(map, false): the outer map is gone, so no program can reach these any more.
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] is { } inner)
            {
                _slots[i] = null;
                InnerMapTemplate.Release(inner, deferFree: false);
            }
        }
    }
}
