using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// What BPF_MAP_CREATE is asked to build (the attr of the syscall). A plain immutable description: the runtime
/// validates it and creates the live <see cref="BpfMap"/>.
/// </summary>
public sealed record MapSpec
{
    public required MapType Type { get; init; }
    public uint KeySize { get; init; }
    public uint ValueSize { get; init; }
    public uint MaxEntries { get; init; }
    public MapFlags Flags { get; init; }

    /// <summary>Object name: at most 15 characters of [A-Za-z0-9_.].</summary>
    public string Name { get; init; } = "";

    /// <summary><c>numa_node</c>: the node to allocate on, read only when <see cref="Flags"/> has BPF_F_NUMA_NODE.</summary>
    public uint NumaNode { get; init; }

    /// <summary><c>map_extra</c>: only bloom filters and arenas use it (neither is in bpfsim), so it must be 0.</summary>
    public ulong MapExtra { get; init; }

    /// <summary>For ARRAY_OF_MAPS and HASH_OF_MAPS: an fd of a map that serves as the inner-map template.</summary>
    public int InnerMapFd { get; init; }

    /// <summary>For STRUCT_OPS maps: the struct_ops type name (stands in for btf_vmlinux_value_type_id).</summary>
    public string? StructOpsType { get; init; }

    /// <summary>
    /// The BTF the key and value types are described in (stands in for <c>btf_fd</c>); null for a map without BTF.
    /// </summary>
    public BtfSpec? Btf { get; init; }

    /// <summary><c>btf_key_type_id</c>: the key's type in <see cref="Btf"/>, or 0.</summary>
    public uint BtfKeyTypeId { get; init; }

    /// <summary><c>btf_value_type_id</c>: the value's type in <see cref="Btf"/>, or 0 (then the map has no BTF, as in the kernel's map_create).</summary>
    public uint BtfValueTypeId { get; init; }
}
