using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Tests.Core.Bpf.Net;

/// <summary>Running a hook allocates nothing, for each way of chaining programs, with and without an observer.</summary>
[Category("Core")]
public sealed class HookAllocationTests
{
    private sealed class CountingObserver : IPacketProgramObserver
    {
        public long Runs;
        public long Lookups;

        public void OnProgramRun(NetDevice dev, BpfProgram prog, int ret) => Runs++;

        public void OnChainLookup(NetDevice dev) => Lookups++;
    }

    private static int Load(BpfSystem bpf, ProgramType type, string name, int ret, int target = 0, string? func = null)
    {
        var r = bpf.ProgLoad(new ProgramSpec
        {
            Type = type,
            Name = name,
            AttachProgFd = target,
            AttachFunc = func,
            Body = ret switch
            {
                2 => new PacketProgramFunc(static (ref PacketContext _) => 2),
                _ => new PacketProgramFunc(static (ref PacketContext _) => -1),
            },
        }, out int fd);
        r.ThrowIfFailed();
        return fd;
    }

    private static long Allocated(NetDevice dev, Func<NetDevice, int> run, int expected)
    {
        for (int i = 0; i < 100; i++)
        {
            Assert.That(run(dev), Is.EqualTo(expected));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            run(dev);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static int RunXdp(NetDevice dev)
    {
        Span<byte> frame = stackalloc byte[64];
        var ctx = new PacketContext { Frame = frame, DataEnd = 64 };
        return dev.Xdp.Run(ref ctx);
    }

    private static int RunTcx(NetDevice dev)
    {
        Span<byte> frame = stackalloc byte[64];
        var ctx = new PacketContext { Frame = frame, DataEnd = 64 };
        return dev.TcxIngress.Run(ref ctx);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EveryHook_10000Runs_AllocateNothing(bool observed)
    {
        var bpf = new BpfSystem(new BpfSystemOptions { Cpus = 1, TcxSynchronizeRcu = false });
        var observer = new CountingObserver();
        if (observed)
        {
            bpf.PacketObserver = observer;
        }
        var single = bpf.AddNetDevice("single");
        var chain = bpf.AddNetDevice("chain");
        var libxdp = bpf.AddNetDevice("libxdp");

        bpf.XdpAttach(single.Ifindex, Load(bpf, ProgramType.Xdp, "p", 2), XdpFlags.None).ThrowIfFailed();

        // tcx: three programs, the first two pass the packet on.
        bpf.ProgAttach(single.Ifindex, Load(bpf, ProgramType.SchedCls, "t0", -1), MprogFlags.None, 0, 0).ThrowIfFailed();
        bpf.ProgAttach(single.Ifindex, Load(bpf, ProgramType.SchedCls, "t1", -1), MprogFlags.None, 0, 0).ThrowIfFailed();
        bpf.ProgAttach(single.Ifindex, Load(bpf, ProgramType.SchedCls, "t2", 2), MprogFlags.None, 0, 0).ThrowIfFailed();

        // chain-call map: three programs, each PASS leads to the next.
        bpf.MapCreate(new MapSpec { Type = MapType.ChainCall, KeySize = 8, ValueSize = 4, MaxEntries = 8 }, out int map).ThrowIfFailed();
        uint previous = 0;
        for (int i = 0; i < 3; i++)
        {
            int fd = Load(bpf, ProgramType.Xdp, $"c{i}", 2);
            bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
            var key = new ChainCallKey(previous, previous == 0 ? 0u : 2u).ToBytes();
            bpf.MapUpdateElem(map, key, BitConverter.GetBytes(fd)).ThrowIfFailed();
            previous = info.Id;
        }
        bpf.XdpAttachChainMap(chain.Ifindex, map, XdpFlags.None).ThrowIfFailed();

        // libxdp: a dispatcher with three EXT programs, default masks (chain on PASS).
        bpf.LoadXdpDispatcher(XdpDispatcherConfig.For([new XdpRunConfig(), new XdpRunConfig(), new XdpRunConfig()]), out int d).ThrowIfFailed();
        for (int i = 0; i < 3; i++)
        {
            int ext = Load(bpf, ProgramType.Ext, $"e{i}", 2, d, $"prog{i}");
            bpf.FreplaceLinkCreate(ext, 0, null, out _).ThrowIfFailed();
        }
        bpf.XdpAttach(libxdp.Ifindex, d, XdpFlags.None).ThrowIfFailed();

        Assert.Multiple(() =>
        {
            Assert.That(Allocated(single, RunXdp, 2), Is.Zero, "single XDP program");
            Assert.That(Allocated(single, RunTcx, 2), Is.Zero, "tcx bundle");
            Assert.That(Allocated(chain, RunXdp, 2), Is.Zero, "chain-call map");
            Assert.That(Allocated(libxdp, RunXdp, 2), Is.Zero, "libxdp dispatcher");
        });
        if (observed)
        {
            Assert.That(observer.Runs, Is.EqualTo(10_100 * (1 + 3 + 3 + 4)));
            Assert.That(observer.Lookups, Is.EqualTo(10_100 * 4));
        }
    }
}
