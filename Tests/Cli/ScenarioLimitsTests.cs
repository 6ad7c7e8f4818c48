using BpfSim.Studies;
using System.Text.Json;
using BpfSim.Cli;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Numbers the simulator cannot represent or a run could not hold are refused before the run, with the limit named;
/// a run that would not fit in memory is refused with its estimate; large runs that fit still run.
/// </summary>
[Category("Cli")]
public sealed class ScenarioLimitsTests
{
    private static IEnumerable<TestCaseData> OutOfRange()
    {
        yield return new TestCaseData("flows: [ { cc: reno, count: 2147483647 } ]\n", "count must be at most 1,000,000").SetName("CountIntMax");
        yield return new TestCaseData("flows: [ { cc: reno, count: 99999999999999999999 } ]\n", "count must be at most 1,000,000; got 99999999999999999999").SetName("CountBeyondLong");
        yield return new TestCaseData("flows: [ { cc: reno, count: -99999999999999999999 } ]\n", "count must be at least 1; got -99999999999999999999").SetName("CountBelowLong");
        yield return new TestCaseData("flows: [ { arrivals: poisson, rate: Infinity, size: 1KB } ]\n", "rate must be greater than 0 and at most 1000000").SetName("PoissonRateInfinity");
        yield return new TestCaseData("flows: [ { arrivals: poisson, rate: 1e12, size: 1KB } ]\n", "at most 1000000").SetName("PoissonRate1e12");
        yield return new TestCaseData("flows: [ { arrivals: poisson, rate: NaN, size: 1KB } ]\n", "is not a number").SetName("PoissonRateNaN");
        yield return new TestCaseData("sample_interval: 1ns\nflows: [ { cc: reno } ]\n", "sample_interval must be at least 1ms").SetName("SampleInterval1ns");
        yield return new TestCaseData("network: { topology: parking_lot, hops: 2147483647 }\nflows: [ { cc: reno } ]\n", "hops must be at most 1,024").SetName("HopsIntMax");
        yield return new TestCaseData("network: { bottleneck: { delay: 9223372036s } }\nflows: [ { cc: reno } ]\n", "delay must be at most 1000000s").SetName("DelayOverflowsSimTime");
        yield return new TestCaseData("network: { bottleneck: { delay: 9223372037s } }\nflows: [ { cc: reno } ]\n", "at most 9223372036.854775807s").SetName("DelayBeyondSimTime");
        yield return new TestCaseData("network: { bottleneck: { rate: 1000000Gbps } }\nflows: [ { cc: reno } ]\n", "rate must be at most 1000Gbps").SetName("RatePetabit");
        yield return new TestCaseData("network: { access: { rate: 1000000Gbps, delay: 0 } }\nflows: [ { cc: reno } ]\n", "rate must be at most 1000Gbps").SetName("ZeroDelayPetabitAccess");
        yield return new TestCaseData("flows: [ { cc: reno, burst: 1KB, interval: 1ns } ]\n", "interval must be at least 1us").SetName("OnOffInterval1ns");
        yield return new TestCaseData("network: { bottleneck: { queue: { type: droptail, limit: 2147483647 } } }\nflows: [ { cc: reno } ]\n", "limit must be at most 1,000,000").SetName("QueueLimitIntMax");
        yield return new TestCaseData("network: { bottleneck: { queue: { type: red, min: 1, max: 1e308, limit: 250 } } }\nflows: [ { cc: reno } ]\n", "max must be greater than 0 and at most 1000000").SetName("RedMax1e308");
    }

    [TestCaseSource(nameof(OutOfRange))]
    public void OutOfRangeNumber_ExitTwo_NamesTheLimit(string yaml, string reason)
    {
        string file = CliRun.Scenario("duration: 3s\n" + yaml);
        foreach (var command in new[] { "validate", "run" })
        {
            var (code, output, err) = CliRun.Invoke(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{command}: {err}");
            Assert.That(err, Does.Match($@"^{System.Text.RegularExpressions.Regex.Escape(file)}:\d+:\d+: ").And.Contain(reason), command);
            Assert.That(output, Is.Empty);
        }
    }

    [Test]
    public void DurationOverride_BeyondTheLimit_ExitTwo()
    {
        var (code, _, err) = CliRun.Invoke("run", "--duration", "9223372036s");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("--duration: must be at most 1000000s"));
    }

    [Test]
    public void RunThatWouldNotFitInMemory_RefusedWithTheEstimate_ByRunAndValidate()
    {
        var groups = string.Concat(Enumerable.Repeat("  - { count: 1000000, cc: cubic }\n", 30));
        string file = CliRun.Scenario("duration: 1000s\nflows:\n" + groups);
        foreach (var command in new[] { "validate", "run" })
        {
            var (code, output, err) = CliRun.Invoke(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), command);
            Assert.That(err, Does.StartWith($"bpfsim: {file}: this run would not fit in memory: ~30 M flows").And.Contain("budget"), command);
            Assert.That(output, Is.Empty, command);
        }
    }

    [Test]
    public void Validate_PrintsTheEstimate()
    {
        string file = CliRun.Scenario("duration: 2s\nflows: [ { count: 100000, cc: cubic } ]\n");
        var (code, output, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("estimate: ~100 K flows").And.Contain("of memory (budget"));
    }

    [Test]
    public void Estimate_CountsFlowsSamplesAndMemory()
    {
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(10),
            Flows = [new FlowSpec { Count = 1000 }, new FlowSpec { Arrivals = ArrivalKind.Poisson, Rate = 100, SizeBytes = 1000, Start = SimTime.FromSeconds(5), Stop = SimTime.FromSeconds(50) }],
        };
        var estimate = WorkEstimate.For(spec);
        Assert.That(estimate.Flows, Is.EqualTo(1500), "Poisson arrivals end with the run: 100/s over 5 s");
        Assert.That(estimate.Samples, Is.EqualTo(101));
        Assert.That(estimate.MemoryBytes, Is.GreaterThan(1500 * WorkEstimate.BytesPerFlow));
    }

    [Test]
    public void Estimate_CountsSamplesOfTheSampledFlowsOnly_AndSlowerEventsWithManyFlows()
    {
        var few = new TcpScenarioSpec { Duration = SimTime.FromSeconds(10), Flows = [new FlowSpec { Count = 10 }] };
        var many = few with { Flows = [new FlowSpec { Count = 100_000 }] };
        var allSampled = many with { TimeSeriesFlows = 100_000 };
        double values = WorkEstimate.For(many).Samples * (100_000 - TcpScenarioSpec.DefaultTimeSeriesFlows) * TcpSampler.FlowMetrics.Length;
        Assert.That(WorkEstimate.For(allSampled).MemoryBytes - WorkEstimate.For(many).MemoryBytes, Is.EqualTo(values * sizeof(float)).Within(1));
        // The same packets cost more wall time among 100,000 flows (2.5 M events/s) than among 10 (5 M/s).
        var (f, m) = (WorkEstimate.For(few), WorkEstimate.For(many));
        Assert.That((m.WallSeconds - m.Flows / WorkEstimate.FlowsPerWallSecond) / m.Events, Is.GreaterThan(1.8 * f.WallSeconds / f.Events));
    }

    [Test]
    public void Run_LongEstimate_NotOnATerminal_PrintsTheEstimateAndProgressLinesOnStderr()
    {
        // Estimated at ~13 s (a 1 Tbit/s bottleneck could carry 67 M events in 100 ms); one flow runs in a moment.
        string file = CliRun.Scenario("duration: 100ms\nnetwork: { bottleneck: { rate: 1000Gbps }, access: { rate: 1000Gbps } }\nflows: [ { cc: reno } ]\n");
        var (code, _, err) = CliRun.Invoke("run", file);
        Assert.That(code, Is.Zero, err);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("bpfsim: a long run: ~1 flows"));
        Assert.That(lines.Skip(1), Is.EqualTo(Enumerable.Range(1, 10).Select(i => $"bpfsim: {i * 10}% ({i * 10}ms of 100ms simulated, ")).Using<string, string>((a, b) => a.StartsWith(b, StringComparison.Ordinal)));
        Assert.That(CliRun.Invoke("run", file, "--quiet").Err, Is.Empty, "--quiet prints nothing but errors");
    }

    [Test]
    public void TwentyThousandFlows_BuildInSeconds_NotMinutes()
    {
        // Adding a flow once searched every link by name: 20,000 flows took 150 s, 100,000 did not finish.
        string file = CliRun.Scenario("duration: 100ms\nsample_interval: 100ms\nflows: [ { count: 20000, cc: cubic } ]\n");
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        Assert.That(wall.Elapsed.TotalSeconds, Is.LessThan(30));
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("flows").GetArrayLength(), Is.EqualTo(20000));
    }

    [Test]
    public void PoissonArrivals_StopFarBeyondTheRun_EndWithTheRun()
    {
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromMilliseconds(200),
            Flows = [new FlowSpec { Arrivals = ArrivalKind.Poisson, Rate = 1000, SizeBytes = 1000, Stop = SimTime.FromSeconds(1_000_000) }],
        };
        var (factory, catalog) = Composition.Create([]);
        var result = new TcpScenarioRunner(spec, factory.Create(), catalog).Run();
        Assert.That(result.Flows.Count, Is.InRange(150, 250), "about 1000/s × 0.2 s arrived; none were scheduled past the end");
    }

    [Test]
    public void PoissonArrivals_ChainedOneAtATime_SameFlowsAsTheScenarioSaysBefore()
    {
        // The arrivals are drawn from the same stream whether scheduled up front or one from the other.
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(2),
            Flows = [new FlowSpec { Arrivals = ArrivalKind.Poisson, Rate = 20, SizeBytes = 1000, Start = SimTime.FromMilliseconds(100), Stop = SimTime.FromSeconds(1) }],
        };
        var random = SimRandom.For(spec.Seed, "arrivals:0");
        var expected = new List<double>();
        for (double t = 0.1; ;)
        {
            t += random.NextExponential(1.0 / 20);
            if (new SimTime((long)(t * 1e9)) >= SimTime.FromSeconds(1))
            {
                break;
            }
            expected.Add(Math.Round(new SimTime((long)(t * 1e9)).TotalSeconds, 6));
        }
        var (factory, catalog) = Composition.Create([]);
        var result = new TcpScenarioRunner(spec, factory.Create(), catalog).Run();
        Assert.That(result.Flows.Select(f => f.StartSeconds), Is.EqualTo(expected));
    }
}
