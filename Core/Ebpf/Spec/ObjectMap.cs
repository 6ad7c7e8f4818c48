using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// A BTF-defined map from the <c>.maps</c> section: the members of its anonymous struct decoded as libbpf's
/// parse_btf_map_def does (tools/lib/bpf/libbpf.c): <c>__uint(x, N)</c> is an <c>int (*x)[N]</c>, <c>__type(x, T)</c> a <c>T *x</c>.
/// </summary>
/// <param name="Name">The variable's name (an inner map's is <c>OUTER.inner</c>).</param>
/// <param name="Type">bpf_map_type; numbers bpfsim has no name for are kept as they are.</param>
/// <param name="KeySize">key_size, or the size of the key type.</param>
/// <param name="ValueSize">value_size, or the size of the value type (4 for a map-in-map or prog array).</param>
/// <param name="MaxEntries">max_entries (0 if not given).</param>
/// <param name="Flags">map_flags.</param>
/// <param name="KeyTypeId">The BTF id of the key type, or 0 if only key_size was given.</param>
/// <param name="ValueTypeId">The BTF id of the value type, or 0.</param>
/// <param name="InnerMap">For a map-in-map, the template of its inner maps (from <c>__array(values, ...)</c>).</param>
public sealed record ObjectMap(string Name, MapType Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags,
    uint KeyTypeId, uint ValueTypeId, ObjectMap? InnerMap)
{
    /// <summary>pinning (LIBBPF_PIN_NONE 0, LIBBPF_PIN_BY_NAME 1).</summary>
    public uint Pinning { get; init; }

    /// <summary>numa_node.</summary>
    public uint NumaNode { get; init; }

    /// <summary>map_extra (bloom filter hashes, arena address).</summary>
    public ulong MapExtra { get; init; }

    /// <summary>The map variable's byte offset in <c>.maps</c> (what an ldimm64 relocation's symbol value names).</summary>
    public ulong SectionOffset { get; init; }

    /// <summary>The BTF id of the map's VAR.</summary>
    public uint BtfVarId { get; init; }
}
