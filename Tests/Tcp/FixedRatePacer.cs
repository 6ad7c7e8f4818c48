using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// A congestion control that asks for internal pacing (SK_PACING_NEEDED) at a fixed sk_pacing_rate and keeps the
/// window fixed, by default far above what that rate puts in flight, so departures are set by the pacing clock alone.
/// </summary>
internal static class FixedRatePacer
{
    public const uint Cwnd = 10_000;

    public static TcpCongestionOps Ops(string name, ulong rateBytesPerSec, uint? minTsoSegs = null, uint cwnd = Cwnd) => new()
    {
        Name = name,
        Ssthresh = static (ref TcpSock sk) => sk.SndSsthresh,
        UndoCwnd = static (ref TcpSock sk) => sk.SndCwnd,
        CongControl = (ref TcpSock sk, uint ack, int flag, in RateSample rs) => sk.SndCwnd = cwnd,
        Init = (ref TcpSock sk) =>
        {
            sk.SkPacingStatus = 1; // SK_PACING_NEEDED
            sk.SkPacingRate = rateBytesPerSec;
            sk.SndCwnd = cwnd;
        },
        MinTsoSegs = minTsoSegs is { } m ? (ref TcpSock _) => m : null,
    };

    /// <summary>A scenario with one flow of the pacer over a <see cref="TappedPath"/>.</summary>
    public static (TcpScenario Sc, TappedPath Path, TcpConnection Flow) Start(ulong rateBytesPerSec, bool tso, uint? minTsoSegs = null,
        TcpWritePattern? writes = null, long bottleneckBps = 10_000_000_000, uint cwnd = Cwnd)
    {
        var sc = new TcpScenario(stack: new TcpStackOptions { Tso = tso, Gro = false });
        Assert.That(sc.System.Registry.Register(Ops("fixed_pacer", rateBytesPerSec, minTsoSegs, cwnd)).IsOk);
        var path = new TappedPath(sc.Net, bottleneckBps: bottleneckBps);
        var r = sc.Stack.Open(path.Connect, "fixed_pacer", SimTime.Zero, out var flow, writes: writes);
        Assert.That(r.IsOk, r.Reason);
        return (sc, path, flow!);
    }
}
