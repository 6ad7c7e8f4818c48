using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// A link of an EXT program replacing a global function of another program (struct bpf_tracing_link with a
/// BPF_TRAMP_REPLACE trampoline, kernel/bpf/syscall.c bpf_tracing_prog_attach and kernel/bpf/trampoline.c): while
/// attached, calls of <see cref="Function"/> in <see cref="Target"/> run <see cref="Program"/>. Detaching restores
/// the original function.
/// </summary>
public sealed class FreplaceLink : BpfLink
{
    internal FreplaceLink(BpfSystem system, BpfProgram ext, BpfProgram target, int functionIndex) : base(system)
    {
        Program = ext;
        Target = target;
        FunctionIndex = functionIndex;
    }

    /// <summary>The EXT program; the link holds a reference until freed.</summary>
    public BpfProgram Program { get; }

    /// <summary>The extended program (link->tgt_prog); the link holds a reference until freed.</summary>
    public BpfProgram Target { get; }

    /// <summary>Index of the replaced function in the target's <see cref="BpfProgram.GlobalFunctions"/>.</summary>
    public int FunctionIndex { get; }

    /// <summary>The replaced function's name, e.g. <c>prog3</c>.</summary>
    public string Function => Target.GlobalFunctions[FunctionIndex];

    public override string TypeName => "tracing";

    public override bool IsDetached { get => _detached; }

    private bool _detached;

    /// <summary>bpf_trampoline_unlink_prog: the target's function is its own again.</summary>
    internal override void Detach()
    {
        if (_detached)
        {
            return;
        }
        _detached = true;
        if (ReferenceEquals(Target.FunctionLinks[FunctionIndex], this))
        {
            Target.FunctionLinks[FunctionIndex] = null;
        }
    }

    private protected override void OnFree()
    {
        Program.Put();
        Target.Put();
    }
}
