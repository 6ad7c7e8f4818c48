using Bogus;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>
/// Property: whatever the workload, every CPU nanosecond is either some task's runtime or idle — Σ task runtime +
/// Σ idle = CPUs × duration — with runtime summed per task and idle from the timeline's idle segments, two separate
/// accounts. Random workloads from a fixed seed, on the real fair class.
/// </summary>
public sealed class RuntimeConservationPropertyTests
{
    [Test]
    public void RandomWorkloads_RuntimePlusIdleIsCpusTimesDuration()
    {
        var faker = new Faker { Random = new Randomizer(20261126) };
        for (int run = 0; run < 25; run++)
        {
            var spec = RandomSpec(faker);
            var runner = new SchedScenarioRunner(spec, new BpfSystem(), new ConsumerCatalog());
            var r = runner.Run();
            var k = runner.Kernel;
            long runtime = 0, idle = 0;
            for (int id = 0; id < k.Tasks.Count; id++)
            {
                runtime += k.Metrics.Runtime(id);
            }
            for (int cpu = 0; cpu < k.NrCpus; cpu++)
            {
                idle += k.Metrics.CpuIdle(cpu);
            }
            Assert.That(runtime + idle, Is.EqualTo(k.NrCpus * spec.Duration.Nanoseconds),
                $"run {run}: {k.NrCpus} CPUs, {spec.Tasks.Count} groups ({string.Join(", ", spec.Tasks.Select(t => $"{t.Count}×{t.Behavior.Kind}/{t.Arrivals}"))})");
            Assert.That(r.Cpus.Sum(c => c.Utilization) * spec.Duration.Nanoseconds, Is.EqualTo((double)runtime).Within(k.NrCpus * spec.Duration.Nanoseconds * 1e-4));
        }
    }

    private static SchedScenarioSpec RandomSpec(Faker f)
    {
        int cpus = f.Random.Int(1, 8);
        var duration = SimTime.FromMilliseconds(f.Random.Int(50, 400));
        var groups = new List<TaskGroupSpec>();
        int n = f.Random.Int(1, 4);
        for (int g = 0; g < n; g++)
        {
            var kind = f.PickRandom(BehaviorKind.CpuBound, BehaviorKind.SleepWake, BehaviorKind.Periodic, BehaviorKind.Job);
            var start = SimTime.FromMilliseconds(f.Random.Int(0, 40));
            SimTime? stop = f.Random.Bool(0.3f) ? SimTime.FromMilliseconds(f.Random.Int(41, 300)) : null;
            int[]? affinity = f.Random.Bool(0.3f) ? [f.Random.Int(0, cpus - 1)] : null;
            groups.Add(new TaskGroupSpec
            {
                Name = $"g{g}",
                Count = f.Random.Int(1, 12),
                Nice = f.Random.Int(-5, 10),
                Cpus = affinity,
                Start = start,
                Stop = stop,
                Arrivals = kind == BehaviorKind.Job ? TaskArrivalKind.Poisson : TaskArrivalKind.Fixed,
                Rate = f.Random.Double(50, 2000),
                Behavior = new TaskBehavior
                {
                    Kind = kind,
                    Run = new Distribution(DistributionKind.Exp, f.Random.Double(1e5, 3e6)),
                    Sleep = new Distribution(DistributionKind.Uniform, 1e5, f.Random.Double(2e5, 1e7)),
                    Period = SimTime.FromMilliseconds(f.Random.Int(2, 20)),
                    Runtime = SimTime.FromMicroseconds(f.Random.Int(100, 3000)),
                    Work = new Distribution(DistributionKind.LogNormal, f.Random.Double(1e5, 2e6), 0.7),
                },
            });
        }
        return new SchedScenarioSpec
        {
            Seed = f.Random.ULong(),
            Cpus = new CpuSpec { Count = cpus },
            Duration = duration,
            Hz = f.PickRandom(100, 250, 1000),
            Tasks = groups,
            TimelineLimit = 0,
        };
    }
}
