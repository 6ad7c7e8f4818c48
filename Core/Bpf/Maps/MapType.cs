namespace BpfSim.Core.Bpf.Maps;

/// <summary>Map types, numbered as <c>enum bpf_map_type</c> in include/uapi/linux/bpf.h.</summary>
public enum MapType : uint
{
    Unspec = 0,
    /// <summary>Hash table with arbitrary keys; full → E2BIG.</summary>
    Hash = 1,
    /// <summary>Array indexed by a u32; every element exists, zero-filled; delete → EINVAL.</summary>
    Array = 2,
    ProgArray = 3,
    /// <summary>Hash table with one value slot per possible CPU.</summary>
    PercpuHash = 5,
    /// <summary>Array with one value slot per possible CPU.</summary>
    PercpuArray = 6,
    LruHash = 9,
    LruPercpuHash = 10,
    /// <summary>Array whose values are inner maps (fds in, ids out from user space).</summary>
    ArrayOfMaps = 12,
    /// <summary>Hash table whose values are inner maps.</summary>
    HashOfMaps = 13,
    /// <summary>Array of net devices (kernel/bpf/devmap.c): u32 index → ifindex, the targets of bpf_redirect_map.</summary>
    DevMap = 14,
    /// <summary>FIFO of values without keys (kernel/bpf/queue_stack_maps.c): push, pop, peek.</summary>
    Queue = 22,
    /// <summary>LIFO of values without keys (kernel/bpf/queue_stack_maps.c): push, pop, peek.</summary>
    Stack = 23,
    /// <summary>A value per socket, created and used by programs (bpf_sk_storage_get/delete).</summary>
    SkStorage = 24,
    /// <summary>The struct_ops map: key 4, max_entries 1, value {refcnt, state, data}.</summary>
    StructOps = 26,

    /// <summary>
    /// The chain-call map of the 2019 XDP chain-call RFC (BPF_MAP_TYPE_XDP_CHAIN), never merged: key {u32 prog_id,
    /// u32 action}, value the next program. Not a kernel type; the number is bpfsim's own, outside the kernel's range.
    /// </summary>
    ChainCall = 1000,
}

/// <summary>Rules that depend on the map type, kept next to the enum (cilium/ebpf's hasPerCPUValue and friends).</summary>
public static class MapTypeRules
{
    /// <summary>Values have one slot per possible CPU.</summary>
    public static bool IsPerCpu(this MapType type) => type is MapType.PercpuArray or MapType.PercpuHash or MapType.LruPercpuHash;

    /// <summary>Values are inner maps (map-in-map).</summary>
    public static bool IsMapInMap(this MapType type) => type is MapType.ArrayOfMaps or MapType.HashOfMaps;

    /// <summary>The type has a map_meta_equal op, so it may serve as an inner-map template (kernel/bpf/map_in_map.c).</summary>
    public static bool CanBeInnerMap(this MapType type) =>
        type is MapType.Hash or MapType.Array or MapType.PercpuHash or MapType.PercpuArray or MapType.ArrayOfMaps or MapType.HashOfMaps
            or MapType.Queue or MapType.Stack or MapType.DevMap or MapType.SkStorage;

    /// <summary>Keyless maps of values pushed and popped (QUEUE, STACK).</summary>
    public static bool IsQueueOrStack(this MapType type) => type is MapType.Queue or MapType.Stack;

    /// <summary>The uapi name, e.g. <c>BPF_MAP_TYPE_PERCPU_HASH</c>.</summary>
    public static string KernelName(this MapType type) => type switch
    {
        MapType.Hash => "BPF_MAP_TYPE_HASH",
        MapType.Array => "BPF_MAP_TYPE_ARRAY",
        MapType.ProgArray => "BPF_MAP_TYPE_PROG_ARRAY",
        MapType.PercpuHash => "BPF_MAP_TYPE_PERCPU_HASH",
        MapType.PercpuArray => "BPF_MAP_TYPE_PERCPU_ARRAY",
        MapType.LruHash => "BPF_MAP_TYPE_LRU_HASH",
        MapType.LruPercpuHash => "BPF_MAP_TYPE_LRU_PERCPU_HASH",
        MapType.ArrayOfMaps => "BPF_MAP_TYPE_ARRAY_OF_MAPS",
        MapType.HashOfMaps => "BPF_MAP_TYPE_HASH_OF_MAPS",
        MapType.DevMap => "BPF_MAP_TYPE_DEVMAP",
        MapType.Queue => "BPF_MAP_TYPE_QUEUE",
        MapType.Stack => "BPF_MAP_TYPE_STACK",
        MapType.SkStorage => "BPF_MAP_TYPE_SK_STORAGE",
        MapType.StructOps => "BPF_MAP_TYPE_STRUCT_OPS",
        MapType.ChainCall => "BPF_MAP_TYPE_XDP_CHAIN (2019 RFC, not merged)",
        _ => $"BPF_MAP_TYPE_{(uint)type}",
    };

    /// <summary>bpftool's short name, e.g. <c>percpu_hash</c>.</summary>
    public static string ShortName(this MapType type) => type switch
    {
        MapType.Hash => "hash",
        MapType.Array => "array",
        MapType.PercpuHash => "percpu_hash",
        MapType.PercpuArray => "percpu_array",
        MapType.ArrayOfMaps => "array_of_maps",
        MapType.HashOfMaps => "hash_of_maps",
        MapType.DevMap => "devmap",
        MapType.Queue => "queue",
        MapType.Stack => "stack",
        MapType.SkStorage => "sk_storage",
        MapType.StructOps => "struct_ops",
        MapType.ChainCall => "xdp_chain",
        _ => type.ToString().ToLowerInvariant(),
    };
}
