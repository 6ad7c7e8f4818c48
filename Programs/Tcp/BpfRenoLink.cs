using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Programs.Tcp;

/// <summary>
/// Two versions of one link-mode algorithm, <c>bpf_reno_link</c>, as tools/testing/selftests/bpf/progs/tcp_ca_update.c
/// has them: registered through a struct_ops link, v2 replaces v1 with a link update (same name, as
/// tcp_update_congestion_control requires); sockets opened after the update get v2, earlier ones keep v1.
/// v1 backs off to half the window (reno), v2 to 0.7 of it.
/// </summary>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_reno_link", Id = "bpf_reno_link_v1", Link = true,
    Description = "link-mode reno (beta 0.5); replace it with bpf_reno_link_v2")]
public sealed class BpfRenoLinkV1 : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}

/// <summary>Version 2 of <c>bpf_reno_link</c>: a gentler back-off, ssthresh = 0.7 × cwnd.</summary>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_reno_link", Id = "bpf_reno_link_v2", Link = true,
    Description = "link-mode reno with beta 0.7, the update of bpf_reno_link_v1")]
public sealed class BpfRenoLinkV2 : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => Math.Max(sk.SndCwnd * 7 / 10, 2u);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}
