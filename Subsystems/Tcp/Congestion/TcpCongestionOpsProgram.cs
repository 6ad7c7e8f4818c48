using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The base class of a C# <c>tcp_congestion_ops</c> consumer. Override the members you implement; each override
/// becomes a struct_ops program, and a member you do not override stays an empty slot (its default body here is
/// never registered or called). Mark the class <c>[StructOps("tcp_congestion_ops", Name = "...")]</c>.
/// </summary>
public abstract class TcpCongestionOpsProgram
{
    [StructOpsMember("ssthresh")]
    public virtual uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    [StructOpsMember("cong_avoid")]
    public virtual void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    [StructOpsMember("set_state")]
    public virtual void SetState(ref TcpSock sk, TcpCaState newState)
    {
    }

    [StructOpsMember("cwnd_event")]
    public virtual void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
    }

    [StructOpsMember("in_ack_event")]
    public virtual void InAckEvent(ref TcpSock sk, uint flags)
    {
    }

    [StructOpsMember("pkts_acked")]
    public virtual void PktsAcked(ref TcpSock sk, in AckSample sample)
    {
    }

    [StructOpsMember("min_tso_segs")]
    public virtual uint MinTsoSegs(ref TcpSock sk) => 2;

    [StructOpsMember("cong_control")]
    public virtual void CongControl(ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
    }

    [StructOpsMember("undo_cwnd")]
    public virtual uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);

    [StructOpsMember("sndbuf_expand")]
    public virtual uint SndbufExpand(ref TcpSock sk) => 2;

    [StructOpsMember("init")]
    public virtual void Init(ref TcpSock sk)
    {
    }

    [StructOpsMember("release")]
    public virtual void Release(ref TcpSock sk)
    {
    }
}
