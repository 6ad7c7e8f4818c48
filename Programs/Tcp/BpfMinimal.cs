using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Programs.Tcp;

/// <summary>
/// The smallest valid BPF congestion control: only the members tcp_validate_congestion_control requires
/// (ssthresh, undo_cwnd, cong_avoid), each calling the reno kfuncs, as the selftests' minimal programs do.
/// </summary>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_minimal", Description = "only the mandatory members, reno kfuncs")]
public sealed class BpfMinimal : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}
