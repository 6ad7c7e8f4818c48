using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Programs.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// tcp_congestion_ops through the struct_ops framework: layout, init_member and validate of bpf_tcp_ca.c, the
/// registry rules of tcp_cong.c, and the bpf_tcp_ca selftests that apply without a network.
/// </summary>
[Category("Tcp")]
public sealed class TcpCongestionOpsTypeTests
{
    [StructOps("tcp_congestion_ops", Name = "bpf_incompl_ops")]
    private sealed class Incomplete : TcpCongestionOpsProgram
    {
        public override uint Ssthresh(ref TcpSock sk) => 2;

        public override uint UndoCwnd(ref TcpSock sk) => sk.SndCwnd;
    }

    [StructOps("tcp_congestion_ops", Name = "tcp_ca_update", Link = true)]
    private sealed class Updatable(uint ssthresh) : TcpCongestionOpsProgram
    {
        public Updatable() : this(7)
        {
        }

        public int Inits { get; private set; }

        public override void Init(ref TcpSock sk) => Inits++;

        public override uint Ssthresh(ref TcpSock sk) => ssthresh;

        public override void CongControl(ref TcpSock sk, uint ack, int flag, in RateSample rs)
        {
        }

        public override uint UndoCwnd(ref TcpSock sk) => sk.SndCwnd;
    }

    [StructOps("tcp_congestion_ops", Name = "tcp_ca_wrong", Link = true)]
    private sealed class Wrong : TcpCongestionOpsProgram
    {
        public override uint Ssthresh(ref TcpSock sk) => 2;

        public override uint UndoCwnd(ref TcpSock sk) => sk.SndCwnd;

        public override void CongControl(ref TcpSock sk, uint ack, int flag, in RateSample rs)
        {
        }
    }

    [StructOps("tcp_congestion_ops", Name = "my-cc")]
    private sealed class BadName : TcpCongestionOpsProgram
    {
        public override uint Ssthresh(ref TcpSock sk) => 2;

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
        {
        }

        public override uint UndoCwnd(ref TcpSock sk) => sk.SndCwnd;
    }

    [Test]
    public void ConsumerWithInvalidAlgorithmName_MapCreated_UpdateRejectsName()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Load(new BadName());
        Assert.That(loaded.Map.Name, Is.EqualTo("my_cc"), "the map name is sanitised like a C identifier");
        var r = loaded.Register();
        Assert.That(r.Reason, Is.EqualTo("BPF_MAP_UPDATE_ELEM: EINVAL (22): name must be 1-15 characters of [A-Za-z0-9_.] and NUL-terminated"));
    }

    [Test]
    public void Layout_MatchesLinux618()
    {
        var t = new TcpTestSystem().Type;
        Assert.That(t.ValueSize, Is.EqualTo(256));
        int Offset(string m) => StructOpsType.DataOffset + t.FindMember(m)!.Offset;
        Assert.That((Offset("ssthresh"), Offset("cong_avoid"), Offset("undo_cwnd"), Offset("name"), Offset("init"), Offset("release")),
            Is.EqualTo((64, 72, 128, 152, 200, 208)));
        Assert.That(t.Members.Select(m => m.Name), Is.EqualTo(new[]
        {
            "ssthresh", "cong_avoid", "set_state", "cwnd_event", "in_ack_event", "pkts_acked", "min_tso_segs", "cong_control",
            "undo_cwnd", "sndbuf_expand", "get_info", "name", "owner", "list", "key", "flags", "init", "release",
        }));
    }

    [Test]
    public void BuiltinMinimal_Registers_BecomesAnAlgorithm()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Register(ConsumerCatalog.Create(sys.Catalog.Find("bpf_minimal")!));
        Assert.That(loaded.Map.State, Is.EqualTo(StructOpsState.InUse));
        Assert.That(sys.Registry.Available.Select(a => a.Name), Is.EqualTo(new[] { "reno", "cubic", "dctcp", "bbr", "bpf_minimal" }));
        Assert.That(sys.Registry.TryAcquire("bpf_minimal", out var ca).IsOk);
        var sk = TcpTestSystem.Socket(cwnd: 40);
        Assert.That(ca.Ssthresh!(ref sk), Is.EqualTo(20));
        Assert.That(ca.IsBpf, Is.True);
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(2), "registration + one socket");
    }

    [Test]
    public void IncompleteOps_LoadsButAttachFails_EINVAL()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Load(new Incomplete());
        var r = loaded.Register();
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("cong_avoid or cong_control"));
        Assert.That(loaded.Map.State, Is.EqualTo(StructOpsState.Init));
    }

    [Test]
    public void GetInfoProgram_Unsupported_ENOTSUPP()
    {
        var sys = new TcpTestSystem();
        var r = sys.Bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.StructOps, Name = "get_info", StructOpsType = "tcp_congestion_ops", Member = "get_info",
            Body = (GetInfoFn)((ref TcpSock sk, uint ext, ref int attr, Span<byte> info) => 0),
        }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOTSUPP));
        Assert.That(r.Reason, Does.Contain("attach to unsupported member get_info of struct tcp_congestion_ops"));
    }

    private static byte[] MinimalValue(TcpTestSystem sys, string name, uint flags, out int mapFd)
    {
        var loaded = sys.Load(new BpfMinimal());
        mapFd = loaded.MapFd;
        var value = loaded.PendingValue.ToArray();
        Array.Clear(value, 152, 16);
        System.Text.Encoding.ASCII.GetBytes(name).AsSpan(0, Math.Min(name.Length, 16)).ToArray().CopyTo(value, 152);
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(64 + 132), flags);
        return value;
    }

    [TestCase("", 0u, "name")]
    [TestCase("bad-name", 0u, "name")]
    [TestCase("sixteen_chars_xx", 0u, "name")]
    [TestCase("fine", 4u, "TCP_CONG_MASK")]
    public void InitMember_BadNameOrFlags_EINVAL(string name, uint flags, string reason)
    {
        var sys = new TcpTestSystem();
        var value = MinimalValue(sys, name, flags, out int fd);
        var r = sys.Bpf.MapUpdateElem(fd, new byte[4], value);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain(reason));
    }

    [Test]
    public void DuplicateName_EEXIST_ReusableAtOnceAfterUnregister()
    {
        var sys = new TcpTestSystem();
        var first = sys.Register(new BpfMinimal());
        Assert.That(sys.Load(new BpfMinimal()).Register().Errno, Is.EqualTo(Errno.EEXIST));
        first.Unregister().ThrowIfFailed();
        Assert.That(sys.Load(new BpfMinimal()).Register().IsOk, "the same name registers again at once");
    }

    [Test]
    public void Unregister_ExistingSocketsKeepIt_NewOnesGetENOENT_FreedAtLastClose()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Register(new BpfMinimal());
        var sockets = Enumerable.Range(0, 4).Select(_ =>
        {
            sys.Registry.TryAcquire("bpf_minimal", out var ca).ThrowIfFailed();
            return ca;
        }).ToList();
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(5));
        loaded.Unregister().ThrowIfFailed();
        loaded.Dispose();
        Assert.That(loaded.Map.State, Is.EqualTo(StructOpsState.ToBeFree));
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(4));
        Assert.That(sys.Registry.TryAcquire("bpf_minimal", out _).Errno, Is.EqualTo(Errno.ENOENT));
        var sk = TcpTestSystem.Socket(cwnd: 10);
        Assert.That(sockets[0].UndoCwnd!(ref sk), Is.EqualTo(10), "existing sockets still run it");
        foreach (var ca in sockets)
        {
            TcpCongestionRegistry.Release(ca);
        }
        sys.Bpf.Simulator.RunUntil(sys.Bpf.Simulator.Now + BpfSim.Core.Simulation.SimTime.FromMilliseconds(20));
        Assert.That(loaded.Map.IsFreed, Is.True);
    }

    [Test]
    public void NewRegistry_BuiltinsInOrder_CubicIsDefault()
    {
        var registry = new TcpCongestionRegistry();
        Assert.That(registry.Available.Select(a => a.Name), Is.EqualTo(new[] { "reno", "cubic", "dctcp", "bbr" }));
        Assert.That(registry.Default, Is.SameAs(Cubic.Ops), "CONFIG_DEFAULT_TCP_CONG=\"cubic\"");
        Assert.That(registry.AssignDefault(), Is.SameAs(Cubic.Ops));
        Assert.That(registry.Find("dctcp")!.Flags, Is.EqualTo(TcpCongFlags.NeedsEcn));
    }

    [Test]
    public void Default_PinsItsAlgorithm_NewSocketsKeepGettingItAfterUnregister_UntilReplaced()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Register(new BpfMinimal());
        Assert.That(sys.Registry.SetDefault("bpf_minimal").IsOk);
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(2), "registration + the default's pin");
        loaded.Unregister().ThrowIfFailed();
        loaded.Dispose();
        var socket = sys.Registry.AssignDefault();
        Assert.That(socket.Name, Is.EqualTo("bpf_minimal"), "tcp_assign_congestion_control uses the pinned default");
        TcpCongestionRegistry.Release(socket);
        Assert.That(sys.Registry.SetDefault("nope").Errno, Is.EqualTo(Errno.ENOENT));
        sys.Registry.SetDefault("reno").ThrowIfFailed();
        sys.Bpf.Simulator.RunUntil(sys.Bpf.Simulator.Now + BpfSim.Core.Simulation.SimTime.FromMilliseconds(20));
        Assert.That(loaded.Map.IsFreed, Is.True, "the default's pin was the last reference");
        Assert.That(sys.Registry.AssignDefault().Name, Is.EqualTo("reno"));
    }

    [Test]
    public void Unregister_WaitsForAGracePeriod()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Register(new BpfMinimal());
        long before = sys.Bpf.Rcu.CompletedGracePeriods;
        loaded.Unregister().ThrowIfFailed();
        Assert.That(sys.Bpf.Rcu.CompletedGracePeriods, Is.GreaterThan(before), "tcp_unregister_congestion_control calls synchronize_rcu");
    }

    [Test]
    public void LinkUpdate_UpdateCa_NewSocketsGetNewOps_UpdateWrong_EINVAL()
    {
        var sys = new TcpTestSystem();
        var v1 = new Updatable(7);
        var v2 = new Updatable(9);
        var first = sys.Register(v1);
        Assert.That(first.LinkFd, Is.GreaterThan(0));
        sys.Registry.TryAcquire("tcp_ca_update", out var oldCa).ThrowIfFailed();
        var sk = TcpTestSystem.Socket();
        oldCa.Init!(ref sk);
        Assert.That(v1.Inits, Is.EqualTo(1));

        var second = sys.Load(v2);
        sys.Bpf.MapUpdateElem(second.MapFd, new byte[4], second.PendingValue).ThrowIfFailed();
        Assert.That(sys.Bpf.LinkUpdate(first.LinkFd, second.MapFd).IsOk);
        sys.Registry.TryAcquire("tcp_ca_update", out var newCa).ThrowIfFailed();
        newCa.Init!(ref sk);
        Assert.That((v1.Inits, v2.Inits), Is.EqualTo((1, 1)));
        Assert.That((oldCa.Ssthresh!(ref sk), newCa.Ssthresh!(ref sk)), Is.EqualTo((7u, 9u)), "the old socket keeps the old ops");

        var wrong = sys.Load(new Wrong());
        sys.Bpf.MapUpdateElem(wrong.MapFd, new byte[4], wrong.PendingValue).ThrowIfFailed();
        Assert.That(sys.Bpf.LinkUpdate(first.LinkFd, wrong.MapFd).Errno, Is.EqualTo(Errno.EINVAL), "update_wrong");
        Assert.That(sys.Registry.Find("tcp_ca_update"), Is.SameAs(newCa));
        Assert.That(sys.Registry.Available.Select(a => a.Name), Is.EqualTo(new[] { "reno", "cubic", "dctcp", "bbr", "tcp_ca_update" }));
    }

    [TestCase(10u, 15u, 8u, 15u, 3u)]
    [TestCase(10u, 100u, 8u, 18u, 0u)]
    [TestCase(10u, 10u, 4u, 10u, 4u)]
    public void SlowStart_GrowsToSsthreshAndReturnsLeftover(uint cwnd, uint ssthresh, uint acked, uint newCwnd, uint left)
    {
        var sk = TcpTestSystem.Socket(cwnd, ssthresh);
        Assert.That(TcpCongKfuncs.SlowStart(ref sk, acked), Is.EqualTo(left));
        Assert.That(sk.SndCwnd, Is.EqualTo(newCwnd));
    }

    [Test]
    public void CongAvoidAi_OnePacketPerWindowOfAcks()
    {
        var sk = TcpTestSystem.Socket(cwnd: 10, ssthresh: 5);
        for (int i = 0; i < 9; i++)
        {
            TcpCongKfuncs.CongAvoidAi(ref sk, sk.SndCwnd, 1);
        }
        Assert.That((sk.SndCwnd, sk.SndCwndCnt), Is.EqualTo((10u, 9u)));
        TcpCongKfuncs.CongAvoidAi(ref sk, sk.SndCwnd, 1);
        Assert.That((sk.SndCwnd, sk.SndCwndCnt), Is.EqualTo((11u, 0u)));
        // Credits accumulated at a larger w are applied gently when w shrinks.
        sk.SndCwndCnt = 20;
        TcpCongKfuncs.CongAvoidAi(ref sk, 11, 3);
        Assert.That((sk.SndCwnd, sk.SndCwndCnt), Is.EqualTo((12u, 3u)));
    }

    [Test]
    public void RenoKfuncs_SsthreshHalvesAtLeastTwo_UndoRestoresPriorCwnd_NotCwndLimitedNoGrowth()
    {
        var sk = TcpTestSystem.Socket(cwnd: 3);
        Assert.That(TcpCongKfuncs.RenoSsthresh(ref sk), Is.EqualTo(2));
        sk.SndCwnd = 40;
        Assert.That(TcpCongKfuncs.RenoSsthresh(ref sk), Is.EqualTo(20));
        sk.PriorCwnd = 50;
        Assert.That(TcpCongKfuncs.RenoUndoCwnd(ref sk), Is.EqualTo(50));
        sk = TcpTestSystem.Socket(cwnd: 20, ssthresh: 10);
        sk.IsCwndLimited = false;
        TcpCongKfuncs.RenoCongAvoid(ref sk, 0, 20);
        Assert.That(sk.SndCwnd, Is.EqualTo(20));
    }

    [Test]
    public void CaPriv_Is104Bytes_TypedViewWritesThrough()
    {
        var sk = TcpTestSystem.Socket();
        Assert.That(CaPriv.Size, Is.EqualTo(104));
        sk.CaPrivAs<long>() = 42;
        Assert.That(BitConverter.ToInt64(((ReadOnlySpan<byte>)sk.IcskCaPriv)[..8]), Is.EqualTo(42));
        Assert.Throws<ArgumentException>(() => sk.CaPrivAs<Big>());
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 200)]
    private struct Big
    {
    }

    [Test]
    public void BpftoolDump_HasKernelShape()
    {
        var sys = new TcpTestSystem();
        var loaded = sys.Register(new BpfMinimal());
        var dump = BpftoolJson.StructOpsDump(loaded.Map);
        var info = dump[0]!["bpf_map_info"]!;
        static long N(System.Text.Json.Nodes.JsonNode? node) => long.Parse(node!.ToJsonString());
        Assert.That((N(info["type"]), N(info["key_size"]), N(info["value_size"]), (string)info["name"]!),
            Is.EqualTo((26L, 4L, 256L, "bpf_minimal")));
        var value = dump[1]!["bpf_struct_ops_tcp_congestion_ops"]!;
        Assert.That(N(value["common"]!["refcnt"]!["refs"]!["counter"]), Is.EqualTo(1));
        Assert.That((string)value["common"]!["state"]!, Is.EqualTo("BPF_STRUCT_OPS_STATE_INUSE"));
        var ssthreshId = loaded.Map.KernelData!.Program("ssthresh")!.Id;
        Assert.That((string)value["data"]!["ssthresh"]!, Is.EqualTo($"u32 (struct sock *) ssthresh/prog_id:{ssthreshId}"));
        Assert.That((string)value["data"]!["set_state"]!, Is.EqualTo("void (struct sock *, u8) 0"));
        Assert.That((string)value["data"]!["name"]!, Is.EqualTo("bpf_minimal"));
        Assert.That(value["data"]!["list"]!.ToJsonString(), Is.EqualTo("{\"next\":0,\"prev\":0}"));

        var list = BpftoolJson.StructOpsList(sys.Bpf);
        Assert.That(list.ToJsonString(), Is.EqualTo($"[{{\"id\":{loaded.Map.Id},\"name\":\"bpf_minimal\",\"kernel_struct_ops\":\"tcp_congestion_ops\"}}]"));
        var raw = BpftoolJson.MapDump(loaded.Map);
        Assert.That(raw[0]!["key"]!.AsArray().Select(n => (string)n!), Is.EqualTo(new[] { "0x00", "0x00", "0x00", "0x00" }));
        Assert.That(raw[0]!["value"]!.AsArray(), Has.Count.EqualTo(256));
        Assert.That((string)raw[0]!["value"]![0]!, Is.EqualTo("0x01"), "refcnt at offset 0");
    }

    [Test]
    public void MapDump_PercpuMap_ListsEveryCpu()
    {
        var bpf = TestMaps.NewSystem(cpus: 2);
        int fd = TestMaps.Create(bpf, MapType.PercpuArray, keySize: 4, valueSize: 4, maxEntries: 1);
        var dump = BpftoolJson.MapDump(TestMaps.Live(bpf, fd));
        Assert.That(dump[0]!["values"]!.AsArray().Select(v => v!["cpu"]!.ToJsonString()), Is.EqualTo(new[] { "0", "1" }));
    }
}
