using System.Text.Json;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

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
}
