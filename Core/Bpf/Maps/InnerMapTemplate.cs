using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// The inner-map meta an outer map copies from its template at creation (bpf_map_meta_alloc in
/// kernel/bpf/map_in_map.c), and the check every inserted inner map must pass (bpf_map_meta_equal,
/// array_map_meta_equal).
/// </summary>
public sealed record InnerMapTemplate(MapType Type, int KeySize, int ValueSize, MapFlags Flags, uint MaxEntries)
{
    internal static BpfResult TryCreate(BpfMap template, out InnerMapTemplate meta)
    {
        meta = null!;
        if (template.Type.IsMapInMap())
        {
            return BpfResult.Fail(Errno.EINVAL, "the inner-map template is itself a map-in-map (only one level is supported)");
        }
        if (!template.Type.CanBeInnerMap())
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"{template.Type.KernelName()} cannot be an inner map (no map_meta_equal)");
        }
        meta = new InnerMapTemplate(template.Type, template.KeySize, template.ValueSize, template.Flags, template.MaxEntries);
        return BpfResult.Ok;
    }

    /// <summary>
    /// Type, key size, value size and flags must match; max_entries must match too for BPF_MAP_TYPE_ARRAY unless the
    /// template was created with BPF_F_INNER_MAP (array_map_meta_equal). Every other type, per-CPU arrays included,
    /// uses bpf_map_meta_equal, which does not compare max_entries.
    /// </summary>
    public bool Matches(BpfMap inner)
    {
        if (inner.Type != Type || inner.KeySize != KeySize || inner.ValueSize != ValueSize || inner.Flags != Flags)
        {
            return false;
        }
        return Type != MapType.Array || (Flags & MapFlags.InnerMap) != 0 || inner.MaxEntries == MaxEntries;
    }

    /// <summary>
    /// bpf_map_fd_get_ptr: the value written by user space is an fd in <paramref name="caller"/>; on success the
    /// inner map carries a new reference owned by the outer map.
    /// </summary>
    internal BpfResult Resolve(BpfProcess caller, ReadOnlySpan<byte> value, out BpfMap inner)
    {
        int fd = BinaryPrimitives.ReadInt32LittleEndian(value);
        var r = caller.TryGetMap(fd, out inner);
        if (!r.IsOk)
        {
            return BpfResult.Fail(r.Errno, $"inner map fd {fd}: {r.Cause}");
        }
        if (!Matches(inner))
        {
            return BpfResult.Fail(Errno.EINVAL,
                $"inner map id {inner.Id} ({inner.Type.ShortName()}, key {inner.KeySize}, value {inner.ValueSize}, " +
                $"max_entries {inner.MaxEntries}, flags 0x{(uint)inner.Flags:x}) does not match the template " +
                $"({Type.ShortName()}, key {KeySize}, value {ValueSize}, max_entries {MaxEntries}, flags 0x{(uint)Flags:x})");
        }
        inner.Inc();
        return BpfResult.Ok;
    }

    /// <summary>
    /// bpf_map_fd_put_ptr: drops the outer map's reference; with <paramref name="deferFree"/> a map whose last
    /// reference this was is freed only after a grace period, since running programs may still hold it.
    /// </summary>
    internal static void Release(BpfMap inner, bool deferFree)
    {
        if (deferFree)
        {
            inner.FreeAfterGracePeriod = true;
        }
        inner.Put();
    }
}
