using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Issue #16's flow start at scale: many SYNs at once through one small queue are lost and retried on the kernel's
/// SYN timeouts, and the run's summary reports it — retries, connect times, flows that never connected — without
/// those flows breaking the goodput or FCT figures.
/// </summary>
[Category("Tcp")]
public sealed class SynFloodScenarioTests
{
    [Test]
    public void TwentyThousandSynsAtOnce_SmallQueue_SynsDroppedRetriedAndReported()
    {
        // 20,000 flows of 10 segments start at 0 on a 100 Mbit/s dumbbell with a 500-packet FIFO. Their SYNs reach the
        // bottleneck together (each over its own 1 Gbit/s access link): about 500 fit, the rest are dropped and come back
        // 1 s later — all together again, since every timer runs on the same jiffy (tcp_syn_linear_timeouts keeps them
        // 1 s apart five times, then they double). 140 s is past the last SYN timeout (131 s).
        var spec = new TcpScenarioSpec
        {
            Seed = 3,
            Duration = SimTime.FromSeconds(140),
            SampleInterval = SimTime.FromSeconds(140),
            Network = new NetworkSpec
            {
                BottleneckRateBps = 100_000_000,
                BottleneckDelay = SimTime.FromMilliseconds(10),
                Queue = new QueueSpec { Kind = QueueKind.DropTail, Limit = 500 },
            },
            Flows = [new FlowSpec { Count = 20_000, Cc = "cubic", SizeBytes = 10 * 1448 }],
        };
        var study = new Study();
        var r = study.Run(study.FromSpec(spec)).Tcp!;
        var h = r.Handshake;
        TestContext.Out.WriteLine($"handshake: {h}");
        Assert.That(r.Links[0].Drops, Is.GreaterThan(10_000), "the SYN burst overflows the queue");
        Assert.That(h.SynRetries, Is.GreaterThan(19_000), "nearly every flow lost its first SYN");
        Assert.That(h.FlowsWithSynRetries, Is.GreaterThan(15_000));
        Assert.That(h.ConnectMsMax, Is.GreaterThan(1000), "connect times include the 1 s SYN timeouts");
        Assert.That(h.ConnectMsP50, Is.GreaterThan(1000));
        // Every flow is accounted for: connected, timed out, or (none here, the run outlasts the last timeout) still trying.
        int connected = r.Flows.Count(f => f.Connected);
        Assert.That(connected + h.NeverConnected + h.StillConnecting, Is.EqualTo(20_000));
        Assert.That(h.StillConnecting, Is.Zero);
        // Each of the 11 synchronised SYN rounds gets about a queue's worth (500) through: the rest of the herd times
        // out together again, and after the last round (67 s) about 14,500 flows fail with ETIMEDOUT at 131 s.
        Assert.That(connected, Is.InRange(11 * 450, 11 * 560));
        foreach (var f in r.Flows.Where(f => !f.Connected))
        {
            Assert.That((f.Completed, f.GoodputMbps, f.FctMs, f.ConnectMs, f.BytesAcked), Is.EqualTo((false, 0.0, (double?)null, (double?)null, 0L)),
                $"flow {f.Id} never connected: no goodput, no FCT");
            Assert.That(f.SynRetries, Is.EqualTo(10), "tcp_syn_retries 6 + tcp_syn_linear_timeouts 4");
        }
        var fct = r.Fct.Single();
        Assert.That(fct.Count, Is.EqualTo(20_000), "a flow that never connected still counts in its group");
        Assert.That(fct.Completed, Is.EqualTo(r.Flows.Count(f => f.Completed)));
        Assert.That(r.Flows.Where(f => f.Connected).All(f => f.ConnectMs is > 0), Is.True);
    }
}
