using System.Text.Json;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

/// <summary>What sweep.csv takes from a run's summary: aggregate goodput, and the measurement window's columns per link, algorithm and FCT group.</summary>
[Category("Sweep")]
public sealed class SweepMetricsTests
{
    private static double Metric(string summary, string name)
    {
        using var doc = JsonDocument.Parse(summary);
        return SweepMetrics.From(doc.RootElement).Single(m => m.Name == name).Value;
    }

    [Test]
    public void Goodput_StaggeredFlows_IsBytesOverTheSpanNotTheSumOfRates()
    {
        // A 100 Mbit/s link: flow 1 alone for 1 s, then both flows at 50 Mbit/s for 1 s. Flow 1's own goodput is 75
        // (18.75 MB over 2 s), flow 2's 50 (6.25 MB over 1 s); their sum, 125, exceeds the link. 25 MB over 2 s is 100.
        const string summary = """
            {"flows": [
              {"id": 1, "start_s": 0, "end_s": 2, "bytes_acked": 18750000, "goodput_mbps": 75, "group": 0},
              {"id": 2, "start_s": 1, "end_s": 2, "bytes_acked": 6250000, "goodput_mbps": 50, "group": 0}
            ], "links": [], "fairness": {"jain": 1}, "faults": []}
            """;
        Assert.That(Metric(summary, "goodput_mbps"), Is.EqualTo(100.0));
        Assert.That(Metric(summary, "group0_goodput_mbps"), Is.EqualTo(100.0));
    }

    [Test]
    public void From_WindowFields_BecomeColumnsPerLinkAlgorithmAndGroup()
    {
        using var doc = JsonDocument.Parse("""
            { "subsystem": "tcp", "events": 10, "flows": [], "fairness": { "jain": 1 },
              "links": [ { "name": "bottleneck", "loss_rate": 0.01, "queue_delay_ms": { "mean": 4.5, "p50": 3.25, "p95": 9, "p99": 12.5 } } ],
              "by_algorithm": [ { "cc": "cubic", "flows": 2, "goodput_mbps": 30, "share": 0.75, "owd_ms_p95": 17.5 },
                                { "cc": "dctcp-reno", "flows": 1, "goodput_mbps": 10, "share": 0.25, "owd_ms_p95": 12 } ],
              "fct": [ { "group": 1, "count": 9, "completed": 8, "p50_ms": 40, "p99_ms": 90, "slowdown_p50": 1.5, "slowdown_p99": 3.25 } ],
              "faults": [] }
            """);
        var m = SweepMetrics.From(doc.RootElement).ToDictionary(x => x.Name, x => x.Value);
        Assert.That(m["link_bottleneck_loss_rate"], Is.EqualTo(0.01));
        Assert.That((m["link_bottleneck_queue_delay_ms_mean"], m["link_bottleneck_queue_delay_ms_p50"], m["link_bottleneck_queue_delay_ms_p95"],
            m["link_bottleneck_queue_delay_ms_p99"]), Is.EqualTo((4.5, 3.25, 9.0, 12.5)));
        Assert.That(m["window_goodput_mbps"], Is.EqualTo(40), "the algorithms' window goodputs summed");
        Assert.That((m["cc_cubic_flows"], m["cc_cubic_share"], m["cc_cubic_owd_ms_p95"]), Is.EqualTo((2.0, 0.75, 17.5)));
        Assert.That(m["cc_dctcp_reno_goodput_mbps"], Is.EqualTo(10), "the name made a column name");
        Assert.That((m["group1_fct_count"], m["group1_fct_completed"], m["group1_fct_ms_p99"], m["group1_fct_slowdown_p99"]), Is.EqualTo((9.0, 8.0, 90.0, 3.25)));
    }
}
