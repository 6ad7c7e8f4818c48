using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// bbr over the TCP stack on a 100 Mbit/s dumbbell with a 20 ms round trip (BDP ≈ 166 full-sized packets): it
/// fills the pipe with a small queue, its model matches the path, it probes min_rtt every 10 s, and random loss
/// barely slows it, as BBR v1 is designed to behave.
/// </summary>
[Category("Tcp")]
public sealed class BbrScenarioTests
{
    /// <summary>The bottleneck's payload rate: 100 Mbit/s × 1448 / 1500 bytes on the wire.</summary>
    private const double PayloadMbps = 100.0 * 1448 / 1500;

    private static DumbbellOptions Path(int bufferPackets, LossModel? loss = null) => new()
    {
        BottleneckDelay = SimTime.FromMilliseconds(8),
        AccessDelay = SimTime.FromMilliseconds(1),
        BottleneckQueue = _ => new DropTailQueue(bufferPackets),
        BottleneckLoss = loss ?? LossModel.None,
    };

    private static double BwMbps(in BbrState bbr) => (double)BbrMath.MaxBw(bbr) * 1448 * 8 / (1 << 24);

    [Test]
    public void OneFlow_DeepBuffer_FullPipeSmallQueue_ModelMatchesPath_ProbesRtt()
    {
        var sc = new TcpScenario(Path(1000));
        var flow = sc.Flow("bbr");
        int probeRttEntries = 0, maxQueueAfterStartup = 0;
        var lastMode = BbrMode.Startup;
        sc.Stack.Updated += c =>
        {
            var mode = BbrMath.Ca(ref sc.Stack.Sock(c.Id)).Mode;
            if (mode == BbrMode.ProbeRtt && lastMode != BbrMode.ProbeRtt)
            {
                probeRttEntries++;
            }
            lastMode = mode;
            if (sc.Sim.Now.TotalSeconds >= 2)
            {
                maxQueueAfterStartup = Math.Max(maxQueueAfterStartup, sc.Bell.Bottleneck.Queue.Length);
            }
        };

        sc.RunFor(2);
        long busyAtTwo = sc.Bell.Bottleneck.Stats.BusyNs;
        sc.RunFor(13);
        double utilization = (sc.Bell.Bottleneck.Stats.BusyNs - busyAtTwo) / 13e9;
        var bbr = BbrMath.Ca(ref sc.Stack.Sock(flow.Id));
        TestContext.Out.WriteLine($"util {utilization:0.000}, max queue {maxQueueAfterStartup}, bw {BwMbps(bbr):0.00} Mbit/s, " +
            $"min_rtt {bbr.MinRttUs} µs, PROBE_RTT ×{probeRttEntries}, drops {sc.Bell.Bottleneck.Stats.QueueDrops}");

        Assert.That(utilization, Is.GreaterThanOrEqualTo(0.90), "2–15 s, including a PROBE_RTT");
        Assert.That(maxQueueAfterStartup, Is.LessThan(100), "well under one BDP (166) of a 1000-packet buffer");
        Assert.That(BwMbps(bbr), Is.EqualTo(PayloadMbps).Within(10).Percent);
        Assert.That(bbr.MinRttUs, Is.EqualTo(20_000).Within(10).Percent);
        Assert.That(probeRttEntries, Is.GreaterThanOrEqualTo(1));
        Assert.That((sc.Bell.Bottleneck.Stats.QueueDrops, flow.Stats.Retransmits), Is.EqualTo((0L, 0L)), "STARTUP's queue fits in the buffer");
        Assert.That(sc.Stack.Sock(flow.Id).SkPacingStatus, Is.EqualTo(1u));
    }

    /// <summary>
    /// tcp_bbr.c bbr_update_min_rtt refreshes the filter only on a strictly lower sample (rs->rtt_us &lt; min_rtt_us)
    /// or on expiry; bbr_check_probe_rtt_done restarts the window when PROBE_RTT ends. On a steady path whose RTT
    /// never drops below the minimum, PROBE_RTT therefore recurs every 10 s (bbr_min_rtt_win_sec) plus the ~200 ms
    /// (bbr_probe_rtt_mode_ms) and a round of the dip itself: entries near 10, 20.2, 30.4, 40.6 s, four in 45 s.
    /// A sample equal to the minimum (common on a deterministic path) must not postpone it.
    /// </summary>
    [Test]
    public void OneFlow_SteadyPath_ProbeRttEveryTenSeconds()
    {
        var sc = new TcpScenario(Path(1000));
        var flow = sc.Flow("bbr");
        var entries = new List<double>();
        var lastMode = BbrMode.Startup;
        sc.Stack.Updated += c =>
        {
            var mode = BbrMath.Ca(ref sc.Stack.Sock(c.Id)).Mode;
            if (mode == BbrMode.ProbeRtt && lastMode != BbrMode.ProbeRtt)
            {
                entries.Add(sc.Sim.Now.TotalSeconds);
            }
            lastMode = mode;
        };
        sc.RunFor(45);
        TestContext.Out.WriteLine("PROBE_RTT at " + string.Join(", ", entries.Select(t => t.ToString("0.000"))) + " s");

        Assert.That(entries, Has.Count.GreaterThanOrEqualTo(4));
        for (int i = 1; i < entries.Count; i++)
        {
            // 10 s window + 200 ms dip + at most a few rounds of 20 ms.
            Assert.That(entries[i] - entries[i - 1], Is.InRange(10.2, 10.6), $"gap {i}");
        }
    }

    [Test]
    public void ShallowBufferRandomLoss_BbrKeepsThroughput_RenoCollapses()
    {
        static double Goodput(string cc)
        {
            var sc = new TcpScenario(Path(40, new BernoulliLoss(0.01)), seed: 3);
            var flow = sc.Flow(cc);
            sc.RunFor(10);
            return TcpScenario.GoodputMbps(flow, 10);
        }
        double bbr = Goodput("bbr"), reno = Goodput("reno");
        TestContext.Out.WriteLine($"1 % loss, 40-packet buffer: bbr {bbr:0.0} Mbit/s, reno {reno:0.0} Mbit/s");
        Assert.That(bbr, Is.GreaterThan(70), "BBR v1 does not treat loss as congestion");
        Assert.That(bbr, Is.GreaterThan(5 * reno));
    }

    [Test]
    public void SameSeed_IdenticalRun()
    {
        static (long, long, uint) Run()
        {
            var sc = new TcpScenario(Path(100, new BernoulliLoss(0.002)), seed: 5);
            var a = sc.Flow("bbr");
            var b = sc.Flow("bbr", startS: 0.3);
            sc.RunFor(3);
            return (a.Stats.BytesAcked, b.Stats.BytesAcked, BbrMath.Ca(ref sc.Stack.Sock(b.Id)).CycleIdx);
        }
        var first = Run();
        var second = Run();
        Assert.That(second, Is.EqualTo(first));
    }
}
