namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// What a program's ELF section name says about it, after libbpf's section_defs table (tools/lib/bpf/libbpf.c):
/// <c>struct_ops</c> and <c>struct_ops/NAME</c> are struct_ops programs, <c>struct_ops.s/NAME</c> sleepable ones.
/// </summary>
public enum ProgramSectionKind
{
    /// <summary>A section name libbpf would not recognise; the loader must be told the program type.</summary>
    Unknown,
    /// <summary><c>.text</c>: bpf-to-bpf subprograms, never loaded on their own.</summary>
    Text,
    /// <summary><c>struct_ops</c> or <c>struct_ops/NAME</c> (BPF_PROG_TYPE_STRUCT_OPS).</summary>
    StructOps,
    /// <summary><c>struct_ops.s/NAME</c>: a sleepable struct_ops program.</summary>
    StructOpsSleepable,
    /// <summary><c>xdp</c>, <c>xdp.frags</c> and their <c>/NAME</c> forms.</summary>
    Xdp,
    /// <summary><c>socket</c>.</summary>
    SocketFilter,
    /// <summary><c>kprobe/</c>, <c>uprobe/</c>.</summary>
    Kprobe,
    /// <summary><c>kretprobe/</c>, <c>uretprobe/</c>.</summary>
    Kretprobe,
    /// <summary><c>tracepoint/</c>, <c>tp/</c>.</summary>
    Tracepoint,
    /// <summary><c>raw_tracepoint/</c>, <c>raw_tp/</c>, <c>tp_btf/</c>.</summary>
    RawTracepoint,
    /// <summary><c>fentry/</c>, <c>fexit/</c>, <c>fmod_ret/</c> (and sleepable <c>.s</c> forms).</summary>
    Tracing,
    /// <summary><c>lsm/</c>, <c>lsm.s/</c>.</summary>
    Lsm,
    /// <summary><c>tc</c>, <c>tcx/</c>, <c>classifier</c>, <c>action</c>.</summary>
    SchedCls,
    /// <summary><c>sockops</c>.</summary>
    SockOps,
    /// <summary><c>syscall</c>.</summary>
    Syscall,
}
