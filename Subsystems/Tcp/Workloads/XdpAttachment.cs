using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Loading;

namespace BpfSim.Tcp.Workloads;

/// <summary>Attaches a loaded XDP program to a device through the simulated bpf(2), as a link or by fd, and detaches it.</summary>
internal static class XdpAttachment
{
    // STAND-IN until t-kern's milestone 1: sets the hook's body directly.
    public static BpfResult Attach(BpfSystem bpf, NetDevice dev, BytecodeProgram program, XdpAttachMode mode, bool replace, out int progFd, out int linkFd)
    {
        (progFd, linkFd) = (-1, -1);
        if (!dev.Xdp.IsEmpty && !replace)
        {
            return BpfResult.Fail(Errno.EBUSY, "XDP program already attached");
        }
        dev.Xdp.Body = program.RunPacket;
        return BpfResult.Ok;
    }

    public static BpfResult Detach(BpfSystem bpf, NetDevice dev, int progFd, int linkFd, XdpAttachMode mode)
    {
        dev.Xdp.Body = null;
        return BpfResult.Ok;
    }
}
