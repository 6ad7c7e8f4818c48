using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// Everything bpfsim reads from a clang-compiled BPF object, before anything is loaded: a plain container in the manner
/// of cilium/ebpf's CollectionSpec (deterministic, no behaviour). <see cref="Elf.ObjectReader"/> makes it.
/// </summary>
/// <param name="Name">The object's name (by convention its file name without .o).</param>
/// <param name="License">The <c>license</c> section's string, or empty if there is none.</param>
/// <param name="KernelVersion">The <c>version</c> section's u32, if present.</param>
/// <param name="Btf">The object's BTF with DATASEC sizes and variable offsets filled in as libbpf's btf_fixup_datasec does.</param>
/// <param name="BtfExt">The .BTF.ext records by section (also attached to each program).</param>
/// <param name="Programs">Programs in section order, then offset.</param>
/// <param name="Subprograms">Functions of <c>.text</c>, the targets of bpf-to-bpf calls.</param>
/// <param name="Maps">BTF-defined maps in <c>.maps</c> order.</param>
/// <param name="DataSections">Global-data sections in section order.</param>
/// <param name="Externs">Kconfig and ksym externs in symbol order.</param>
/// <param name="StructOps">struct_ops variables in section order, then offset.</param>
public sealed record ObjectSpec(string Name, string License, uint? KernelVersion, BtfSpec Btf, BtfExt BtfExt,
    IReadOnlyList<ObjectProgram> Programs, IReadOnlyList<ObjectProgram> Subprograms, IReadOnlyList<ObjectMap> Maps,
    IReadOnlyList<ObjectDataSection> DataSections, IReadOnlyList<ObjectExtern> Externs, IReadOnlyList<ObjectStructOps> StructOps);
