using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Net;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace XdpPair;

/// <summary>Passes every packet and counts them.</summary>
[XdpProgram("xdp_pass_all", Description = "passes every packet")]
public sealed class XdpPassAll
{
    public long Packets { get; private set; }

    public int Run(ref PacketContext ctx)
    {
        Packets++;
        return (int)XdpAction.Pass;
    }
}

/// <summary>Passes packets until its fault_at-th, from which it throws (a bug in a program being written).</summary>
[XdpProgram("xdp_faulty", Description = "throws from its fault_at-th packet on")]
public sealed class XdpFaulty
{
    private long _packets;

    [StructOpsOption("fault_at", Description = "the packet (1-based) whose run throws")]
    public long FaultAt { get; set; } = 100;

    public int Run(ref PacketContext ctx)
    {
        if (++_packets >= FaultAt)
        {
            throw new InvalidOperationException($"packet {_packets}: bug");
        }
        return (int)XdpAction.Pass;
    }
}

/// <summary>Reno, so the assembly holds a struct_ops consumer too.</summary>
[StructOps("tcp_congestion_ops", Name = "xdp_pair_cc", Description = "reno, beside two XDP programs")]
public sealed class XdpPairCc : TcpCongestionOpsProgram
{
    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
}

/// <summary>Its constructor throws: validate refuses an entry naming it.</summary>
[XdpProgram("xdp_bad_ctor", Description = "its constructor throws")]
public sealed class XdpBadCtor
{
    public XdpBadCtor() => throw new InvalidOperationException("no map for you");

    public int Run(ref PacketContext ctx) => (int)XdpAction.Pass;
}

/// <summary>Passes packets until its spin_at-th, whose run never returns (the watchdog's case).</summary>
[XdpProgram("xdp_spin", Description = "loops forever on its spin_at-th packet")]
public sealed class XdpSpin
{
    private long _packets;

    [StructOpsOption("spin_at", Description = "the packet (1-based) whose run never returns")]
    public long SpinAt { get; set; } = 100;

    public int Run(ref PacketContext ctx)
    {
        if (++_packets == SpinAt)
        {
            while (true)
            {
                Thread.SpinWait(1000);
            }
        }
        return (int)XdpAction.Pass;
    }
}
