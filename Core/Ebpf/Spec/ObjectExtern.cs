namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// An undefined symbol the loader must resolve (libbpf's bpf_object__collect_externs): a kconfig value or a kernel
/// symbol. Resolution is the loader's job.
/// </summary>
/// <param name="Name">The symbol's name.</param>
/// <param name="Kind">Kconfig or ksym.</param>
/// <param name="IsWeak">STB_WEAK: the object loads even if the kernel lacks it (a weak kfunc's address reads as 0).</param>
/// <param name="TypeId">For a function, its BTF FUNC (whose proto gives the signature); for a variable, its VAR's type.</param>
/// <param name="IsFunction">A kfunc (a BTF FUNC) rather than a variable.</param>
public sealed record ObjectExtern(string Name, ExternKind Kind, bool IsWeak, uint TypeId, bool IsFunction);
