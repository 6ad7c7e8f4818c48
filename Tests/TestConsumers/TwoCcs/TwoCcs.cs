using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace TwoCcs;

/// <summary>Reno under the name two_a.</summary>
[StructOps("tcp_congestion_ops", Name = "two_a", Description = "reno, first of two")]
public sealed class TwoA : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}

/// <summary>Reno under the name two_b.</summary>
[StructOps("tcp_congestion_ops", Name = "two_b", Description = "reno, second of two")]
public sealed class TwoB : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}
