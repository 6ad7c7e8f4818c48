namespace BpfSim.Core.Ebpf.Spec;

/// <summary>What an instruction relocation refers to, as libbpf's bpf_program__record_reloc (tools/lib/bpf/libbpf.c) classifies it.</summary>
public enum RelocationKind
{
    /// <summary>An ldimm64 of a BTF-defined map (a <c>.maps</c> symbol): RELO_LD64.</summary>
    Map,
    /// <summary>An ldimm64 of global data (<c>.bss</c>, <c>.data*</c>, <c>.rodata*</c>): RELO_DATA.</summary>
    Data,
    /// <summary>An ldimm64 of a <c>.kconfig</c> extern: RELO_EXTERN_LD64.</summary>
    Kconfig,
    /// <summary>A kfunc call or an ldimm64 of a <c>.ksyms</c> extern (its address, or 0 if a weak one is missing): RELO_EXTERN_CALL / RELO_EXTERN_LD64.</summary>
    Ksym,
    /// <summary>A bpf-to-bpf call into <c>.text</c>: RELO_CALL.</summary>
    SubprogramCall,
    /// <summary>An ldimm64 of a <c>.text</c> function's address (a callback): RELO_SUBPROG_ADDR.</summary>
    SubprogramAddress,
}
