using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Metrics;

/// <summary>
/// The typed results a report reads (<c>TcpRunResult</c>): FCT samples behind the CDFs, Pantheon points, the window,
/// and that they agree with the summary's numbers.
/// </summary>
[Category("Tcp")]
public sealed class RunMetricsTests
{
    private static readonly Study s_study = new();

    [Test]
    public void TypedResults_PoissonAndBulkFlows_AgreeWithTheSummary()
    {
        var outcome = s_study.Run(s_study.Parse("""
            seed: 2
            duration: 4s
            measure_from: 1s
            measure_to: 3s
            fct_bins: [20KB, 60KB]
            network:
              bottleneck: { rate: 50Mbps, delay: 5ms }
            flows:
              - { count: 1, cc: cubic, start: 0s }
              - { arrivals: poisson, rate: 20, size: 40KB, cc: reno, start: 0s, stop: 3500ms }
              - { count: 2, cc: bbr, start: 500ms, size: 10KB, stagger: 1s }
            """, "typed.yaml"));
        Assert.That(outcome.ExitCode, Is.Zero, string.Join("\n", outcome.Errors));
        var r = outcome.Tcp!;
        Assert.That((r.Window.FromSeconds, r.Window.ToSeconds), Is.EqualTo((1.0, 3.0)));

        // FCT samples: the sized flows that started in [1 s, 3 s], each with its flow's FCT and an ideal of
        // 2 × 14 ms + size at 50 Mbit/s.
        var inWindow = r.Flows.Where(f => f.SizeBytes is not null && f.StartSeconds >= 1 && f.StartSeconds <= 3).ToList();
        Assert.That(inWindow, Has.Count.GreaterThan(10), "the Poisson arrivals must give a distribution");
        Assert.That(r.FctSamples.Select(s => s.FlowId), Is.EqualTo(inWindow.Select(f => f.Id)));
        foreach (var s in r.FctSamples)
        {
            Assert.That(s.IdealMs, Is.EqualTo(2 * 14 + s.SizeBytes * 8 / 50e6 * 1e3).Within(1e-3));
            Assert.That(s.FctMs, Is.EqualTo(r.Flows[s.FlowId - 1].FctMs));
        }
        Assert.That(r.Fct.Select(g => g.Group), Is.EqualTo(new[] { 1, 2 }), "the Poisson entry, then the sized bbr entry");
        Assert.That(r.Fct.Sum(g => g.Count), Is.EqualTo(r.FctSamples.Count));
        Assert.That(r.FctBins.Select(b => b.Bin), Is.EqualTo(new[] { "<20KB", "20KB-60KB" }), "10 KB and 40 KB flows; no flow of 60 KB or more");
        Assert.That(r.FctBins.Sum(b => b.Count), Is.EqualTo(r.FctSamples.Count));

        // Pantheon: a point per flow that ran in the window, then one per algorithm.
        var perFlow = r.Pantheon.Where(p => p.FlowId is not null).ToList();
        Assert.That(perFlow.Select(p => p.FlowId), Is.EqualTo(r.Flows.Where(f => f.WindowActiveSeconds > 0).Select(f => f.Id)));
        Assert.That(r.Pantheon.Where(p => p.FlowId is null).Select(p => (p.Cc, p.GoodputMbps, p.OwdMsP95)),
            Is.EqualTo(r.ByAlgorithm.Select(a => (a.Cc, a.GoodputMbps, a.OwdMsP95))));
        Assert.That(r.ByAlgorithm.Sum(a => a.Share), Is.EqualTo(1.0).Within(1e-3));
        Assert.That(outcome.TcpSummary!.ByAlgorithm, Is.EqualTo(r.ByAlgorithm));
    }
    [Test]
    public void TraceLink_Utilization_IsDeliveredBytesOverTheTracesCapacityInTheWindow()
    {
        // An MTU every millisecond (12 Mbit/s), measured over [1 s, 3 s): 2,000 opportunities of 1504 bytes. The flow
        // writes 10 segments every 100 ms, each taking one opportunity (1500 IP bytes + 4): 20 bursts fall in the
        // window, so 200 of its 2,000 opportunities carry data — a utilization of 0.1, not the transmitter's busy
        // time (a trace-driven link has none).
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(4),
            MeasureFrom = SimTime.FromSeconds(1),
            MeasureTo = SimTime.FromSeconds(3),
            Network = new NetworkSpec
            {
                Mahimahi = DeliveryTraceGenerator.Constant(12_000_000, 1_000, "mtu-per-ms.down"),
                BottleneckDelay = SimTime.FromMilliseconds(10),
            },
            Flows = [new FlowSpec { Cc = "cubic", Writes = new TcpWritePattern(10 * 1448, SimTime.FromMilliseconds(100)) }],
        };
        var r = new TcpScenarioRunner(spec, s_study.Factory.Create(), s_study.Catalog).Run();
        var link = r.Links.Single(l => l.Name == "bottleneck");
        Assert.That(link.Utilization, Is.EqualTo(0.1));

        // Saturated by a bulk flow, the same link is fully used once the queue has formed.
        var bulk = spec with { Flows = [new FlowSpec { Cc = "cubic" }] };
        var full = new TcpScenarioRunner(bulk, s_study.Factory.Create(), s_study.Catalog).Run();
        Assert.That(full.Links.Single(l => l.Name == "bottleneck").Utilization, Is.GreaterThan(0.99));
    }
}
