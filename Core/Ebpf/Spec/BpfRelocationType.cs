namespace BpfSim.Core.Ebpf.Spec;

/// <summary>The BPF ELF relocation types (llvm's ELFRelocs/BPF.def; Documentation/bpf/llvm_reloc.rst).</summary>
public enum BpfRelocationType : uint
{
    /// <summary>R_BPF_NONE.</summary>
    None = 0,
    /// <summary>R_BPF_64_64: the 64-bit immediate of an ldimm64 (maps, global data, kconfig, ksym variables).</summary>
    Bpf64_64 = 1,
    /// <summary>R_BPF_64_ABS64: a 64-bit data word (struct_ops function pointers, .maps values).</summary>
    Bpf64Abs64 = 2,
    /// <summary>R_BPF_64_ABS32: a 32-bit data word (debug info).</summary>
    Bpf64Abs32 = 3,
    /// <summary>R_BPF_64_NODYLD32: a 32-bit data word the dynamic loader leaves alone (.BTF.ext).</summary>
    Bpf64NoDyld32 = 4,
    /// <summary>R_BPF_64_32: a call's 32-bit immediate (subprogram calls, kfuncs).</summary>
    Bpf64_32 = 10,
}
