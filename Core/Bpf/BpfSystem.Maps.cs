using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    private const int ObjNameLen = 16;

    /// <summary>BPF_MAP_CREATE: validates <paramref name="spec"/> as the map type's alloc_check does and opens an fd.</summary>
    /// <returns>EINVAL for an unknown type, bad sizes, flags or name; E2BIG for oversized values; for map-in-map
    /// EBADF/EINVAL for a bad inner_map_fd, ENOTSUPP for a template type that cannot be an inner map.</returns>
    public BpfResult MapCreate(MapSpec spec, out int fd)
    {
        fd = -1;
        var r = TryBuildMap(spec, out var map);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.MapCreate);
        }
        // bpf_get_file_flag: BPF_F_RDONLY / BPF_F_WRONLY make the new fd one-way.
        var mode = (spec.Flags & MapFlags.RdOnly) != 0 ? FdMode.Read : (spec.Flags & MapFlags.WrOnly) != 0 ? FdMode.Write : FdMode.ReadWrite;
        fd = Caller.Install(map, mode);
        return BpfResult.Ok;
    }

    private BpfResult TryBuildMap(MapSpec spec, out BpfMap map)
    {
        map = null!;
        ArgumentNullException.ThrowIfNull(spec);
        // map_create (kernel/bpf/syscall.c) checks these before the type's own map_alloc_check.
        if (spec.BtfKeyTypeId != 0 && spec.BtfValueTypeId == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "btf_key_type_id without btf_value_type_id");
        }
        if (spec.MapExtra != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map_extra {spec.MapExtra} is only for bloom filters and arenas");
        }
        if ((spec.Flags & (MapFlags.RdOnly | MapFlags.WrOnly)) == (MapFlags.RdOnly | MapFlags.WrOnly))
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
        }
        if ((spec.Flags & MapFlags.NumaNode) != 0 && spec.NumaNode != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"numa_node {spec.NumaNode} is not an online node (bpfsim's maps live on node 0)");
        }
        BpfResult r;
        InnerMapTemplate? template = null;
        switch (spec.Type)
        {
            case MapType.Hash:
            case MapType.PercpuHash:
                r = HashMapBase.CheckSpec(spec, Cpus.Count);
                break;
            case MapType.Array:
            case MapType.PercpuArray:
                r = ArrayMapBase.CheckSpec(spec, Cpus.Count);
                break;
            case MapType.ArrayOfMaps:
            case MapType.HashOfMaps:
                // The alloc check runs first; the template is looked at in map_alloc (bpf_map_meta_alloc).
                r = spec.Type == MapType.ArrayOfMaps ? ArrayOfMaps.CheckSpec(spec) : HashOfMaps.CheckSpec(spec, Cpus.Count);
                if (r.IsOk)
                {
                    r = TryGetTemplate(spec, out template);
                }
                break;
            case MapType.Queue:
            case MapType.Stack:
                r = QueueStackMapBase.CheckSpec(spec);
                break;
            case MapType.SkStorage:
                r = SkStorageMap.CheckSpec(spec);
                break;
            case MapType.DevMap:
                r = DevMap.CheckSpec(spec);
                break;
            case MapType.StructOps:
                return TryBuildStructOpsMap(spec, out map);
            case MapType.ChainCall:
                r = MultiProg.ChainCall.ChainCallMap.CheckSpec(spec);
                break;
            default:
                return BpfResult.Fail(Errno.EINVAL, $"map_type {(uint)spec.Type} is unknown or not supported by bpfsim");
        }
        if (!r.IsOk)
        {
            return r;
        }
        if (!IsValidObjectName(spec.Name))
        {
            return BpfResult.Fail(Errno.EINVAL, $"map name '{spec.Name}' must be at most 15 characters of [A-Za-z0-9_.]");
        }
        r = CheckBtf(spec);
        if (!r.IsOk)
        {
            return r;
        }
        map = spec.Type switch
        {
            MapType.Hash => new HashMap(this, spec),
            MapType.PercpuHash => new PercpuHashMap(this, spec),
            MapType.Array => new ArrayMap(this, spec),
            MapType.PercpuArray => new PercpuArrayMap(this, spec),
            MapType.ArrayOfMaps => new ArrayOfMaps(this, spec, template!),
            MapType.SkStorage => new SkStorageMap(this, spec),
            MapType.DevMap => new DevMap(this, spec),
            MapType.Queue => new QueueMap(this, spec),
            MapType.Stack => new StackMap(this, spec),
            MapType.ChainCall => new MultiProg.ChainCall.ChainCallMap(this, spec),
            _ => new HashOfMaps(this, spec, template!),
        };
        return BpfResult.Ok;
    }

    /// <summary>
    /// map_check_btf (kernel/bpf/syscall.c): the key type (if given) and the value type must exist and be exactly
    /// key_size and value_size bytes; a map type without a map_check_btf op needs the key type; then the type's own
    /// map_check_btf. Type ids without a BTF are EINVAL.
    /// </summary>
    private static BpfResult CheckBtf(MapSpec spec)
    {
        if (spec.BtfValueTypeId == 0)
        {
            return BpfResult.Ok;
        }
        if (spec.Btf is not { } btf)
        {
            return BpfResult.Fail(Errno.EINVAL, "btf_key_type_id/btf_value_type_id need a BTF");
        }
        try
        {
            BtfType key = BtfVoid.Instance;
            if (spec.BtfKeyTypeId != 0)
            {
                if (btf.SizeOf(spec.BtfKeyTypeId) != spec.KeySize)
                {
                    return BpfResult.Fail(Errno.EINVAL, $"BTF key type {spec.BtfKeyTypeId} is {btf.SizeOf(spec.BtfKeyTypeId)} bytes, not key_size {spec.KeySize}");
                }
                key = btf[btf.SkipModifiers(spec.BtfKeyTypeId)];
            }
            else if (spec.Type.IsQueueOrStack())
            {
                return BpfResult.Fail(Errno.EINVAL, $"a {spec.Type.ShortName()} map takes no BTF (its type has no map_check_btf, so the key type is required, and it has no key)");
            }
            if (btf.SizeOf(spec.BtfValueTypeId) != spec.ValueSize)
            {
                return BpfResult.Fail(Errno.EINVAL, $"BTF value type {spec.BtfValueTypeId} is {btf.SizeOf(spec.BtfValueTypeId)} bytes, not value_size {spec.ValueSize}");
            }
            return CheckBtfOfType(spec, key, btf[btf.SkipModifiers(spec.BtfValueTypeId)]);
        }
        catch (BtfException e)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map BTF: {e.Message}");
        }
    }

    /// <summary>The map type's map_check_btf op.</summary>
    private static BpfResult CheckBtfOfType(MapSpec spec, BtfType key, BtfType value)
    {
        switch (spec.Type)
        {
            case MapType.Hash:
            case MapType.PercpuHash:
                // htab_map_check_btf (kernel/bpf/hashtab.c).
                return key is BtfVoid
                    ? BpfResult.Fail(Errno.EINVAL, "a hash map's BTF needs a key type")
                    : BpfResult.Ok;
            case MapType.Array:
            case MapType.PercpuArray:
                // array_map_check_btf (kernel/bpf/arraymap.c): a u32 key, or no key for a one-element .data/.bss/.rodata.
                if (key is BtfVoid)
                {
                    return spec.Type == MapType.Array && spec.MaxEntries == 1 && value is BtfDatasec
                        ? BpfResult.Ok
                        : BpfResult.Fail(Errno.EINVAL, "an array's BTF needs a key type unless it is a one-element array of a DATASEC");
                }
                return IsU32(key) ? BpfResult.Ok : BpfResult.Fail(Errno.EINVAL, "an array's BTF key type must be a 32-bit integer");
            case MapType.SkStorage:
                // bpf_local_storage_map_check_btf (kernel/bpf/bpf_local_storage.c).
                return IsU32(key) ? BpfResult.Ok : BpfResult.Fail(Errno.EINVAL, "sk_storage's BTF key type must be a 32-bit integer");
            case MapType.ArrayOfMaps:
            case MapType.HashOfMaps:
            case MapType.DevMap:
                // map_check_no_btf (kernel/bpf/syscall.c): libbpf creates these without BTF.
                return BpfResult.Fail(Errno.ENOTSUPP, $"a {spec.Type.ShortName()} map takes no BTF");
            default:
                return BpfResult.Ok;
        }
    }

    private static bool IsU32(BtfType type) => type is BtfInt { Bits: 32, BitOffset: 0 };

    private BpfResult TryGetTemplate(MapSpec spec, out InnerMapTemplate template)
    {
        template = null!;
        var r = Caller.TryGetMap(spec.InnerMapFd, out var inner);
        if (!r.IsOk)
        {
            return BpfResult.Fail(r.Errno, $"inner_map_fd {spec.InnerMapFd}: {r.Cause}");
        }
        return InnerMapTemplate.TryCreate(inner, out template);
    }

    /// <summary>bpf_obj_name_cpy: empty, or up to 15 characters of letters, digits, '_' and '.'.</summary>
    public static bool IsValidObjectName(string name) =>
        name.Length < ObjNameLen && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.');

    /// <summary>
    /// An object name made from <paramref name="name"/> as loaders make one (libbpf names maps after C identifiers):
    /// other characters become '_', cut to 15 characters, so <see cref="IsValidObjectName"/> accepts it.
    /// </summary>
    public static string ToObjectName(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_').Take(ObjNameLen - 1).ToArray());

    private BpfResult ResolveMap(int fd, out BpfMap map, FdMode needs = FdMode.None)
    {
        var r = Caller.TryGetMap(fd, out map);
        if (!r.IsOk)
        {
            return BpfResult.Fail(r.Errno, r.Errno == Errno.EBADF ? "map fd is not open" : "fd does not refer to a map");
        }
        // map_get_sys_perms: FMODE_CAN_READ / FMODE_CAN_WRITE of the fd.
        return (Caller.Mode(fd) & needs) == needs ? r : BpfResult.Fail(Errno.EPERM, $"map fd {fd} was not opened for {needs.ToString().ToLowerInvariant()}");
    }

    private static BpfResult CheckKey(BpfMap map, ReadOnlySpan<byte> key) =>
        key.Length == map.KeySize
            ? BpfResult.Ok
            : BpfResult.Fail(Errno.EINVAL, $"key is {key.Length} bytes but map {map.Id} has key_size {map.KeySize}");

    private static BpfResult CheckValue(BpfMap map, int length) =>
        length == map.SyscallValueSize
            ? BpfResult.Ok
            : BpfResult.Fail(Errno.EINVAL,
                $"value buffer is {length} bytes but map {map.Id} ({map.Type.ShortName()}) needs {map.SyscallValueSize}" +
                (map.Type.IsPerCpu() ? $" (value_size {map.ValueSize} rounded up to 8, times {map.System.Cpus.Count} possible CPUs)" : ""));

    private static readonly BpfResult s_lookupFlags = BpfResult.Fail(Errno.EINVAL, "flags may only contain BPF_F_LOCK");
    private static readonly BpfResult s_noSpinLock = BpfResult.Fail(Errno.EINVAL, "BPF_F_LOCK on a map whose value has no bpf_spin_lock");

    /// <summary>BPF_MAP_LOOKUP_ELEM: copies the value (all CPUs' slots for per-CPU maps; the inner map id for map-in-map;
    /// for a queue or stack, whose key must be empty, the element a pop would take, left in place: peek).</summary>
    /// <returns>ENOENT if the key is missing; EINVAL for bad flags or buffer sizes; EBADF for a bad fd.</returns>
    public BpfResult MapLookupElem(int fd, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0)
    {
        if ((flags & ~UpdateFlags.FLock) != 0)
        {
            return s_lookupFlags.For(BpfCommand.MapLookupElem);
        }
        var r = ResolveMap(fd, out var map, FdMode.Read);
        if (r.IsOk && flags != 0)
        {
            r = s_noSpinLock;
        }
        if (r.IsOk)
        {
            r = CheckKey(map, key);
        }
        if (r.IsOk)
        {
            r = CheckValue(map, value.Length);
        }
        if (r.IsOk)
        {
            r = map.SysLookup(key, value);
        }
        return r.For(BpfCommand.MapLookupElem);
    }

    /// <summary>BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST; on a queue or stack (empty key) a push, where
    /// BPF_EXIST overwrites the oldest element of a full map and BPF_NOEXIST is EINVAL.</summary>
    /// <returns>EEXIST/ENOENT per the flags; E2BIG when full or the index is out of range; EINVAL for unknown flags,
    /// bad sizes or (map-in-map) an inner map that does not match the template; EBADF for a bad fd.</returns>
    public BpfResult MapUpdateElem(int fd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = UpdateFlags.Any)
    {
        var r = ResolveMap(fd, out var map, FdMode.Write);
        if (r.IsOk && (flags & UpdateFlags.FLock) != 0)
        {
            r = s_noSpinLock;
        }
        if (r.IsOk)
        {
            r = CheckKey(map, key);
        }
        if (r.IsOk)
        {
            r = CheckValue(map, value.Length);
        }
        if (r.IsOk)
        {
            r = map.SysUpdate(key, value, flags, Caller);
        }
        if (r.IsOk)
        {
            MaybeWaitBpfPrograms(map);
        }
        return r.For(BpfCommand.MapUpdateElem);
    }

    /// <summary>BPF_MAP_DELETE_ELEM.</summary>
    /// <returns>ENOENT if missing; EINVAL on arrays (elements cannot be deleted) and queues/stacks; E2BIG for an out-of-range map-in-map index.</returns>
    public BpfResult MapDeleteElem(int fd, ReadOnlySpan<byte> key)
    {
        var r = ResolveMap(fd, out var map, FdMode.Write);
        if (r.IsOk)
        {
            r = CheckKey(map, key);
        }
        if (r.IsOk)
        {
            r = map.SysDelete(key);
        }
        if (r.IsOk)
        {
            MaybeWaitBpfPrograms(map);
        }
        return r.For(BpfCommand.MapDeleteElem);
    }

    /// <summary>
    /// BPF_MAP_GET_NEXT_KEY. An empty <paramref name="key"/> is the NULL key: the first key. A hash key that is not
    /// in the map also yields the first key; an array index past the end yields 0.
    /// </summary>
    /// <returns>ENOENT after the last key; EINVAL on queues and stacks, which have no keys.</returns>
    public BpfResult MapGetNextKey(int fd, ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        var r = ResolveMap(fd, out var map, FdMode.Read);
        if (r.IsOk && !key.IsEmpty)
        {
            r = CheckKey(map, key);
        }
        if (r.IsOk && nextKey.Length != map.KeySize)
        {
            r = BpfResult.Fail(Errno.EINVAL, $"next_key buffer is {nextKey.Length} bytes but map {map.Id} has key_size {map.KeySize}");
        }
        if (r.IsOk)
        {
            r = map.GetNextKey(key, nextKey);
        }
        return r.For(BpfCommand.MapGetNextKey);
    }

    /// <summary>
    /// BPF_MAP_LOOKUP_AND_DELETE_ELEM: pops a queue or stack (empty <paramref name="key"/>), or deletes a hash map's
    /// element and returns its value; ENOTSUPP for other map types (map_lookup_and_delete_elem in kernel/bpf/syscall.c).
    /// </summary>
    /// <returns>ENOENT for an empty queue/stack or a missing key; EINVAL for any flags on a queue/stack.</returns>
    public BpfResult MapLookupAndDeleteElem(int fd, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0)
    {
        if ((flags & ~UpdateFlags.FLock) != 0)
        {
            return s_lookupFlags.For(BpfCommand.MapLookupAndDeleteElem);
        }
        var r = ResolveMap(fd, out var map, FdMode.ReadWrite);
        if (r.IsOk && flags != 0)
        {
            r = map.Type.IsQueueOrStack() ? BpfResult.Fail(Errno.EINVAL, "a queue or stack pops with flags 0 only") : s_noSpinLock;
        }
        if (r.IsOk)
        {
            r = CheckKey(map, key);
        }
        if (r.IsOk)
        {
            r = CheckValue(map, value.Length);
        }
        if (r.IsOk)
        {
            r = map.SysLookupAndDelete(key, value);
        }
        return r.For(BpfCommand.MapLookupAndDeleteElem);
    }

    /// <summary>BPF_MAP_GET_FD_BY_ID: a new fd (and user reference) on a live map.</summary>
    /// <returns>ENOENT if no live map has that id.</returns>
    public BpfResult MapGetFdById(uint id, out int fd)
    {
        fd = -1;
        if (!Objects.TryGet(BpfObjectKind.Map, id, out var obj) || obj is not BpfMap map || map.IsDead)
        {
            return BpfResult.Fail(Errno.ENOENT, $"no map with id {id}").For(BpfCommand.MapGetFdById);
        }
        map.IncWithUref();
        fd = Caller.Install(map);
        return BpfResult.Ok;
    }

    /// <summary>BPF_OBJ_GET_INFO_BY_FD for a map fd.</summary>
    public BpfResult ObjGetInfoByFd(int fd, out BpfMapInfo info)
    {
        info = null!;
        var r = ResolveMap(fd, out var map);
        if (r.IsOk)
        {
            info = map.Info;
        }
        return r.For(BpfCommand.ObjGetInfoByFd);
    }

    /// <summary>The live map behind <paramref name="fd"/> in the caller, for subsystems and typed wrappers.</summary>
    public BpfResult GetMap(int fd, out BpfMap map) => ResolveMap(fd, out map).For(BpfCommand.MapLookupElem);

    /// <summary>close(2) on a bpf fd: drops the fd's references.</summary>
    /// <returns>EBADF if the fd is not open.</returns>
    public BpfResult Close(int fd) => CloseIn(Caller, fd);

    private BpfResult CloseIn(BpfProcess process, int fd)
    {
        var obj = process.Remove(fd);
        if (obj is null)
        {
            return BpfResult.Fail(Errno.EBADF, $"fd {fd} is not open").For(BpfCommand.Close);
        }
        if (obj is BpfMap map)
        {
            map.PutWithUref();
        }
        else
        {
            obj.Put();
        }
        return BpfResult.Ok;
    }

    /// <summary>Installs a new fd in the caller for an object that already holds the fd's reference.</summary>
    internal int InstallFd(BpfObject obj) => Caller.Install(obj);

    /// <summary>The object behind an fd in the caller, or null.</summary>
    internal BpfObject? GetObject(int fd) => Caller.Get(fd);

    /// <summary>
    /// bpf_sk_storage_free (net/core/bpf_sk_storage.c, from __sk_destruct): socket <paramref name="socket"/> is gone,
    /// and its storage in every SK_STORAGE map with it.
    /// </summary>
    public void FreeSocketStorage(long socket)
    {
        foreach (var map in Objects.All(BpfObjectKind.Map).OfType<SkStorageMap>())
        {
            map.Forget(socket);
        }
    }
}
