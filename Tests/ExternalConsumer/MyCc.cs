using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace MyCc;

/// <summary>Reno with a gentler back-off: ssthresh = 0.7 × cwnd, as CUBIC's beta.</summary>
[StructOps("tcp_congestion_ops", Name = "my_cc", Description = "reno with beta 0.7")]
public sealed class MyCc : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => Math.Max(sk.SndCwnd * 7 / 10, 2u);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);

    public override void Init(ref TcpSock sk) => sk.SndCwndClamp = 1000;
}
