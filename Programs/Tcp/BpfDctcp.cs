using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Programs.Tcp;

/// <summary>
/// bpf_dctcp (tools/testing/selftests/bpf/progs/bpf_dctcp.c): DCTCP as a struct_ops program with
/// TCP_CONG_NEEDS_ECN, cong_avoid through the tcp_reno_cong_avoid kfunc. The selftest's functions are a
/// line-for-line port of net/ipv4/tcp_dctcp.c, so each member calls the arithmetic the built-in <c>dctcp</c> uses.
/// </summary>
/// <remarks>
/// Left out, being selftest plumbing rather than the algorithm: init's fallback through
/// <c>bpf_setsockopt(TCP_CONGESTION, fallback_cc)</c> (empty by default, so the default path initialises as here) and
/// its sk_storage read-and-delete. The CE state machine's bpf_tcp_send_ack of a pending delayed ACK needs the stack's
/// output path; see <see cref="Dctcp"/>.
/// </remarks>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_dctcp", Flags = (uint)TcpCongFlags.NeedsEcn,
    Description = "DCTCP over reno, the bpf_dctcp.c selftest port (NEEDS_ECN)")]
public sealed class BpfDctcp : TcpCongestionOpsProgram
{
    /// <summary>dctcp_init: alpha 1024, no loss, CE state 0, first window from snd_nxt.</summary>
    public override void Init(ref TcpSock sk) => DctcpMath.InitState(ref sk);

    /// <summary>dctcp_update_alpha.</summary>
    public override void InAckEvent(ref TcpSock sk, uint flags) => DctcpMath.UpdateAlpha(ref sk, flags);

    /// <summary>dctcp_cwnd_event.</summary>
    public override void CwndEvent(ref TcpSock sk, TcpCaEvent ev) => DctcpMath.CwndEvent(ref sk, ev);

    /// <summary>dctcp_ssthresh.</summary>
    public override uint Ssthresh(ref TcpSock sk) => DctcpMath.Ssthresh(ref sk);

    /// <summary>tcp_reno_cong_avoid, the kfunc.</summary>
    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    /// <summary>dctcp_cwnd_undo.</summary>
    public override uint UndoCwnd(ref TcpSock sk) => DctcpMath.UndoCwnd(ref sk);

    /// <summary>dctcp_state.</summary>
    public override void SetState(ref TcpSock sk, TcpCaState newState) => DctcpMath.SetState(ref sk, newState);
}
