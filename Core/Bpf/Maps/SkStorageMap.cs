namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_SK_STORAGE (net/core/bpf_sk_storage.c, kernel/bpf/bpf_local_storage.c): a value per socket, created
/// by a program with bpf_sk_storage_get(BPF_SK_STORAGE_GET_F_CREATE) and gone with the socket. Programs name the
/// socket; user space would name it by a socket fd, which bpfsim's simulated sockets do not have.
/// </summary>
public sealed class SkStorageMap : BpfMap
{
    /// <summary>BPF_SK_STORAGE_GET_F_CREATE.</summary>
    public const ulong GetFlagCreate = 1;

    /// <summary>BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: U16_MAX less the element header (struct bpf_local_storage_elem).</summary>
    public const uint MaxValueSize = ushort.MaxValue - 96;

    // Sorted, so anything that walks the storages does so in the same order every run.
    private readonly SortedDictionary<long, byte[]> _bySocket = [];

    internal SkStorageMap(BpfSystem system, MapSpec spec) : base(system, spec)
    {
    }

    public override int Count => _bySocket.Count;

    /// <summary>bpf_local_storage_map_alloc_check.</summary>
    internal static BpfResult CheckSpec(MapSpec spec)
    {
        const MapFlags allowed = MapFlags.NoPrealloc | MapFlags.Clone;
        if ((spec.Flags & ~allowed) != 0 || (spec.Flags & MapFlags.NoPrealloc) == 0 || spec.MaxEntries != 0 || spec.KeySize != 4 ||
            spec.ValueSize == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "sk_storage needs BPF_F_NO_PREALLOC, max_entries 0, key_size 4 and value_size > 0");
        }
        // bpf_local_storage_map_alloc_check: "Enforce BTF for userspace sk dumping".
        if (spec.BtfKeyTypeId == 0 || spec.BtfValueTypeId == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "sk_storage needs BTF key and value types (btf_key_type_id, btf_value_type_id)");
        }
        return spec.ValueSize > MaxValueSize
            ? BpfResult.Fail(Errno.E2BIG, $"value_size {spec.ValueSize} is over BPF_LOCAL_STORAGE_MAX_VALUE_SIZE ({MaxValueSize})")
            : BpfResult.Ok;
    }

    /// <summary>
    /// bpf_sk_storage_get: the storage of socket <paramref name="socket"/> (any stable id the subsystem gives its
    /// sockets), created from <paramref name="initial"/> (or zeroed when empty) with <see cref="GetFlagCreate"/>.
    /// </summary>
    /// <returns>False (the helper's NULL) when there is none and none may be created, or the flags are unknown.</returns>
    public bool Get(long socket, ulong flags, ReadOnlySpan<byte> initial, out byte[] value)
    {
        if (flags > GetFlagCreate)
        {
            value = null!;
            return false;
        }
        if (_bySocket.TryGetValue(socket, out value!))
        {
            return true;
        }
        if (flags != GetFlagCreate)
        {
            return false;
        }
        value = new byte[ValueSize];
        if (!initial.IsEmpty)
        {
            initial[..Math.Min(initial.Length, ValueSize)].CopyTo(value);
        }
        _bySocket[socket] = value;
        return true;
    }

    /// <summary>bpf_sk_storage_delete: 0, or ENOENT when the socket has no storage here.</summary>
    public Errno Delete(long socket) => _bySocket.Remove(socket) ? Errno.None : Errno.ENOENT;

    /// <summary>bpf_sk_storage_free: the socket is gone, and its storage with it.</summary>
    public void Forget(long socket) => _bySocket.Remove(socket);

    private static BpfResult NoSocketFds() =>
        BpfResult.Fail(Errno.EBADF, "sk_storage is keyed by a socket fd, and bpfsim's simulated sockets have none");

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value) => NoSocketFds();

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller) => NoSocketFds();

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key) => NoSocketFds();

    /// <summary>notsupp_get_next_key: local storage maps cannot be iterated by key.</summary>
    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next) =>
        BpfResult.Fail(Errno.EOPNOTSUPP, "sk_storage maps cannot be walked with get_next_key");

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) => default;

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => Errno.EOPNOTSUPP;

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => Errno.EOPNOTSUPP;
}
