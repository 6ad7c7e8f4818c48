namespace BpfSim.Core.Bpf.Programs;

/// <summary>
/// What BPF_PROG_LOAD is asked to load: a plain description. For struct_ops programs, <see cref="StructOpsType"/>
/// and <see cref="Member"/> stand in for attach_btf_id and expected_attach_type (the member index), and
/// <see cref="Body"/> is the managed implementation (a delegate of the member's signature). For packet programs
/// (XDP, SCHED_CLS, and EXT programs replacing one of their functions) the body is a
/// <see cref="Net.PacketProgramFunc"/>, managed or the trampoline of <see cref="Bytecode"/>.
/// </summary>
public sealed record ProgramSpec
{
    public required ProgramType Type { get; init; }

    /// <summary>Object name: at most 15 characters of [A-Za-z0-9_.].</summary>
    public string Name { get; init; } = "";

    /// <summary>Struct_ops programs must be GPL-compatible (check_struct_ops_btf_id in kernel/bpf/verifier.c); packet
    /// programs take any license, as the kernel does unless they call a GPL-only helper.</summary>
    public string License { get; init; } = "GPL";

    /// <summary>The struct_ops type the program implements a member of, e.g. <c>tcp_congestion_ops</c>.</summary>
    public string? StructOpsType { get; init; }

    /// <summary>The member it implements, e.g. <c>ssthresh</c>.</summary>
    public string? Member { get; init; }

    /// <summary>A sleepable program (<c>SEC("struct_ops.s")</c>); only some members allow it.</summary>
    public bool Sleepable { get; init; }

    /// <summary>The program body: a delegate whose type is the member's signature.</summary>
    public Delegate? Body { get; init; }

    /// <summary>The bytecode the body runs, for a program from a BPF object (for dumps and statistics).</summary>
    public Ebpf.Loading.BytecodeProgram? Bytecode { get; init; }

    /// <summary>
    /// expected_attach_type: for an XDP program, where it may run; a BPF_XDP_DEVMAP or BPF_XDP_CPUMAP program cannot be
    /// attached to a device (EINVAL).
    /// </summary>
    public ProgramAttachType ExpectedAttachType { get; init; }

    /// <summary>
    /// For an EXT program: the fd of the program whose function it replaces (attach_prog_fd); 0 for none.
    /// </summary>
    public int AttachProgFd { get; init; }

    /// <summary>For an EXT program: the global function of the target it replaces (the BTF func attach_btf_id names),
    /// e.g. <c>prog0</c> of a libxdp dispatcher.</summary>
    public string? AttachFunc { get; init; }

    /// <summary>
    /// For an XDP or SCHED_CLS program: its global (non-static) BTF functions, which EXT programs may replace.
    /// Empty for a program without sub-functions.
    /// </summary>
    public IReadOnlyList<string> GlobalFunctions { get; init; } = [];
}
