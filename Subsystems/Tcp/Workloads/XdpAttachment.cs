using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Loading;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Attaches a loaded XDP program to a device through the simulated bpf(2): BPF_PROG_LOAD of an XDP program whose body is
/// the bytecode's <see cref="BytecodeProgram.RunPacket"/>, then BPF_LINK_CREATE (a link, or a link update to replace
/// an earlier one) or the netlink attach by fd (dev_xdp_attach, with XDP_FLAGS_UPDATE_IF_NOEXIST unless replacing).
/// </summary>
internal static class XdpAttachment
{
    /// <param name="replace">Replace what is attached: a link's program (<paramref name="replaceLinkFd"/>), or a program attached by fd.</param>
    public static BpfResult Attach(BpfSystem bpf, NetDevice dev, BytecodeProgram program, XdpAttachMode mode, bool replace, int replaceLinkFd,
        out int progFd, out int linkFd)
    {
        linkFd = -1;
        var r = bpf.ProgLoad(ObjectLoader.XdpProgramSpec(program), out progFd);
        return r.IsOk ? AttachLoaded(bpf, dev, progFd, mode, replace, replaceLinkFd, out linkFd) : r;
    }

    /// <summary>Attaches an XDP program already loaded (its <paramref name="progFd"/>), as <see cref="Attach"/> does after loading.</summary>
    public static BpfResult AttachLoaded(BpfSystem bpf, NetDevice dev, int progFd, XdpAttachMode mode, bool replace, int replaceLinkFd, out int linkFd)
    {
        linkFd = -1;
        BpfResult r;
        if (mode == XdpAttachMode.Link)
        {
            if (replace && replaceLinkFd >= 0)
            {
                r = bpf.LinkUpdate(replaceLinkFd, progFd, -1);
                linkFd = r.IsOk ? replaceLinkFd : -1;
            }
            else
            {
                r = bpf.XdpLinkCreate(progFd, dev.Ifindex, out linkFd);
            }
        }
        else
        {
            r = bpf.XdpAttach(dev.Ifindex, progFd, replace ? XdpFlags.None : XdpFlags.UpdateIfNoExist);
        }
        return r;
    }

    /// <summary>Detaches: closes the link, or detaches by fd (progFd -1); then closes the program's fd.</summary>
    public static BpfResult Detach(BpfSystem bpf, NetDevice dev, int progFd, int linkFd, XdpAttachMode mode)
    {
        var r = mode == XdpAttachMode.Link ? bpf.Close(linkFd) : bpf.XdpAttach(dev.Ifindex, -1, XdpFlags.None);
        if (progFd >= 0)
        {
            bpf.Close(progFd);
        }
        return r;
    }
}
