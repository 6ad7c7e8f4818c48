using System.Collections.Immutable;

namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// A struct_ops variable of <c>.struct_ops</c> or <c>.struct_ops.link</c> (libbpf's init_struct_ops_maps and
/// bpf_object__collect_st_ops_relos): the struct's bytes as initialised in C, and which program each function-pointer
/// member names.
/// </summary>
/// <param name="Name">The variable's name (the struct_ops map's name).</param>
/// <param name="SectionName"><c>.struct_ops</c> or <c>.struct_ops.link</c>.</param>
/// <param name="IsLink">Declared in <c>.struct_ops.link</c>: registered through a link (BPF_F_LINK).</param>
/// <param name="TypeName">The kernel struct it implements, e.g. <c>tcp_congestion_ops</c>.</param>
/// <param name="TypeId">The BTF id of that struct in the object's BTF.</param>
/// <param name="SectionOffset">The variable's byte offset in its section.</param>
/// <param name="Data">The struct's bytes (its BTF size); function-pointer slots are zero.</param>
/// <param name="Programs">Function-pointer member name → program name, in member order.</param>
public sealed record ObjectStructOps(string Name, string SectionName, bool IsLink, string TypeName, uint TypeId, uint SectionOffset,
    ImmutableArray<byte> Data, IReadOnlyList<KeyValuePair<string, string>> Programs);
