using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf.Programs;

/// <summary>
/// A loaded program (struct bpf_prog): id, name, type, for struct_ops the type and member it implements, its body,
/// and run statistics. Subsystems call the body through <see cref="StructOpsKernelData.Function{TDelegate}"/>; packet
/// hooks call <see cref="PacketBody"/>.
/// </summary>
public sealed class BpfProgram : BpfObject
{
    internal BpfProgram(BpfSystem system, ProgramSpec spec, StructOpsType? type, StructOpsMember? member)
        : base(system, BpfObjectKind.Program)
    {
        Name = spec.Name;
        Type = spec.Type;
        StructOpsType = type;
        Member = member;
        Sleepable = spec.Sleepable;
        ExpectedAttachType = spec.ExpectedAttachType;
        Body = spec.Body!;
        Bytecode = spec.Bytecode;
        PacketBody = spec.Body as PacketProgramFunc;
        GlobalFunctions = spec.GlobalFunctions;
        FunctionLinks = spec.GlobalFunctions.Count == 0 ? [] : new FreplaceLink?[spec.GlobalFunctions.Count];
        LoadTimeNs = system.Simulator.Now.Nanoseconds;
    }

    /// <summary>expected_attach_type as loaded (<see cref="ProgramSpec.ExpectedAttachType"/>).</summary>
    public ProgramAttachType ExpectedAttachType { get; }

    /// <summary>The body of an XDP, SCHED_CLS or EXT program; null for other types.</summary>
    internal PacketProgramFunc? PacketBody { get; }

    /// <summary>Global functions an EXT program may replace (BTF FUNCs with global linkage).</summary>
    public IReadOnlyList<string> GlobalFunctions { get; }

    /// <summary>Per global function, the freplace link that currently replaces it (its trampoline's
    /// extension_prog), or null for the original function.</summary>
    internal FreplaceLink?[] FunctionLinks { get; }

    /// <summary>The freplace link replacing global function <paramref name="functionIndex"/> now, or null (the
    /// original function runs). For a dispatcher, index i is slot progI.</summary>
    public FreplaceLink? ReplacementOf(int functionIndex) => FunctionLinks[functionIndex];

    /// <summary>For an EXT program until its first attach: the program it was loaded for (aux->dst_prog).</summary>
    public BpfProgram? AttachTarget { get; internal set; }

    /// <summary>For an EXT program: the function of <see cref="AttachTarget"/> it was loaded to replace.</summary>
    public string? AttachFunc { get; internal set; }

    /// <summary>For an EXT program: the type of the program it extends (aux->saved_dst_prog_type).</summary>
    public ProgramType ExtendedType { get; internal set; }

    /// <summary>For a libxdp dispatcher: its frozen configuration; null for any other program.</summary>
    public XdpDispatcherConfig? DispatcherConfig { get; internal set; }

    /// <summary>Simulated time of the load (bpf_prog_info.load_time).</summary>
    public long LoadTimeNs { get; }

    public string Name { get; }
    public ProgramType Type { get; }

    /// <summary>The struct_ops type it implements a member of (attach_btf_id), if any.</summary>
    public StructOpsType? StructOpsType { get; }

    /// <summary>The member it implements; its index is the program's expected_attach_type.</summary>
    public StructOpsMember? Member { get; }

    public bool Sleepable { get; }

    /// <summary>The managed body (for a bytecode program, its trampoline).</summary>
    public Delegate Body { get; }

    /// <summary>The bytecode behind the body, for a program loaded from a BPF object; null for a managed one.</summary>
    public Ebpf.Loading.BytecodeProgram? Bytecode { get; }

    /// <summary>Invocations counted while <see cref="BpfSystem.StatsEnabled"/> (run_cnt).</summary>
    public long RunCount { get; private set; }

    /// <summary>Wall-clock nanoseconds spent in the body while stats were enabled (run_time_ns).</summary>
    public long RunTimeNs { get; private set; }

    /// <summary>The body wrapped to update the statistics, built on first use.</summary>
    internal Delegate? CountedBody { get; set; }

    internal void Account(long wallNs)
    {
        RunCount++;
        RunTimeNs += wallNs;
    }

    public BpfProgInfo Info => new(Id, TypeName(Type), Name, StructOpsType?.Name ?? AttachFunc, Member?.Name, RunCount, RunTimeNs);

    /// <summary>bpftool's name of a program type (libbpf's prog_type_name), e.g. <c>xdp</c>, <c>sched_cls</c>.</summary>
    public static string TypeName(ProgramType type) => type switch
    {
        ProgramType.SocketFilter => "socket_filter",
        ProgramType.SchedCls => "sched_cls",
        ProgramType.Xdp => "xdp",
        ProgramType.Tracing => "tracing",
        ProgramType.StructOps => "struct_ops",
        ProgramType.Ext => "ext",
        ProgramType.Syscall => "syscall",
        _ => "unspec",
    };

    /// <summary>Index of <paramref name="name"/> in <see cref="GlobalFunctions"/>, or -1.</summary>
    internal int FunctionIndex(string name)
    {
        for (int i = 0; i < GlobalFunctions.Count; i++)
        {
            if (GlobalFunctions[i] == name)
            {
                return i;
            }
        }
        return -1;
    }

    private protected override void OnFree()
    {
        AttachTarget?.Put();
        AttachTarget = null;
    }
}
