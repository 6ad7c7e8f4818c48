using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// A tcx link (struct tcx_link, BPF_LINK_TYPE_TCX, kernel/bpf/tcx.c): owns one entry of a device's tcx bundle until
/// detached or released; <see cref="BpfSystem.LinkUpdate(int, int, int)"/> replaces its program in place.
/// </summary>
public sealed class TcxLink : BpfLink
{
    internal TcxLink(BpfSystem system, NetDevice dev, BpfProgram prog) : base(system)
    {
        Device = dev;
        Program = prog;
    }

    /// <summary>The device, or null once detached (tcx->dev).</summary>
    public NetDevice? Device { get; internal set; }

    /// <summary>The program (link->prog); the link holds a reference until it is freed.</summary>
    public BpfProgram Program { get; internal set; }

    public override string TypeName => "tcx";

    public override bool IsDetached => Device is null;

    /// <summary>tcx_link_release: remove the link's entry from the bundle.</summary>
    internal override void Detach() => System.DetachTcxLink(this);

    private protected override void OnFree() => Program.Put();
}
