using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Attaches C# packet programs to devices for tests.</summary>
internal static class XdpTestPrograms
{
    public static void Attach(BpfSystem bpf, NetDevice dev, PacketProgramFunc body) => dev.Xdp.Body = body;

    public static void AttachTcx(BpfSystem bpf, NetDevice dev, PacketProgramFunc body) => dev.TcxIngress.Body = body;
}
