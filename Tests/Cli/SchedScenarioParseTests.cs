using BpfSim.Studies;
using BpfSim.Cli;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using Bogus;

namespace BpfSim.Tests.Cli;

/// <summary>What a <c>subsystem: sched</c> scenario reads into (<see cref="SchedScenarioSpec"/>), and distributions' text.</summary>
[Category("Cli")]
public sealed class SchedScenarioParseTests
{
    internal static SchedScenarioSpec Load(string yaml, out LoadedScenario loaded)
    {
        var (factory, catalog) = Composition.Create([]);
        loaded = ScenarioLoader.Load(CliRun.Scenario(yaml), factory, catalog);
        Assert.That(loaded.Subsystem, Is.EqualTo("sched"));
        return loaded.Sched!;
    }

    [Test]
    public void Parse_EveryKey_ReadsIntoTheSpec()
    {
        var spec = Load("""
            subsystem: sched
            seed: 7
            duration: 3s
            cpus: { count: 8, smt: true, nodes: 2, nohz_full: [2, 3, 5] }
            hz: 250
            sample_interval: 50ms
            timeline_limit: 1000
            tasks:
              - { name: hog, count: 2, nice: -5, behavior: cpu_bound }
              - { name: pinned, nice: 5, cpus: [0, 3], policy: ext }
              - { name: web, count: 8, behavior: { sleep_wake: { run: exp(2ms), sleep: uniform(1ms, 3ms) } } }
              - { name: tick, behavior: { periodic: { period: 10ms, runtime: 2ms, deadline: 5ms } } }
              - { name: job, arrivals: poisson, rate: 50, work: lognormal(10ms, 0.5), start: 0.5s, stop: 2s }
              - { name: bare, behavior: { sleep_wake: { run: 3ms, sleep: const(1ms) } } }
            """, out _);
        Assert.That(spec.Seed, Is.EqualTo(7));
        Assert.That(spec.Duration, Is.EqualTo(SimTime.FromSeconds(3)));
        Assert.That((spec.Cpus.Count, spec.Cpus.Smt, spec.Cpus.Nodes), Is.EqualTo((8, true, 2)));
        Assert.That(spec.Cpus.NohzFull, Is.EqualTo(new[] { 2, 3, 5 }));
        Assert.That(spec.Hz, Is.EqualTo(250));
        Assert.That(spec.SampleInterval, Is.EqualTo(SimTime.FromMilliseconds(50)));
        Assert.That(spec.TimelineLimit, Is.EqualTo(1000));
        Assert.That(spec.Tasks.Select(t => t.Name), Is.EqualTo(new[] { "hog", "pinned", "web", "tick", "job", "bare" }));
        var (hog, pinned, web, tick, job, bare) = (spec.Tasks[0], spec.Tasks[1], spec.Tasks[2], spec.Tasks[3], spec.Tasks[4], spec.Tasks[5]);
        Assert.That((hog.Count, hog.Nice, hog.Behavior.Kind, hog.PolicyExt), Is.EqualTo((2, -5, BehaviorKind.CpuBound, false)));
        Assert.That(pinned.Cpus, Is.EqualTo(new[] { 0, 3 }));
        Assert.That(pinned.PolicyExt, Is.True);
        Assert.That(web.Behavior.Kind, Is.EqualTo(BehaviorKind.SleepWake));
        Assert.That(web.Behavior.Run, Is.EqualTo(new Distribution(DistributionKind.Exp, 2e6)));
        Assert.That(web.Behavior.Sleep, Is.EqualTo(new Distribution(DistributionKind.Uniform, 1e6, 3e6)));
        Assert.That((tick.Behavior.Kind, tick.Behavior.Period, tick.Behavior.Runtime, tick.Behavior.Deadline),
            Is.EqualTo((BehaviorKind.Periodic, SimTime.FromMilliseconds(10), SimTime.FromMilliseconds(2), (SimTime?)SimTime.FromMilliseconds(5))));
        Assert.That((job.Arrivals, job.Rate, job.Behavior.Kind), Is.EqualTo((TaskArrivalKind.Poisson, 50.0, BehaviorKind.Job)));
        Assert.That(job.Behavior.Work, Is.EqualTo(new Distribution(DistributionKind.LogNormal, 10e6, 0.5)));
        Assert.That((job.Start, job.Stop), Is.EqualTo((SimTime.FromMilliseconds(500), (SimTime?)SimTime.FromSeconds(2))));
        Assert.That(bare.Behavior.Run, Is.EqualTo(new Distribution(DistributionKind.Const, 3e6)), "a bare time is a constant");
        Assert.That(hog.Location, Does.EndWith(":9:5"));
    }

    [Test]
    public void Parse_Defaults_AsDocumented()
    {
        var spec = Load("subsystem: sched\ntasks: [ { name: a } ]\n", out _);
        Assert.That((spec.Seed, spec.Duration, spec.Cpus.Count, spec.Hz), Is.EqualTo((1UL, SimTime.FromSeconds(10), 4, 1000)));
        Assert.That(spec.Tasks[0].Behavior.Kind, Is.EqualTo(BehaviorKind.CpuBound));
        Assert.That((spec.Tasks[0].Count, spec.Tasks[0].Nice, spec.Tasks[0].Cpus), Is.EqualTo((1, 0, (IReadOnlyList<int>?)null)));
    }

    [Test]
    public void Validate_SchedScenario_SaysOkWithTheEstimate()
    {
        var (code, output, err) = CliRun.Invoke("validate", CliRun.Scenario("subsystem: sched\nduration: 1s\ncpus: 2\ntasks: [ { name: a, count: 3 } ]\n"));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain(": ok (subsystem sched, 2 CPU(s), 1 task group(s), 0 struct_ops entries, 1s)"));
        Assert.That(output, Does.Contain("estimate: ~3 tasks"));
    }

    [TestCase("const(5ms)", DistributionKind.Const, 5e6, 0)]
    [TestCase("exp(10ms)", DistributionKind.Exp, 10e6, 0)]
    [TestCase("uniform(1ms, 3ms)", DistributionKind.Uniform, 1e6, 3e6)]
    [TestCase("uniform( 0 ,250us )", DistributionKind.Uniform, 0, 250e3)]
    [TestCase("lognormal(10ms, 0.5)", DistributionKind.LogNormal, 10e6, 0.5)]
    [TestCase("2.5ms", DistributionKind.Const, 2.5e6, 0)]
    public void DistributionText_Reads(string text, DistributionKind kind, double a, double b)
    {
        Assert.That(DistributionText.TryParse(text, 1e15, out var d, out var error, out _), Is.True, error);
        Assert.That(d, Is.EqualTo(new Distribution(kind, a, b)));
    }

    /// <summary>Property: any distribution, written as Distribution.ToString writes it, reads back as itself.</summary>
    [Test]
    public void DistributionText_RoundTripsToString_Property()
    {
        var random = new Randomizer(1126);
        for (int i = 0; i < 2000; i++)
        {
            long a = random.Long(1, 10_000_000_000), b = a + random.Long(1, 10_000_000_000);
            var d = random.Number(3) switch
            {
                0 => new Distribution(DistributionKind.Const, a),
                1 => new Distribution(DistributionKind.Exp, a),
                2 => new Distribution(DistributionKind.Uniform, a, b),
                _ => new Distribution(DistributionKind.LogNormal, a, Math.Round(random.Double(0, DistributionText.MaxSigma), 3)),
            };
            Assert.That(DistributionText.TryParse(d.ToString(), 1e15, out var back, out var error, out _), Is.True, $"{d}: {error}");
            Assert.That(back, Is.EqualTo(d), d.ToString());
        }
    }
}
