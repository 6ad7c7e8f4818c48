using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The harness shared by stack tests: a composed BpfSystem (TCP type, built-in consumers), a network on its
/// simulator, a dumbbell and a TCP stack.
/// </summary>
internal sealed class TcpScenario
{
    public TcpScenario(DumbbellOptions? dumbbell = null, ulong seed = 1, TcpStackOptions? stack = null)
    {
        System = new TcpTestSystem(stack?.Hz ?? Jiffies.DefaultHz);
        Net = new Network(System.Bpf.Simulator, seed);
        Bell = new Dumbbell(Net, dumbbell ?? new DumbbellOptions());
        Stack = new TcpStack(Net, System.Registry, stack, System.Bpf);
    }

    public TcpTestSystem System { get; }
    public Network Net { get; }
    public Dumbbell Bell { get; }
    public TcpStack Stack { get; }
    public Simulator Sim => System.Bpf.Simulator;

    public TcpConnection Flow(string? cc = null, double startS = 0, long bytes = -1, SimTime? senderAccessDelay = null, SimTime? stop = null)
    {
        var r = Stack.Open((s, rcv) => Bell.AddFlow(s, rcv, senderAccessDelay), cc, new SimTime((long)(startS * 1e9)), out var conn, bytes, stop);
        Assert.That(r.IsOk, r.Reason);
        return conn!;
    }

    public void RunFor(double seconds) => Sim.RunUntil(Sim.Now + new SimTime((long)(seconds * 1e9)));

    /// <summary>Goodput in Mbit/s of <paramref name="conn"/> over <paramref name="seconds"/>.</summary>
    public static double GoodputMbps(TcpConnection conn, double seconds) => conn.Stats.BytesAcked * 8 / seconds / 1e6;
}

/// <summary>Drops the packets whose ordinal (counting from 1) on the link is listed: drop injection for scripted tests.</summary>
internal sealed class ScriptedLoss(params long[] ordinals) : LossModel
{
    private long _count;

    public override double MeanLossRate => 0;

    public override bool Lose(SimRandom random) => ordinals.Contains(++_count);
}
