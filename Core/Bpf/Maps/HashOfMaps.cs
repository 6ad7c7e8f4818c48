using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_HASH_OF_MAPS (kernel/bpf/hashtab.c, fd-htab ops): hash-map flag rules (BPF_NOEXIST, BPF_EXIST)
/// with inner maps as values; user space writes an fd and reads back the inner map id.
/// </summary>
public sealed class HashOfMaps : BpfMap
{
    private readonly HashTable _table;
    private BpfMap?[] _inner;

    internal HashOfMaps(BpfSystem system, MapSpec spec, InnerMapTemplate template) : base(system, spec)
    {
        Template = template;
        _table = new HashTable(KeySize, 0, (int)spec.MaxEntries);
        _inner = new BpfMap?[_table.Capacity];
    }

    public InnerMapTemplate Template { get; }

    public override int SyscallValueSize => 4;

    public override int Count => _table.Count;

    /// <summary>fd_htab_map_alloc_check, then htab_map_alloc_check.</summary>
    internal static BpfResult CheckSpec(MapSpec spec, int cpus)
    {
        if (spec.ValueSize != 4)
        {
            return BpfResult.Fail(Errno.EINVAL, "a map-in-map's value_size must be 4 (it holds an fd)");
        }
        return HashMapBase.CheckSpec(spec, cpus);
    }

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "no element with this key");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(value, _inner[e]!.Id);
        return BpfResult.Ok;
    }

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        // bpf_fd_htab_map_update_elem resolves the fd first, then applies the hash update rules.
        var r = Template.Resolve(caller, value, out var inner);
        if (!r.IsOk)
        {
            return r;
        }
        int e = _table.Find(key);
        r = HashMapBase.CheckUpdateFlags(flags, e >= 0);
        if (r.IsOk && e < 0)
        {
            e = _table.Insert(key);
            if (e < 0)
            {
                r = BpfResult.Fail(Errno.E2BIG, "map is full (max_entries elements)");
            }
        }
        if (!r.IsOk)
        {
            InnerMapTemplate.Release(inner, deferFree: false);
            return r;
        }
        if (_inner.Length < _table.Capacity)
        {
            Array.Resize(ref _inner, _table.Capacity);
        }
        var old = _inner[e];
        _inner[e] = inner;
        _table.MoveToHead(e);
        if (old is not null)
        {
            InnerMapTemplate.Release(old, deferFree: true);
        }
        return BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key)
    {
        int e = _table.Find(key);
        if (e < 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "no element with this key");
        }
        var old = _inner[e]!;
        _inner[e] = null;
        _table.Remove(e);
        InnerMapTemplate.Release(old, deferFree: true);
        return BpfResult.Ok;
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        int e = _table.Next(key);
        if (e < 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "no key after this one (end of map)");
        }
        _table.KeyAt(e).CopyTo(next);
        return BpfResult.Ok;
    }

    private protected override BpfMap? ProgLookupInner(ReadOnlySpan<byte> key)
    {
        int e = _table.Find(key);
        return e < 0 ? null : _inner[e];
    }

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) =>
        throw new InvalidOperationException("a program's lookup in a map-in-map yields a map: use LookupInner");

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) =>
        throw new InvalidOperationException("programs may not update a map-in-map (the verifier rejects it)");

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) =>
        throw new InvalidOperationException("programs may not delete from a map-in-map (the verifier rejects it)");

    private protected override void OnFree()
    {
        for (int i = 0; i < _inner.Length; i++)
        {
            if (_inner[i] is { } inner)
            {
                _inner[i] = null;
                InnerMapTemplate.Release(inner, deferFree: false);
            }
        }
    }
}
