using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace CubicClash;

/// <summary>Reno that calls itself cubic: tcp_register_congestion_control refuses the name (EEXIST).</summary>
[StructOps("tcp_congestion_ops", Name = "cubic", Id = "fake_cubic", Description = "reno named cubic")]
public sealed class FakeCubic : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}
