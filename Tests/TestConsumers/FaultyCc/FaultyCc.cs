using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace FaultyCc;

/// <summary>
/// Reno until simulated time reaches the moment in BPFSIM_FAULT ("throw@5s" or "hang@1s", default "throw@5s"), then
/// cong_avoid throws or never returns; "ctor@0s" makes the constructor throw, "ctorhang@0s" never return.
/// </summary>
[StructOps("tcp_congestion_ops", Name = "bpf_faulty", Description = "misbehaves on purpose (tests)")]
public sealed class FaultyCc : TcpCongestionOpsProgram
{
    private readonly string _mode;
    private readonly ulong _atUs;

    public FaultyCc()
    {
        var spec = (Environment.GetEnvironmentVariable("BPFSIM_FAULT") ?? "throw@5s").Split('@');
        _mode = spec[0];
        _atUs = ulong.Parse(spec[1].TrimEnd('s')) * 1_000_000;
        if (_mode == "ctor")
        {
            throw new InvalidOperationException("bpf_faulty: deliberate fault in the constructor");
        }
        while (_mode == "ctorhang")
        {
        }
    }

    public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);

    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
    {
        if (sk.TcpMstamp >= _atUs)
        {
            if (_mode == "hang")
            {
                while (true)
                {
                }
            }
            throw new InvalidOperationException($"bpf_faulty: deliberate fault at {sk.TcpMstamp} us");
        }
        TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
    }
}
