using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>The TCP stack end to end over the dumbbell: transfer, recovery, timeouts, ECN, determinism.</summary>
[Category("Tcp")]
public sealed class TcpStackTests
{
    [Test]
    public void SizedTransfer_CompletesAndClosesTheSocket()
    {
        var sc = new TcpScenario();
        var flow = sc.Flow("reno", bytes: 1_000_000);
        sc.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(1_000_000));
        Assert.That(flow.Stats.Retransmits, Is.Zero);
        Assert.That(sc.Net.Packets.InUse, Is.Zero, "every packet went back to the pool");
        // 691 segments from an initial window of 10 over a 24 ms RTT in slow start: well under a second.
        Assert.That(flow.EndTime.TotalSeconds, Is.LessThan(0.4));
    }

    [Test]
    public void BulkReno_FillsAnUncongestedBottleneck()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(250) });
        var flow = sc.Flow("reno");
        sc.RunFor(10);
        sc.Net.FinishAccounting();
        double goodput = TcpScenario.GoodputMbps(flow, 10);
        TestContext.Out.WriteLine($"goodput {goodput:0.0} Mbit/s, retrans {flow.Stats.Retransmits}, rtt {flow.Stats.RttMeanMs:0.0} ms");
        Assert.That(goodput, Is.GreaterThan(85));
        Assert.That(sc.Bell.Bottleneck.Stats.Utilization(sc.Sim.Now.Nanoseconds), Is.GreaterThan(0.9));
    }

    [Test]
    public void SingleLoss_FastRecoveryNotTimeout_CwndHalved()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(100) });
        var flow = sc.Flow("reno", bytes: 3_000_000);
        sc.RunFor(5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(3_000_000));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.Timeouts, flow.Stats.Retransmits), Is.EqualTo((1L, 0L, 1L)));
    }

    [Test]
    public void TailLoss_RecoveredByTimeout_WithBackoffReset()
    {
        // The last segment of a 20-segment transfer is lost: no SACKs follow it, so only the RTO recovers it.
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(20) });
        var flow = sc.Flow("reno", bytes: 20 * 1448);
        sc.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(flow.Stats.Timeouts, Is.EqualTo(1));
        Assert.That(flow.EndTime.TotalSeconds, Is.GreaterThan(0.2), "waited at least TCP_RTO_MIN");
    }

    [Test]
    public void SameSeed_IdenticalRun()
    {
        static (long, long, long, double) Run()
        {
            var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new BernoulliLoss(0.005) }, seed: 9);
            var a = sc.Flow("reno");
            var b = sc.Flow("reno", startS: 0.5);
            sc.RunFor(5);
            return (a.Stats.BytesAcked, b.Stats.BytesAcked, a.Stats.Retransmits + b.Stats.Retransmits, a.Stats.RttSumMs);
        }
        var first = Run();
        var second = Run();
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void UnknownAlgorithm_ENOENT()
    {
        var sc = new TcpScenario();
        var r = sc.Stack.Open((s, rcv) => sc.Bell.AddFlow(s, rcv), "nope", SimTime.Zero, out _);
        Assert.That(r.Errno, Is.EqualTo(BpfSim.Core.Bpf.Errno.ENOENT));
    }
}
