using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Tcp.Congestion;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The TCP part of bpfsim's kernel BTF: <c>struct tcp_sock</c> and the levels it extends (tcp_sock ⊃
/// inet_connection_sock ⊃ inet_sock ⊃ sock ⊃ sock_common) laid over <see cref="TcpSock"/> with bpfsim's offsets,
/// the structs congestion control receives (ack_sample, rate_sample, union tcp_cc_info), the enums it uses
/// (tcp_ca_event, tcp_ca_state, tcp_ca_ack_event_flags, sk_pacing, inet_csk_ack_state_t), and <c>struct
/// tcp_congestion_ops</c> with bpfsim's struct_ops layout (<see cref="TcpCongestionOpsType"/>).
/// </summary>
/// <remarks>
/// Names and C types follow include/linux/tcp.h, include/net/inet_connection_sock.h, include/net/sock.h,
/// include/net/tcp.h and include/uapi/linux/inet_diag.h of Linux 6.12. Each level spans the whole TcpSock (see
/// <see cref="KernelBtfBuilder.DefineOverlay"/>). A kernel member bpfsim does not model is absent: a CO-RE read of it
/// fails to relocate (the instruction is poisoned) and <c>bpf_core_field_exists</c> gives 0.
/// </remarks>
public sealed class TcpKernelTypes : IKernelBtfContributor
{
    /// <summary>Every modelled member of the socket structs, in <see cref="TcpSock"/> offset order within each struct.</summary>
    public static IReadOnlyList<TcpKernelField> Fields { get; } =
    [
        F("sock", "sk_sndbuf", "int", (ref TcpSock s) => ref s.SkSndbuf),
        F("sock", "sk_pacing_rate", "long unsigned int", (ref TcpSock s) => ref s.SkPacingRate),
        F("sock", "sk_pacing_status", "u32", (ref TcpSock s) => ref s.SkPacingStatus),
        F("sock", "sk_max_pacing_rate", "long unsigned int", (ref TcpSock s) => ref s.SkMaxPacingRate),
        F("inet_connection_sock", "icsk_ca_state", "__u8", (ref TcpSock s) => ref s.IcskCaState, bits: 5),
        F("inet_connection_sock", "icsk_ack.pending", "__u8", (ref TcpSock s) => ref s.IcskAckPending),
        F("inet_connection_sock", "icsk_ca_priv", "u64", (ref TcpSock s) => ref s.IcskCaPriv, array: CaPriv.Size / 8),
        F("tcp_sock", "snd_cwnd", "u32", (ref TcpSock s) => ref s.SndCwnd),
        F("tcp_sock", "snd_ssthresh", "u32", (ref TcpSock s) => ref s.SndSsthresh),
        F("tcp_sock", "snd_cwnd_cnt", "u32", (ref TcpSock s) => ref s.SndCwndCnt),
        F("tcp_sock", "snd_cwnd_clamp", "u32", (ref TcpSock s) => ref s.SndCwndClamp),
        F("tcp_sock", "snd_cwnd_stamp", "u32", (ref TcpSock s) => ref s.SndCwndStamp),
        F("tcp_sock", "prior_cwnd", "u32", (ref TcpSock s) => ref s.PriorCwnd),
        F("tcp_sock", "prior_ssthresh", "u32", (ref TcpSock s) => ref s.PriorSsthresh),
        F("tcp_sock", "srtt_us", "u32", (ref TcpSock s) => ref s.SrttUs),
        F("tcp_sock", "mdev_us", "u32", (ref TcpSock s) => ref s.MdevUs),
        F("tcp_sock", "packets_out", "u32", (ref TcpSock s) => ref s.PacketsOut),
        F("tcp_sock", "sacked_out", "u32", (ref TcpSock s) => ref s.SackedOut),
        F("tcp_sock", "lost_out", "u32", (ref TcpSock s) => ref s.LostOut),
        F("tcp_sock", "retrans_out", "u32", (ref TcpSock s) => ref s.RetransOut),
        F("tcp_sock", "max_packets_out", "u32", (ref TcpSock s) => ref s.MaxPacketsOut),
        F("tcp_sock", "delivered", "u32", (ref TcpSock s) => ref s.Delivered),
        F("tcp_sock", "delivered_ce", "u32", (ref TcpSock s) => ref s.DeliveredCe),
        F("tcp_sock", "lost", "u32", (ref TcpSock s) => ref s.Lost),
        F("tcp_sock", "snd_una", "u32", (ref TcpSock s) => ref s.SndUna),
        F("tcp_sock", "snd_nxt", "u32", (ref TcpSock s) => ref s.SndNxt),
        F("tcp_sock", "rcv_nxt", "u32", (ref TcpSock s) => ref s.RcvNxt),
        F("tcp_sock", "lsndtime", "u32", (ref TcpSock s) => ref s.Lsndtime),
        F("tcp_sock", "mss_cache", "u32", (ref TcpSock s) => ref s.MssCache),
        F("tcp_sock", "app_limited", "u32", (ref TcpSock s) => ref s.AppLimited),
        F("tcp_sock", "tcp_mstamp", "u64", (ref TcpSock s) => ref s.TcpMstamp),
        F("tcp_sock", "tcp_clock_cache", "u64", (ref TcpSock s) => ref s.TcpClockCache),
        F("tcp_sock", "tcp_wstamp_ns", "u64", (ref TcpSock s) => ref s.TcpWstampNs),
        F("tcp_sock", "delivered_mstamp", "u64", (ref TcpSock s) => ref s.DeliveredMstamp),
        F("tcp_sock", "rtt_min", "struct minmax", (ref TcpSock s) => ref s.RttMin),
        F("tcp_sock", "ecn_flags", "u8", (ref TcpSock s) => ref s.EcnFlags),
        // A one-bit bitfield in the kernel (u8 ... is_cwnd_limited:1); bpfsim's bool byte holds 0 or 1, which is bit 0.
        F("tcp_sock", "is_cwnd_limited", "u8", (ref TcpSock s) => ref s.IsCwndLimited, bits: 1),
    ];

    /// <summary>
    /// The tcp_sock members a BPF congestion control may write, in the order of the kernel's switch in
    /// bpf_tcp_ca_btf_struct_access (net/ipv4/bpf_tcp_ca.c, Linux 6.12), with bpfsim's offsets.
    /// </summary>
    public static IReadOnlyList<TcpWritableField> WritableFields { get; } =
    [
        Writable("sk_pacing_rate"),
        Writable("sk_pacing_status"),
        Writable("icsk_ca_priv", anyOffsetInside: true),
        Writable("icsk_ack.pending"),
        Writable("snd_cwnd"),
        Writable("snd_cwnd_cnt"),
        Writable("snd_ssthresh"),
        Writable("ecn_flags"),
        Writable("app_limited"),
    ];

    /// <summary>
    /// Common kernel members bpfsim does not model (absent from its BTF): struct sock's sk_pacing_shift, sk_gso_max_size and sk_family (__sk_common.skc_family); tcp_sock's bytes_acked,
    /// bytes_received, data_segs_out, data_segs_in, rcv_wnd, snd_wnd, total_retrans, reordering and gso_segs;
    /// inet_connection_sock's icsk_ca_ops, icsk_retransmits, icsk_rto and the icsk_ca_initialized bits.
    /// </summary>
    public static IReadOnlyList<string> AbsentMembers { get; } =
    [
        "sock.sk_pacing_shift", "sock.sk_gso_max_size", "sock_common.skc_family",
        "tcp_sock.bytes_acked", "tcp_sock.bytes_received", "tcp_sock.data_segs_out", "tcp_sock.data_segs_in",
        "tcp_sock.rcv_wnd", "tcp_sock.snd_wnd", "tcp_sock.total_retrans", "tcp_sock.reordering", "tcp_sock.gso_segs",
        "inet_connection_sock.icsk_ca_ops", "inet_connection_sock.icsk_retransmits", "inet_connection_sock.icsk_rto",
    ];

    /// <inheritdoc/>
    public void AddTypes(KernelBtfBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddSockTypes(builder);
        TcpCongestionOpsBtf.Add(builder);
    }

    /// <summary>The socket hierarchy, minmax and the enums; returns nothing, every type is found by name.</summary>
    private static void AddSockTypes(KernelBtfBuilder b)
    {
        uint u32 = b.Type("u32");
        uint sample = b.Define(new BtfComposite("minmax_sample", false, 8,
            [KernelBtfBuilder.Member("t", u32, 0), KernelBtfBuilder.Member("v", u32, 4)]));
        b.Define(new BtfComposite("minmax", false, 24, [KernelBtfBuilder.Member("s", b.Array(sample, 3), 0)]));

        b.Enum("tcp_ca_state", ("TCP_CA_Open", 0), ("TCP_CA_Disorder", 1), ("TCP_CA_CWR", 2), ("TCP_CA_Recovery", 3), ("TCP_CA_Loss", 4));
        b.Enum("tcp_ca_event", ("CA_EVENT_TX_START", 0), ("CA_EVENT_CWND_RESTART", 1), ("CA_EVENT_COMPLETE_CWR", 2),
            ("CA_EVENT_LOSS", 3), ("CA_EVENT_ECN_NO_CE", 4), ("CA_EVENT_ECN_IS_CE", 5));
        b.Enum("tcp_ca_ack_event_flags", ("CA_ACK_SLOWPATH", 1), ("CA_ACK_WIN_UPDATE", 2), ("CA_ACK_ECE", 4));
        b.Enum("sk_pacing", ("SK_PACING_NONE", 0), ("SK_PACING_NEEDED", 1), ("SK_PACING_FQ", 2));
        b.Enum("inet_csk_ack_state_t", ("ICSK_ACK_SCHED", 1), ("ICSK_ACK_TIMER", 2), ("ICSK_ACK_PUSHED", 4),
            ("ICSK_ACK_PUSHED2", 8), ("ICSK_ACK_NOW", 16), ("ICSK_ACK_NOMEM", 32));

        uint size = (uint)Unsafe.SizeOf<TcpSock>();
        uint common = b.DefineOverlay("sock_common", size, null, 0, []);
        uint sock = b.DefineOverlay("sock", size, "__sk_common", common, Members(b, "sock"));
        uint inet = b.DefineOverlay("inet_sock", size, "sk", sock, Members(b, "inet_sock"));
        uint icsk = b.DefineOverlay("inet_connection_sock", size, "icsk_inet", inet, Members(b, "inet_connection_sock"));
        b.DefineOverlay("tcp_sock", size, "inet_conn", icsk, Members(b, "tcp_sock"));
    }

    /// <summary>The BTF members of one level; dotted names (<c>icsk_ack.pending</c>) become an anonymous struct member.</summary>
    private static List<BtfMember> Members(KernelBtfBuilder b, string structName)
    {
        var members = new List<BtfMember>();
        foreach (var group in Fields.Where(f => f.Struct == structName).GroupBy(f => f.Member.Split('.')[0]))
        {
            var first = group.First();
            if (!first.Member.Contains('.'))
            {
                members.Add(ToMember(b, first.Member, first, 0));
                continue;
            }
            int start = group.Min(f => f.Offset);
            int end = group.Max(f => f.Offset + f.Size);
            var inner = group.Select(f => ToMember(b, f.Member[(f.Member.IndexOf('.') + 1)..], f, start)).ToArray();
            members.Add(KernelBtfBuilder.Member(group.Key, b.Add(new BtfComposite("", false, (uint)(end - start), inner)), start));
        }
        return members;
    }

    private static BtfMember ToMember(KernelBtfBuilder b, string name, TcpKernelField f, int relativeTo)
    {
        uint type = CType(b, f.CType);
        if (f.ArrayLength > 0)
        {
            type = b.Array(type, (uint)f.ArrayLength);
        }
        return f.BitfieldBits > 0
            ? KernelBtfBuilder.Bitfield(name, type, (f.Offset - relativeTo) * 8, f.BitfieldBits)
            : KernelBtfBuilder.Member(name, type, f.Offset - relativeTo);
    }

    /// <summary>A C type name as the tables spell it: a base type or typedef, or <c>struct|union|enum NAME</c> added before.</summary>
    internal static uint CType(KernelBtfBuilder b, string cType)
    {
        foreach (var (prefix, kind) in new[] { ("struct ", BtfKind.Struct), ("union ", BtfKind.Union), ("enum ", BtfKind.Enum) })
        {
            if (cType.StartsWith(prefix, StringComparison.Ordinal))
            {
                string name = cType[prefix.Length..];
                return b.Find(name, kind) ?? (kind == BtfKind.Enum
                    ? throw new BtfException($"enum {name} must be added before it is used")
                    : b.StructRef(name, kind == BtfKind.Union));
            }
        }
        return b.Type(cType);
    }

    private static TcpKernelField F<TField>(string structName, string member, string cType, FieldRef<TcpSock, TField> field,
        int bits = 0, int array = 0, [CallerArgumentExpression(nameof(field))] string expression = "")
    {
        // "(ref TcpSock s) => ref s.SndCwnd" names the bpfsim field.
        string bpfsimField = expression[(expression.LastIndexOf("s.", StringComparison.Ordinal) + 2)..];
        return new TcpKernelField(structName, member, cType, array, bits, KernelBtfBuilder.OffsetOf(field), Unsafe.SizeOf<TField>(), bpfsimField);
    }

    private static TcpWritableField Writable(string member, bool anyOffsetInside = false)
    {
        var f = Fields.Single(f => f.Member == member);
        return new TcpWritableField(member, f.Offset, f.Offset + f.Size, anyOffsetInside);
    }
}
