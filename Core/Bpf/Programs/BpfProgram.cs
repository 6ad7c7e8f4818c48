using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf.Programs;

/// <summary>
/// A loaded program (struct bpf_prog): id, name, type, for struct_ops the type and member it implements, its body,
/// and run statistics. Subsystems call the body through <see cref="StructOpsKernelData.Function{TDelegate}"/>.
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
        Body = spec.Body!;
        Bytecode = spec.Bytecode;
    }

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

    public BpfProgInfo Info => new(Id, "struct_ops", Name, StructOpsType?.Name, Member?.Name, RunCount, RunTimeNs);
}
