using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Loads C# packet programs and attaches them to devices through the simulated bpf(2), for tests.</summary>
internal static class XdpTestPrograms
{
    public static int Load(BpfSystem bpf, PacketProgramFunc body, ProgramType type = ProgramType.Xdp)
    {
        bpf.ProgLoad(new ProgramSpec { Type = type, Name = "test", Body = body }, out int fd).ThrowIfFailed();
        return fd;
    }

    public static void Attach(BpfSystem bpf, NetDevice dev, PacketProgramFunc body) =>
        bpf.XdpAttach(dev.Ifindex, Load(bpf, body), XdpFlags.None).ThrowIfFailed();

    public static void AttachTcx(BpfSystem bpf, NetDevice dev, PacketProgramFunc body) =>
        bpf.ProgAttach(dev.Ifindex, Load(bpf, body, ProgramType.SchedCls), MprogFlags.None, 0, 0).ThrowIfFailed();
}
