using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Tests.Core.Bpf.Net;

/// <summary>A BpfSystem with one device and helpers to load packet programs that record their runs.</summary>
public sealed class PacketRig
{
    public PacketRig(int devices = 1, bool syncRcu = true)
    {
        Bpf = new BpfSystem(new BpfSystemOptions { Cpus = 2, TcxSynchronizeRcu = syncRcu });
        for (int i = 0; i < devices; i++)
        {
            Bpf.AddNetDevice($"eth{i}");
        }
    }

    public BpfSystem Bpf { get; }

    public NetDevice Dev => Bpf.NetDevices[0];

    /// <summary>Names of the programs that ran, in order, since the last <see cref="RunXdp"/>/<see cref="RunTcx"/>.</summary>
    public List<string> Ran { get; } = [];

    public int Load(ProgramType type, string name, int ret)
    {
        var r = Bpf.ProgLoad(new ProgramSpec
        {
            Type = type,
            Name = name,
            License = "Dual BSD/GPL",
            Body = new PacketProgramFunc((ref PacketContext _) =>
            {
                Ran.Add(name);
                return ret;
            }),
        }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    public int Xdp(string name, XdpAction ret = XdpAction.Pass) => Load(ProgramType.Xdp, name, (int)ret);

    public int Tc(string name, int ret = TcxAction.Next) => Load(ProgramType.SchedCls, name, ret);

    public BpfProgram Prog(int fd)
    {
        Assert.That(Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).IsOk);
        Assert.That(Bpf.Objects.TryGet(BpfObjectKind.Program, info.Id, out var o));
        return (BpfProgram)o;
    }

    public int RunXdp()
    {
        Ran.Clear();
        var frame = new byte[64];
        var ctx = new PacketContext { Frame = frame, Data = 0, DataEnd = 64, DataMeta = 0, IngressIfindex = Dev.Ifindex };
        return Dev.Xdp.Run(ref ctx);
    }

    public int RunTcx()
    {
        Ran.Clear();
        var frame = new byte[64];
        var ctx = new PacketContext { Frame = frame, Data = 0, DataEnd = 64, DataMeta = 0, IngressIfindex = Dev.Ifindex };
        return Dev.TcxIngress.Run(ref ctx);
    }
}
