using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>The fair class driven by the real core (SchedKernel) through scenario runs.</summary>
public sealed class FairEndToEndTests
{
    private static SchedRunResult Run(int cpus, SimTime duration, params TaskGroupSpec[] groups) =>
        Run(new CpuSpec { Count = cpus }, duration, groups);

    private static SchedRunResult Run(CpuSpec cpus, SimTime duration, params TaskGroupSpec[] groups) =>
        new SchedScenarioRunner(
            new SchedScenarioSpec { Cpus = cpus, Duration = duration, Tasks = groups },
            new BpfSystem(), new ConsumerCatalog(), core => new FairSchedClass(core)).Run();

    private static SimTime Ms(double ms) => new((long)(ms * 1e6));

    private static TaskBehavior SleepWake(double runMs, double sleepMs) => new()
    {
        Kind = BehaviorKind.SleepWake,
        Run = new Distribution(DistributionKind.Exp, runMs * 1e6),
        Sleep = new Distribution(DistributionKind.Exp, sleepMs * 1e6),
    };

    /// <summary>
    /// sched_can_stop_tick (core.c) with the fair class on a nohz_full CPU: one queued fair task needs no tick (no
    /// involuntary preemption to time), so CPU 1 runs the first hog tickless; the second hog, arriving at 1.5 s, makes
    /// two queued (sched_update_tick_dependency restarts the tick), and from then CPU 1 ticks every jiffy; before, only
    /// the 1 Hz remote tick (at 1 s) ran its task_tick.
    /// </summary>
    [Test]
    public void NohzFullCpu_OneFairTaskTickless_TwoTick()
    {
        var runner = new SchedScenarioRunner(
            new SchedScenarioSpec
            {
                Cpus = new CpuSpec { Count = 2, NohzFull = [1] },
                Duration = SimTime.FromSeconds(2),
                Tasks =
                [
                    new TaskGroupSpec { Name = "solo", Cpus = [1] },
                    new TaskGroupSpec { Name = "late", Cpus = [1], Start = SimTime.FromMilliseconds(1500) },
                ],
            },
            new BpfSystem(), new ConsumerCatalog(), core => new FairSchedClass(core));
        var r = runner.Run();
        long ticks = runner.Kernel.Metrics.CpuTicks(1);
        Assert.Multiple(() =>
        {
            Assert.That(ticks, Is.InRange(495, 501), "ticks only from 1.5 s, when the second task came");
            Assert.That(r.Cpus[1].Ticks, Is.EqualTo(ticks), "the summary's ticks");
            Assert.That(r.Cpus[0].Ticks, Is.Zero, "CPU 0 idles the whole run: no tick");
            Assert.That(runner.Kernel.RemoteTicks, Is.EqualTo(1), "at 1 s, while tickless");
            Assert.That(r.Tasks.Sum(t => t.RuntimeSeconds), Is.EqualTo(2).Within(0.01));
        });
    }

    [Test]
    public void Nice0AndNice5Hogs_ThroughSchedKernel_ShareTheCpu1024To335()
    {
        var r = Run(1, SimTime.FromSeconds(10),
            new TaskGroupSpec { Name = "n0" }, new TaskGroupSpec { Name = "n5", Nice = 5 });
        double a = r.Tasks.Single(t => t.Nice == 0).RuntimeSeconds, b = r.Tasks.Single(t => t.Nice == 5).RuntimeSeconds;
        Assert.Multiple(() =>
        {
            Assert.That(a + b, Is.EqualTo(10).Within(0.01));
            Assert.That(a / (a + b), Is.EqualTo(1024.0 / 1359).Within(0.02));
            Assert.That(r.Tasks.All(t => t.Class == "fair"), Is.True);
        });
    }

    [Test]
    public void SixHogsOnFourCpus_ThroughSchedKernel_NoCpuIdlesWhileTasksWait()
    {
        var r = Run(4, SimTime.FromSeconds(2), new TaskGroupSpec { Name = "hog", Count = 6 });
        Assert.Multiple(() =>
        {
            foreach (var cpu in r.Cpus)
            {
                Assert.That(cpu.Utilization, Is.GreaterThan(0.99), $"CPU {cpu.Id}");
            }
            Assert.That(r.Tasks.Sum(t => t.RuntimeSeconds), Is.EqualTo(8).Within(0.02));
        });
    }

    [Test]
    public void ForkedHogs_ThroughSchedKernel_GetACpuEach_AcrossNodes()
    {
        // select_task_rq_fair(WF_FORK) places four hogs on two nodes of two CPUs one per CPU, and they stay there.
        var r = Run(new CpuSpec { Count = 4, Nodes = 2 }, SimTime.FromSeconds(1), new TaskGroupSpec { Name = "hog", Count = 4 });
        foreach (var t in r.Tasks)
        {
            Assert.That(t.RuntimeSeconds, Is.EqualTo(1).Within(0.05), t.Name);
        }
    }

    [Test]
    public void SleepersAndHogs_ThroughSchedKernel_DelayDequeueKeepsTheBooksStraight()
    {
        // Wakers that sleep often (DELAY_DEQUEUE, requeue, wakeup preemption) among hogs, on SMT pairs: every CPU
        // stays busy and time adds up, and nothing trips the class's checks.
        var r = Run(new CpuSpec { Count = 4, Smt = true }, SimTime.FromSeconds(2),
            new TaskGroupSpec { Name = "hog", Count = 4, Nice = 2 },
            new TaskGroupSpec { Name = "io", Count = 6, Behavior = SleepWake(0.3, 1.5) });
        Assert.Multiple(() =>
        {
            Assert.That(r.Tasks.Sum(t => t.RuntimeSeconds), Is.EqualTo(8).Within(0.02));
            Assert.That(r.Tasks.Where(t => t.Name.StartsWith("io", StringComparison.Ordinal)).Sum(t => t.Wakeups), Is.GreaterThan(1000));
            Assert.That(r.Tasks.Where(t => t.Name.StartsWith("io", StringComparison.Ordinal)).Max(t => t.WaitMsMean), Is.LessThan(5));
        });
    }
}
