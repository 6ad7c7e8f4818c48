using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// One CO-RE relocation as the relocator needs it (struct bpf_core_relo, include/uapi/linux/bpf.h, with its type id
/// and access string resolved against the object's own BTF): the program's local type, the access string clang
/// wrote (<c>"0:1:2"</c>: an index into the pointer, then member or array indices), and what to compute.
/// </summary>
/// <param name="LocalBtf">The object's BTF.</param>
/// <param name="LocalTypeId">The root type in <paramref name="LocalBtf"/> (the struct accessed, the type or enum asked about).</param>
/// <param name="AccessString">The access string; "0" for type-based kinds, the enumerator's index for enum kinds.</param>
/// <param name="Kind">What to compute.</param>
public sealed record CoreRelocation(BtfSpec LocalBtf, uint LocalTypeId, string AccessString, CoreReloKind Kind);
