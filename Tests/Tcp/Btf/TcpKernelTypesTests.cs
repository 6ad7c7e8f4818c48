using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Hosting;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Tests.Tcp.Btf;

/// <summary>bpfsim's kernel BTF for TCP: the kernel's names and nesting over TcpSock's own layout.</summary>
[Category("Ebpf")]
public sealed unsafe class TcpKernelTypesTests
{
    private static readonly BtfSpec s_btf = KernelBtf.Build([new TcpKernelTypes()]);

    private static BtfComposite Struct(string name) =>
        (BtfComposite)s_btf[s_btf.Find(name, BtfKind.Struct) ?? throw new AssertionException($"no struct {name}")];

    /// <summary>Follows named members through anonymous ones, as C does: (bit offset, member).</summary>
    private static (ulong BitOffset, BtfMember Member) Path(string root, params string[] names)
    {
        uint id = s_btf.Find(root, BtfKind.Struct)!.Value;
        ulong bits = 0;
        BtfMember? found = null;
        foreach (string name in names)
        {
            var (off, m) = FindMember((BtfComposite)s_btf[s_btf.SkipModifiers(id)], name) ?? throw new AssertionException($"{root}: no member {name}");
            bits += off;
            found = m;
            id = m.Type;
        }
        return (bits, found!);
    }

    private static (ulong, BtfMember)? FindMember(BtfComposite c, string name)
    {
        foreach (var m in c.Members)
        {
            if (m.Name == name)
            {
                return (m.BitOffset, m);
            }
            if (m.Name.Length == 0 && s_btf[s_btf.SkipModifiers(m.Type)] is BtfComposite inner && FindMember(inner, name) is var (o, found))
            {
                return (m.BitOffset + o, found);
            }
        }
        return null;
    }

    [Test]
    public void TcpSock_NestingResolves_DownToSockCommon()
    {
        var (bits, sk) = Path("tcp_sock", "inet_conn", "icsk_inet", "sk");
        Assert.That(bits, Is.Zero);
        Assert.That(s_btf[sk.Type].Name, Is.EqualTo("sock"));
        var (commonBits, common) = Path("sock", "__sk_common");
        Assert.That(commonBits, Is.Zero);
        Assert.That(s_btf[common.Type].Name, Is.EqualTo("sock_common"));
        var (pacing, _) = Path("tcp_sock", "inet_conn", "icsk_inet", "sk", "sk_pacing_rate");
        TcpSock s = default;
        Assert.That(pacing / 8, Is.EqualTo((ulong)((byte*)&s.SkPacingRate - (byte*)&s)));
    }

    [Test]
    public void EveryLevel_SpansTheWholeTcpSock()
    {
        foreach (string level in new[] { "sock_common", "sock", "inet_sock", "inet_connection_sock", "tcp_sock" })
        {
            Assert.That(Struct(level).Size, Is.EqualTo((uint)sizeof(TcpSock)), level);
        }
        Assert.That(sizeof(TcpSock), Is.EqualTo(304), "the layout these tests' hand-computed offsets assume");
    }

    [Test]
    public void Offsets_EqualTcpSockFieldAddresses()
    {
        TcpSock s = default;
        byte* b = (byte*)&s;
        var expected = new Dictionary<string, long>
        {
            ["snd_cwnd"] = (byte*)&s.SndCwnd - b,
            ["snd_ssthresh"] = (byte*)&s.SndSsthresh - b,
            ["snd_cwnd_cnt"] = (byte*)&s.SndCwndCnt - b,
            ["snd_cwnd_clamp"] = (byte*)&s.SndCwndClamp - b,
            ["srtt_us"] = (byte*)&s.SrttUs - b,
            ["packets_out"] = (byte*)&s.PacketsOut - b,
            ["delivered_ce"] = (byte*)&s.DeliveredCe - b,
            ["snd_nxt"] = (byte*)&s.SndNxt - b,
            ["mss_cache"] = (byte*)&s.MssCache - b,
            ["app_limited"] = (byte*)&s.AppLimited - b,
            ["tcp_mstamp"] = (byte*)&s.TcpMstamp - b,
            ["tcp_clock_cache"] = (byte*)&s.TcpClockCache - b,
            ["rtt_min"] = (byte*)&s.RttMin - b,
            ["ecn_flags"] = (byte*)&s.EcnFlags - b,
            ["is_cwnd_limited"] = (byte*)&s.IsCwndLimited - b,
        };
        foreach (var (member, offset) in expected)
        {
            Assert.That(Path("tcp_sock", member).BitOffset, Is.EqualTo((ulong)offset * 8), member);
        }
        Assert.That(Path("inet_connection_sock", "icsk_ca_priv").BitOffset, Is.EqualTo((ulong)((byte*)&s.IcskCaPriv - b) * 8));
        Assert.That(Path("inet_connection_sock", "icsk_ca_state").BitOffset, Is.EqualTo((ulong)((byte*)&s.IcskCaState - b) * 8));
        Assert.That(Path("inet_connection_sock", "icsk_ack", "pending").BitOffset, Is.EqualTo((ulong)((byte*)&s.IcskAckPending - b) * 8));
        Assert.That(Path("sock", "sk_sndbuf").BitOffset, Is.EqualTo((ulong)((byte*)&s.SkSndbuf - b) * 8));
        Assert.That(Path("sock", "sk_pacing_status").BitOffset, Is.EqualTo((ulong)((byte*)&s.SkPacingStatus - b) * 8));
    }

    [Test]
    public void Table_MatchesTheBtf_ForEveryField()
    {
        foreach (var f in TcpKernelTypes.Fields)
        {
            var (bits, m) = Path(f.Struct, f.Member.Split('.'));
            Assert.That(bits, Is.EqualTo((ulong)f.Offset * 8), f.Member);
            if (f.BitfieldBits > 0)
            {
                Assert.That(m.BitfieldSize, Is.EqualTo(f.BitfieldBits), f.Member);
            }
            else
            {
                Assert.That(s_btf.SizeOf(m.Type), Is.EqualTo((ulong)f.Size), f.Member);
            }
        }
    }

    [Test]
    public void Sizes_AndBitfields_AreTheKernels()
    {
        Assert.That(s_btf.SizeOf(Path("inet_connection_sock", "icsk_ca_priv").Member.Type), Is.EqualTo(104));
        Assert.That(Path("inet_connection_sock", "icsk_ca_state").Member.BitfieldSize, Is.EqualTo(5));
        Assert.That(Path("tcp_sock", "is_cwnd_limited").Member.BitfieldSize, Is.EqualTo(1));
        Assert.That(Struct("minmax").Size, Is.EqualTo(24));
        Assert.That(Struct("ack_sample").Size, Is.EqualTo(12));
        Assert.That(Struct("rate_sample").Size, Is.EqualTo((uint)Unsafe.SizeOf<RateSample>()));
        Assert.That(Path("rate_sample", "rtt_us").BitOffset / 8, Is.EqualTo(40), "u64, u32, u32, s32, s32, long, u32, u32, then long rtt_us");
        var sample = new AckSample(0x11111111, 0x22222222, 0x33333333);
        var bytes = new ReadOnlySpan<byte>(&sample, sizeof(AckSample));
        Assert.That(BitConverter.ToUInt32(bytes[(int)(Path("ack_sample", "rtt_us").BitOffset / 8)..]), Is.EqualTo(0x22222222));
        Assert.That(BitConverter.ToUInt32(bytes[(int)(Path("ack_sample", "in_flight").BitOffset / 8)..]), Is.EqualTo(0x33333333));
    }

    [Test]
    public void TcpCongestionOps_HasTheStructOpsLayout_AndKernelPrototypes()
    {
        var type = new TcpCongestionOpsType(new TcpCongestionRegistry());
        var ops = Struct("tcp_congestion_ops");
        Assert.That(ops.Size, Is.EqualTo((uint)type.DataSize));
        Assert.That(ops.Members.Select(m => m.Name), Is.EqualTo(type.Members.Select(m => m.Name)));
        foreach (var m in type.Members)
        {
            Assert.That(ops.Members[m.Index].BitOffset, Is.EqualTo((uint)m.Offset * 8), m.Name);
        }
        Assert.That(ops.Members.Single(m => m.Name == "name").BitOffset / 8, Is.EqualTo(88));
        var cwndEvent = (BtfFuncProto)s_btf[((BtfPtr)s_btf[ops.Members.Single(m => m.Name == "cwnd_event").Type]).Type];
        Assert.That(s_btf[cwndEvent.Params[1].Type], Is.InstanceOf<BtfEnum>().With.Property("Name").EqualTo("tcp_ca_event"));
        var sk = (BtfPtr)s_btf[cwndEvent.Params[0].Type];
        Assert.That(s_btf[sk.Type].Name, Is.EqualTo("sock"));
        var value = Struct("bpf_struct_ops_tcp_congestion_ops");
        Assert.That(value.Size, Is.EqualTo((uint)type.ValueSize));
        Assert.That(value.Members[1].BitOffset / 8, Is.EqualTo(64));
    }

    [Test]
    public void Enums_HaveTheKernelsValues()
    {
        var state = (BtfEnum)s_btf[s_btf.Find("tcp_ca_state", BtfKind.Enum)!.Value];
        Assert.That(state.Values.Select(v => (v.Name, v.Value)),
            Is.EqualTo(new[] { ("TCP_CA_Open", 0L), ("TCP_CA_Disorder", 1L), ("TCP_CA_CWR", 2L), ("TCP_CA_Recovery", 3L), ("TCP_CA_Loss", 4L) }));
        var ev = (BtfEnum)s_btf[s_btf.Find("tcp_ca_event", BtfKind.Enum)!.Value];
        Assert.That(ev.Values.Single(v => v.Name == "CA_EVENT_ECN_IS_CE").Value, Is.EqualTo((long)TcpCaEvent.EcnIsCe));
    }

    [Test]
    public void WritableFields_AreTheKernelsWhitelist_AtBpfsimOffsets()
    {
        TcpSock s = default;
        byte* b = (byte*)&s;
        Assert.That(TcpKernelTypes.WritableFields.Select(w => w.Member), Is.EqualTo(new[]
        {
            "sk_pacing_rate", "sk_pacing_status", "icsk_ca_priv", "icsk_ack.pending", "snd_cwnd", "snd_cwnd_cnt", "snd_ssthresh",
            "ecn_flags", "app_limited",
        }));
        var cwnd = TcpKernelTypes.WritableFields.Single(w => w.Member == "snd_cwnd");
        Assert.That((cwnd.Offset, cwnd.End), Is.EqualTo(((int)((byte*)&s.SndCwnd - b), (int)((byte*)&s.SndCwnd - b) + 4)));
        var priv = TcpKernelTypes.WritableFields.Single(w => w.Member == "icsk_ca_priv");
        Assert.That((priv.Offset, priv.End, priv.AnyOffsetInside), Is.EqualTo(((int)((byte*)&s.IcskCaPriv - b), (int)((byte*)&s.IcskCaPriv - b) + 104, true)));
    }

    [Test]
    public void AddTcp_RegistersTheTypes_InTheKernelBtfProvider()
    {
        using var services = new ServiceCollection().AddBpfSim().AddTcp().BuildServiceProvider();
        var spec = services.GetRequiredService<KernelBtfProvider>().Spec;
        Assert.That(spec.Find("tcp_sock", BtfKind.Struct), Is.Not.Null);
        Assert.That(BtfCFormatter.Format(spec), Is.EqualTo(BtfCFormatter.Format(s_btf)), "deterministic");
    }
}
