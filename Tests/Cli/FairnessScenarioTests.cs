using System.Text.Json;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The summary's Jain index on runs whose fairness is known in advance: it is computed over the flows' goodputs, and
/// it tells a fair share from an unfair one.
/// </summary>
[Category("Cli")]
public sealed class FairnessScenarioTests
{
    private static JsonElement Run(string yaml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.That(BpfSimCommand.Invoke(["run", path, "--json"], stdout, stderr), Is.Zero, stderr.ToString());
        return JsonDocument.Parse(stdout.ToString()).RootElement.Clone();
    }

    /// <summary>(Σx)² / (n·Σx²) over the summary's goodputs, written out here rather than taken from the code under test.</summary>
    internal static double JainOfGoodputs(JsonElement summary)
    {
        double[] x = summary.GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("goodput_mbps").GetDouble()).ToArray();
        return x.Sum() * x.Sum() / (x.Length * x.Sum(v => v * v));
    }

    /// <summary>
    /// Two flows started together over a drop-tail queue fall into phases in which one of them takes the losses; 20 s
    /// averages those out (over the first 10 s the split is 8.5 : 10.7 Mbit/s, J = 0.987).
    /// </summary>
    [Test]
    public void Jain_TwoIdenticalRenoFlows_IsNearlyOne()
    {
        var summary = Run("""
            seed: 1
            duration: 20s
            network:
              bottleneck: { rate: 20Mbps, delay: 10ms, queue: { type: droptail, limit: 100 } }
            flows:
              - { count: 2, cc: reno, start: 0s }
            """);
        double jain = summary.GetProperty("fairness").GetProperty("jain").GetDouble();
        Assert.That(jain, Is.EqualTo(JainOfGoodputs(summary)).Within(1e-4), "rounded to 4 places in the summary");
        Assert.That(jain, Is.GreaterThanOrEqualTo(0.99), "same algorithm, RTT and start: an even split");
    }

    /// <summary>
    /// Reno's rate goes as 1/RTT (Mathis), so a 24 ms flow against a 144 ms one takes most of the link; two flows at
    /// 6:1 give J = 49 / (2·37) ≈ 0.66.
    /// </summary>
    [Test]
    public void Jain_RenoFlowsWithSixfoldRtt_IsWellBelowOne()
    {
        var summary = Run("""
            seed: 1
            duration: 10s
            network:
              bottleneck: { rate: 20Mbps, delay: 10ms, queue: { type: droptail, limit: 100 } }
              access: { rate: 1Gbps, delay: 1ms }
            flows:
              - { count: 1, cc: reno, start: 0s }
              - { count: 1, cc: reno, start: 0s, access_delay: 60ms }
            """);
        double jain = summary.GetProperty("fairness").GetProperty("jain").GetDouble();
        Assert.That(jain, Is.EqualTo(JainOfGoodputs(summary)).Within(1e-4));
        Assert.That(jain, Is.LessThan(0.75), "the short-RTT flow takes most of the bottleneck");
        Assert.That(jain, Is.GreaterThanOrEqualTo(0.5), "two flows: never below 1/2");
    }
}
