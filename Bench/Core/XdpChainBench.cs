using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Workloads.XdpChain;

namespace BpfSim.Bench.Core;

/// <summary>
/// The wall-clock cost of one packet through an empty chain (programs that return PASS/NEXT at once) of 1, 3 and 10
/// programs under each design: the chain-call map's lookups, libxdp's dispatcher with its freplace slots, the tcx
/// loop over the mprog bundle. One operation = one packet through the hook, observer off. docs/multi-prog.md.
/// </summary>
[MemoryDiagnoser]
public class XdpChainBench
{
    private const int Headroom = 256;
    private readonly byte[] _frame = new byte[Headroom + 64];
    private BpfSystem _bpf = null!;
    private NetDevice _dev = null!;
    private ProgramScope _scope;

    [Params(1, 3, 10)]
    public int Programs { get; set; }

    [Params(XdpChainDesign.ChainCallMap, XdpChainDesign.Libxdp, XdpChainDesign.Mprog)]
    public XdpChainDesign Design { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bpf = new BpfSystem(new BpfSystemOptions { Cpus = 1 });
        _dev = _bpf.AddNetDevice("eth0");
        switch (Design)
        {
            case XdpChainDesign.ChainCallMap:
                SetupChainMap();
                break;
            case XdpChainDesign.Libxdp:
                SetupDispatcher();
                break;
            default:
                SetupTcx();
                break;
        }
        _scope = _bpf.EnterProgram(0);
    }

    [GlobalCleanup]
    public void Cleanup() => _scope.Dispose();

    private int Load(ProgramType type, string name, PacketProgramFunc body, int target = 0, string? func = null)
    {
        _bpf.ProgLoad(new ProgramSpec { Type = type, Name = name, Body = body, AttachProgFd = target, AttachFunc = func }, out int fd).ThrowIfFailed();
        return fd;
    }

    private void SetupChainMap()
    {
        _bpf.MapCreate(new MapSpec { Type = MapType.ChainCall, KeySize = ChainCallKey.Size, ValueSize = 4, MaxEntries = 64 }, out int map).ThrowIfFailed();
        Span<byte> key = stackalloc byte[ChainCallKey.Size];
        Span<byte> value = stackalloc byte[4];
        uint previous = 0;
        for (int i = 0; i < Programs; i++)
        {
            int fd = Load(ProgramType.Xdp, $"p{i}", ChainBodies.XdpPass);
            (i == 0 ? ChainCallKey.Start : new ChainCallKey(previous, (uint)XdpAction.Pass)).Write(key);
            BinaryPrimitives.WriteInt32LittleEndian(value, fd);
            _bpf.MapUpdateElem(map, key, value).ThrowIfFailed();
            _bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
            previous = info.Id;
        }
        _bpf.XdpAttachChainMap(_dev.Ifindex, map, XdpFlags.None).ThrowIfFailed();
    }

    private void SetupDispatcher()
    {
        var configs = Enumerable.Range(0, Programs).Select(_ => new XdpRunConfig()).ToArray();
        _bpf.LoadXdpDispatcher(XdpDispatcherConfig.For(configs), out int dispatcher).ThrowIfFailed();
        for (int i = 0; i < Programs; i++)
        {
            int ext = Load(ProgramType.Ext, $"p{i}", ChainBodies.XdpPass, dispatcher, $"prog{i}");
            _bpf.FreplaceLinkCreate(ext, dispatcher, $"prog{i}", out _).ThrowIfFailed();
        }
        _bpf.XdpAttach(_dev.Ifindex, dispatcher, XdpFlags.None).ThrowIfFailed();
    }

    private void SetupTcx()
    {
        for (int i = 0; i < Programs; i++)
        {
            int fd = Load(ProgramType.SchedCls, $"p{i}", ChainBodies.TcxNext);
            _bpf.ProgAttach(_dev.Ifindex, fd, MprogFlags.After, 0, 0).ThrowIfFailed();
        }
    }

    [Benchmark]
    public int Packet()
    {
        var ctx = new PacketContext { Frame = _frame, Data = Headroom, DataMeta = Headroom, DataEnd = Headroom + 64, IngressIfindex = _dev.Ifindex };
        return Design == XdpChainDesign.Mprog ? _dev.TcxIngress.Run(ref ctx) : _dev.Xdp.Run(ref ctx);
    }
}
