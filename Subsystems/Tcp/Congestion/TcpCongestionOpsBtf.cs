using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The kernel BTF of <c>struct tcp_congestion_ops</c> (include/net/tcp.h, Linux 6.12) with the offsets
/// <see cref="TcpCongestionOpsType"/> gives its members, the structs its callbacks receive, and the struct_ops map
/// value type <c>bpf_struct_ops_tcp_congestion_ops</c>.
/// </summary>
internal static class TcpCongestionOpsBtf
{
    /// <summary>Each function member's kernel prototype: return type and parameters (C types as vmlinux.h names them).</summary>
    internal static readonly IReadOnlyDictionary<string, (string Return, (string Name, string Type)[] Params)> Prototypes =
        new Dictionary<string, (string, (string, string)[])>(StringComparer.Ordinal)
        {
            ["ssthresh"] = ("u32", [("sk", "struct sock *")]),
            ["cong_avoid"] = ("void", [("sk", "struct sock *"), ("ack", "u32"), ("acked", "u32")]),
            ["set_state"] = ("void", [("sk", "struct sock *"), ("new_state", "u8")]),
            ["cwnd_event"] = ("void", [("sk", "struct sock *"), ("ev", "enum tcp_ca_event")]),
            ["in_ack_event"] = ("void", [("sk", "struct sock *"), ("flags", "u32")]),
            ["pkts_acked"] = ("void", [("sk", "struct sock *"), ("sample", "const struct ack_sample *")]),
            ["min_tso_segs"] = ("u32", [("sk", "struct sock *")]),
            ["cong_control"] = ("void", [("sk", "struct sock *"), ("ack", "u32"), ("flag", "int"), ("rs", "const struct rate_sample *")]),
            ["undo_cwnd"] = ("u32", [("sk", "struct sock *")]),
            ["sndbuf_expand"] = ("u32", [("sk", "struct sock *")]),
            ["get_info"] = ("size_t", [("sk", "struct sock *"), ("ext", "u32"), ("attr", "int *"), ("info", "union tcp_cc_info *")]),
            ["init"] = ("void", [("sk", "struct sock *")]),
            ["release"] = ("void", [("sk", "struct sock *")]),
        };

    /// <summary>Adds the types; <c>struct sock</c> and the tcp_ca enums must be there already.</summary>
    internal static void Add(KernelBtfBuilder b)
    {
        AddCallbackStructs(b);
        uint list = b.StructRef("list_head");
        uint listPtr = b.Pointer(list);
        b.Define(new BtfComposite("list_head", false, 16, [KernelBtfBuilder.Member("next", listPtr, 0), KernelBtfBuilder.Member("prev", listPtr, 8)]));
        b.StructRef("module");

        var type = new TcpCongestionOpsType(new TcpCongestionRegistry());
        var members = new List<BtfMember>();
        foreach (var m in type.Members)
        {
            uint memberType = m.Kind switch
            {
                StructOpsMemberKind.Function => b.Pointer(Prototype(b, m.Name)),
                StructOpsMemberKind.CString => b.Array(b.Int("char"), (uint)m.Size),
                StructOpsMemberKind.U32 => b.Type("u32"),
                StructOpsMemberKind.U64 => b.Type("u64"),
                StructOpsMemberKind.Pointer => b.Pointer(b.StructRef("module")),
                StructOpsMemberKind.ListHead => list,
                _ => throw new BtfException($"tcp_congestion_ops.{m.Name}: no BTF for member kind {m.Kind}"),
            };
            members.Add(KernelBtfBuilder.Member(m.Name, memberType, m.Offset));
        }
        uint ops = b.Define(new BtfComposite(TcpCongestionOpsType.TypeName, false, (uint)type.DataSize, members));
        b.AddStructOpsValue(type, ops);
    }

    private static uint Prototype(KernelBtfBuilder b, string member)
    {
        if (!Prototypes.TryGetValue(member, out var proto))
        {
            throw new BtfException($"tcp_congestion_ops.{member} has no kernel prototype");
        }
        return b.FuncProto(CDecl(b, proto.Return), proto.Params.Select(p => (p.Name, CDecl(b, p.Type))).ToArray());
    }

    /// <summary>A parameter type: <c>void</c>, <c>const</c> and trailing <c>*</c> over a name <see cref="TcpKernelTypes.CType"/> knows.</summary>
    private static uint CDecl(KernelBtfBuilder b, string decl)
    {
        decl = decl.Trim();
        if (decl.EndsWith('*'))
        {
            return b.Pointer(CDecl(b, decl[..^1]));
        }
        if (decl.StartsWith("const ", StringComparison.Ordinal))
        {
            return b.Const(CDecl(b, decl["const ".Length..]));
        }
        return decl == "void" ? 0 : TcpKernelTypes.CType(b, decl);
    }

    // struct ack_sample and struct rate_sample (include/net/tcp.h), union tcp_cc_info (include/uapi/linux/inet_diag.h).
    private static void AddCallbackStructs(KernelBtfBuilder b)
    {
        // AckSample is (PktsAcked, RttUs, InFlight) in sequential layout: u32, s32, u32 at 0, 4, 8.
        b.Define(new BtfComposite("ack_sample", false, (uint)Unsafe.SizeOf<AckSample>(),
        [
            KernelBtfBuilder.Member("pkts_acked", b.Type("u32"), 0),
            KernelBtfBuilder.Member("rtt_us", b.Type("s32"), 4),
            KernelBtfBuilder.Member("in_flight", b.Type("u32"), 8),
        ]));

        static BtfMember R<TField>(KernelBtfBuilder b, string name, string cType, FieldRef<RateSample, TField> field) =>
            KernelBtfBuilder.Member(name, b.Type(cType), KernelBtfBuilder.OffsetOf(field));
        b.Define(new BtfComposite("rate_sample", false, (uint)Unsafe.SizeOf<RateSample>(),
        [
            R(b, "prior_mstamp", "u64", (ref RateSample r) => ref r.PriorMstamp),
            R(b, "prior_delivered", "u32", (ref RateSample r) => ref r.PriorDelivered),
            R(b, "prior_delivered_ce", "u32", (ref RateSample r) => ref r.PriorDeliveredCe),
            R(b, "delivered", "s32", (ref RateSample r) => ref r.Delivered),
            R(b, "delivered_ce", "s32", (ref RateSample r) => ref r.DeliveredCe),
            R(b, "interval_us", "long int", (ref RateSample r) => ref r.IntervalUs),
            R(b, "snd_interval_us", "u32", (ref RateSample r) => ref r.SndIntervalUs),
            R(b, "rcv_interval_us", "u32", (ref RateSample r) => ref r.RcvIntervalUs),
            R(b, "rtt_us", "long int", (ref RateSample r) => ref r.RttUs),
            R(b, "losses", "int", (ref RateSample r) => ref r.Losses),
            R(b, "acked_sacked", "u32", (ref RateSample r) => ref r.AckedSacked),
            R(b, "prior_in_flight", "u32", (ref RateSample r) => ref r.PriorInFlight),
            R(b, "last_end_seq", "u32", (ref RateSample r) => ref r.LastEndSeq),
            R(b, "is_app_limited", "bool", (ref RateSample r) => ref r.IsAppLimited),
            R(b, "is_retrans", "bool", (ref RateSample r) => ref r.IsRetrans),
            R(b, "is_ack_delayed", "bool", (ref RateSample r) => ref r.IsAckDelayed),
        ]));

        uint u16 = b.Type("__u16");
        uint u32 = b.Type("__u32");
        uint vegas = b.Define(new BtfComposite("tcpvegas_info", false, 16,
        [
            KernelBtfBuilder.Member("tcpv_enabled", u32, 0), KernelBtfBuilder.Member("tcpv_rttcnt", u32, 4),
            KernelBtfBuilder.Member("tcpv_rtt", u32, 8), KernelBtfBuilder.Member("tcpv_minrtt", u32, 12),
        ]));
        uint dctcp = b.Define(new BtfComposite("tcp_dctcp_info", false, 16,
        [
            KernelBtfBuilder.Member("dctcp_enabled", u16, 0), KernelBtfBuilder.Member("dctcp_ce_state", u16, 2),
            KernelBtfBuilder.Member("dctcp_alpha", u32, 4), KernelBtfBuilder.Member("dctcp_ab_ecn", u32, 8),
            KernelBtfBuilder.Member("dctcp_ab_tot", u32, 12),
        ]));
        uint bbr = b.Define(new BtfComposite("tcp_bbr_info", false, 20,
        [
            KernelBtfBuilder.Member("bbr_bw_lo", u32, 0), KernelBtfBuilder.Member("bbr_bw_hi", u32, 4),
            KernelBtfBuilder.Member("bbr_min_rtt", u32, 8), KernelBtfBuilder.Member("bbr_pacing_gain", u32, 12),
            KernelBtfBuilder.Member("bbr_cwnd_gain", u32, 16),
        ]));
        b.Define(new BtfComposite("tcp_cc_info", true, TcpCcInfo.UnionSize,
        [
            KernelBtfBuilder.Member("vegas", vegas, 0), KernelBtfBuilder.Member("dctcp", dctcp, 0), KernelBtfBuilder.Member("bbr", bbr, 0),
        ]));
    }
}
