using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Workloads;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>Scenarios with a sched_ext scheduler registered through <c>structops:</c>, on the real fair class.</summary>
public sealed class SchedRunnerExtTests
{
    private static ConsumerCatalog Catalog()
    {
        var c = new ConsumerCatalog();
        c.Add(typeof(ScxSimple), "built-in");
        return c;
    }

    [Test]
    public void ScxSimple_RegisteredAtOneSecond_TakesTheTasksUntilUnregistered()
    {
        var spec = Spec(2, SimTime.FromSeconds(3),
            new TaskGroupSpec { Name = "hog", Count = 3 },
            new TaskGroupSpec
            {
                Name = "web", Count = 2,
                Behavior = new TaskBehavior
                {
                    Kind = BehaviorKind.SleepWake,
                    Run = new Distribution(DistributionKind.Exp, 1e6), Sleep = new Distribution(DistributionKind.Exp, 4e6),
                },
            }) with
        {
            StructOps = [new StructOpsEntry { Program = "scx_simple", At = SimTime.FromSeconds(1), UnregisterAt = SimTime.FromSeconds(2) }],
            TimelineLimit = 1_000_000,
        };
        var r = SchedScenarioRunner.Run(spec, () => new BpfSystem(), Catalog());
        var s = r.Schedulers.Single();
        Assert.Multiple(() =>
        {
            Assert.That(s.EnabledSeconds, Is.EqualTo(1.0).Within(1e-6));
            Assert.That(s.DisabledSeconds, Is.EqualTo(2.0).Within(1e-3));
            Assert.That(r.Ejections, Is.Empty);
            Assert.That(r.StructOps, Has.Count.EqualTo(1));
            Assert.That(r.Tasks.Select(t => t.Class), Is.All.EqualTo("fair"), "back in fair after the unregister");
            var ext = r.Trace.Timeline.Where(x => x.Task >= 0 && x.Class == 1).ToList();
            Assert.That(ext, Is.Not.Empty, "tasks ran in the ext class while it was loaded");
            Assert.That(ext.Min(x => x.StartNs), Is.GreaterThanOrEqualTo(1_000_000_000L));
            Assert.That(ext.Max(x => x.EndNs), Is.LessThanOrEqualTo(2_001_000_000L));
            Assert.That(r.Cpus.Select(c => c.Utilization), Is.All.EqualTo(1.0).Within(1e-6), "three hogs on two CPUs throughout");
        });
    }

    [Test]
    public void ScenarioWithoutStructOps_HasNoSchedulers()
    {
        var r = SchedScenarioRunner.Run(Spec(1, SimTime.FromMilliseconds(100), new TaskGroupSpec { Name = "hog" }),
            () => new BpfSystem(), Catalog());
        Assert.Multiple(() =>
        {
            Assert.That(r.Schedulers, Is.Empty);
            Assert.That(r.StructOps, Is.Empty);
            Assert.That(r.Tasks.Single().Class, Is.EqualTo("fair"));
        });
    }
}
