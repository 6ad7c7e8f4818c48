using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// An XDP link (struct bpf_xdp_link, net/core/dev.c): holds the XDP hook of one device with its program until it is
/// detached or released; <see cref="BpfSystem.LinkUpdate(int, int, int)"/> swaps the program (bpf_xdp_link_update).
/// </summary>
public sealed class XdpLink : BpfLink
{
    internal XdpLink(BpfSystem system, NetDevice dev, BpfProgram prog, XdpFlags flags) : base(system)
    {
        Device = dev;
        Program = prog;
        Flags = flags;
    }

    /// <summary>The device, or null once detached (xdp_link->dev).</summary>
    public NetDevice? Device { get; private set; }

    /// <summary>The program (link->prog); the link holds a reference until it is freed.</summary>
    public BpfProgram Program { get; internal set; }

    /// <summary>The mode flags given at creation.</summary>
    public XdpFlags Flags { get; }

    public override string TypeName => "xdp";

    public override bool IsDetached => Device is null;

    /// <summary>bpf_xdp_link_release / dev_xdp_detach_link: uninstall and forget the device.</summary>
    internal override void Detach()
    {
        var dev = Device;
        if (dev is null)
        {
            return;
        }
        if (ReferenceEquals(dev.Xdp.Link, this))
        {
            dev.Xdp.SetLink(null, null);
        }
        Device = null;
    }

    private protected override void OnFree() => Program.Put();
}
