using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>The whole kernel (core + fair class) against what the kernel's weights predict.</summary>
public sealed class FairModelTests
{
    private static SchedRunResult RunFair(SchedScenarioSpec spec) =>
        SchedScenarioRunner.Run(spec, () => new BpfSystem(), new ConsumerCatalog());

    [Test]
    public void Nice0AndNice5HogsOnOneCpu_Get1024To335()
    {
        var spec = Spec(1, SimTime.FromSeconds(10),
            new TaskGroupSpec { Name = "n0", Nice = 0 },
            new TaskGroupSpec { Name = "n5", Nice = 5 });
        var r = RunFair(spec);
        double a = r.Tasks.Single(t => t.Name == "n0").RuntimeSeconds;
        double b = r.Tasks.Single(t => t.Name == "n5").RuntimeSeconds;
        Assert.Multiple(() =>
        {
            Assert.That(a + b, Is.EqualTo(10.0).Within(1e-6));
            Assert.That(a / b, Is.EqualTo(1024.0 / 335).Within(1024.0 / 335 * 0.02), "sched_prio_to_weight: 1024 vs 335");
            Assert.That(r.Fairness.MaxShareError, Is.LessThan(0.02));
        });
    }

    [Test]
    public void EqualHogs_MoreThanCpus_ShareEvenly()
    {
        var r = RunFair(Spec(4, SimTime.FromSeconds(5), new TaskGroupSpec { Name = "hog", Count = 8 }));
        Assert.Multiple(() =>
        {
            Assert.That(r.Tasks.Select(t => t.CpuShare), Is.All.EqualTo(0.5).Within(0.05));
            Assert.That(r.Fairness.JainWeighted, Is.GreaterThan(0.99));
            Assert.That(r.Cpus.Select(c => c.Utilization), Is.All.EqualTo(1.0).Within(1e-6));
        });
    }

    [Test]
    public void MixedWorkload_UnderFair_ConservesRuntime()
    {
        var r = RunFair(SchedWorkloadTests.Mixed());
        double busy = r.Cpus.Sum(c => c.Utilization) * r.SimSeconds;
        Assert.Multiple(() =>
        {
            Assert.That(r.Tasks, Has.Count.EqualTo(9));
            Assert.That(r.Jobs.Single().Count, Is.GreaterThan(150));
            Assert.That(busy, Is.GreaterThan(3 * 2 * 0.99), "three hogs keep three CPUs busy at least");
        });
    }
}
