using System.Collections.Immutable;

namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// A global-data section (<c>.bss</c>, <c>.data</c>, <c>.rodata</c>, <c>.data.*</c>, <c>.rodata.*</c>), which libbpf
/// turns into a single-entry array map (bpf_object__init_global_data_maps).
/// </summary>
/// <param name="Name">The section name.</param>
/// <param name="Size">The section's size in bytes.</param>
/// <param name="Bytes">Its initial bytes; empty for <c>.bss</c> (zero-filled, <see cref="IsBss"/>).</param>
/// <param name="IsReadOnly">A <c>.rodata*</c> section (libbpf freezes its map: BPF_F_RDONLY_PROG).</param>
/// <param name="DatasecTypeId">The id of its BTF DATASEC, or 0 if the BTF has none.</param>
/// <param name="Variables">Its variables by offset.</param>
public sealed record ObjectDataSection(string Name, uint Size, ImmutableArray<byte> Bytes, bool IsReadOnly, uint DatasecTypeId,
    IReadOnlyList<ObjectVariable> Variables)
{
    /// <summary>A NOBITS section: no bytes in the file, all zero at load.</summary>
    public bool IsBss => Bytes.IsEmpty && Size > 0;
}
