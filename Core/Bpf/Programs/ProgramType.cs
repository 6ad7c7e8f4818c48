namespace BpfSim.Core.Bpf.Programs;

/// <summary>Program types, numbered as <c>enum bpf_prog_type</c> in include/uapi/linux/bpf.h.</summary>
public enum ProgramType : uint
{
    Unspec = 0,
    SocketFilter = 1,
    /// <summary>A tc classifier; tcx programs (attach types TCX_INGRESS/TCX_EGRESS) are of this type.</summary>
    SchedCls = 3,
    Xdp = 6,
    Tracing = 26,
    /// <summary>Implements one member of a struct_ops type.</summary>
    StructOps = 27,
    Ext = 28,
    Syscall = 31,
}
