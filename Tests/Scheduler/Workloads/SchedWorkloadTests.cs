using System.Text.Json;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Workloads;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Workloads;

public sealed class SchedWorkloadTests
{
    private static TaskGroupSpec Periodic(double periodMs, double runtimeMs, double? deadlineMs = null) => new()
    {
        Name = "rt",
        Behavior = new TaskBehavior
        {
            Kind = BehaviorKind.Periodic, Period = Ms(periodMs), Runtime = Ms(runtimeMs),
            Deadline = deadlineMs is { } d ? Ms(d) : null,
        },
    };

    [Test]
    public void Periodic_MeetingItsDeadlines_CountsPeriodsAndNoMisses()
    {
        var r = Run(Spec(1, SimTime.FromSeconds(1), Periodic(10, 2)));
        var t = r.Tasks.Single();
        Assert.Multiple(() =>
        {
            Assert.That(t.Periods, Is.EqualTo(100));
            Assert.That(t.DeadlineMisses, Is.Zero);
            Assert.That(t.RuntimeSeconds, Is.EqualTo(0.2).Within(1e-9), "2 ms every 10 ms");
            Assert.That(t.Wakeups, Is.EqualTo(99), "each release after the first wakes it");
        });
    }

    [Test]
    public void Periodic_RuntimeLongerThanThePeriod_LateJobsAndSkippedReleasesAreMisses()
    {
        // Jobs released at 0, 20, 40 … ms run 12 ms: each misses its deadline (+1) and the release 10 ms after
        // its start finds it busy (+1, not queued): 100 releases in 1 s, all misses.
        var r = Run(Spec(1, SimTime.FromSeconds(1), Periodic(10, 12)));
        var t = r.Tasks.Single();
        Assert.Multiple(() =>
        {
            Assert.That(t.Periods, Is.EqualTo(100));
            Assert.That(t.DeadlineMisses, Is.EqualTo(100));
            Assert.That(t.RuntimeSeconds, Is.EqualTo(0.6).Within(1e-9), "50 jobs of 12 ms; releases do not stack");
        });
    }

    [Test]
    public void Periodic_DeadlineShorterThanTheRuntime_EveryJobMisses()
    {
        var r = Run(Spec(1, SimTime.FromSeconds(1), Periodic(10, 2, deadlineMs: 1)));
        Assert.That(r.Tasks.Single().DeadlineMisses, Is.EqualTo(100));
    }

    [Test]
    public void Periodic_SharingACpuWithAHog_MissesWhenTheHogHoldsTheCpu()
    {
        // The test class preempts only at 4-tick slices: a release behind the hog waits up to 4 ms, so a 3 ms
        // deadline is missed exactly when the hog's slice has more than 1 ms left.
        var hog = new TaskGroupSpec { Name = "hog" };
        var r = Run(Spec(1, SimTime.FromSeconds(1), hog, Periodic(10, 2, deadlineMs: 3)));
        var rt = r.Tasks.Single(t => t.Name == "rt");
        Assert.Multiple(() =>
        {
            Assert.That(rt.Periods, Is.EqualTo(100));
            Assert.That(rt.DeadlineMisses, Is.InRange(1, 99));
        });
    }

    [TestCase(50.0, 10)]
    [TestCase(400.0, 5)]
    public void PoissonJobs_CountMatchesTheRate(double rate, int seconds)
    {
        var jobs = new TaskGroupSpec
        {
            Name = "job", Arrivals = TaskArrivalKind.Poisson, Rate = rate,
            Behavior = new TaskBehavior { Kind = BehaviorKind.Job, Work = new Distribution(DistributionKind.Exp, 1e6) },
        };
        var r = Run(Spec(4, SimTime.FromSeconds(seconds), jobs) with { Seed = 7 });
        var j = r.Jobs.Single();
        double expected = rate * seconds;
        Assert.Multiple(() =>
        {
            Assert.That(j.Count, Is.EqualTo(expected).Within(3 * Math.Sqrt(expected)), "Poisson: mean rate × time, σ = √mean");
            Assert.That(j.Completed, Is.InRange(j.Count - 10, j.Count));
            Assert.That(j.ResponseMsMean, Is.EqualTo(1.0).Within(0.2), "exp(1ms) work on mostly idle CPUs");
            Assert.That(r.Tasks, Is.Empty, "jobs are summarised per group");
        });
    }

    [Test]
    public void SleepWake_RunsAboutItsDutyCycle()
    {
        var web = new TaskGroupSpec
        {
            Name = "web", Count = 4,
            Behavior = new TaskBehavior
            {
                Kind = BehaviorKind.SleepWake,
                Run = new Distribution(DistributionKind.Exp, 2e6), Sleep = new Distribution(DistributionKind.Exp, 8e6),
            },
        };
        var r = Run(Spec(4, SimTime.FromSeconds(20), web));
        Assert.Multiple(() =>
        {
            foreach (var t in r.Tasks)
            {
                Assert.That(t.CpuShare, Is.EqualTo(0.2).Within(0.03), $"{t.Pid}: runs 2 ms per 10 ms");
                Assert.That(t.Wakeups, Is.EqualTo(2000).Within(200));
            }
            Assert.That(r.Tasks.Select(t => t.RuntimeSeconds).Distinct().Count(), Is.EqualTo(4), "each task has its own stream");
        });
    }

    [Test]
    public void Phases_RunThenTimer_RunsTheirShareAndAFiniteLoopExits()
    {
        var steps = new List<PhaseStep> { new(PhaseStepKind.Run, Ms(3)), new(PhaseStepKind.Timer, Ms(10)) };
        var forever = new TaskGroupSpec
        {
            Name = "loop", Behavior = new TaskBehavior { Kind = BehaviorKind.Phases, Phases = [new Phase(steps, -1)] },
        };
        var twice = new TaskGroupSpec
        {
            Name = "twice",
            Behavior = new TaskBehavior
            {
                Kind = BehaviorKind.Phases, PhasesLoop = 2,
                Phases = [new Phase([new(PhaseStepKind.Sleep, Ms(5)), new(PhaseStepKind.Run, Ms(1))], 3)],
            },
        };
        var r = Run(Spec(2, SimTime.FromSeconds(1), forever, twice));
        var loop = r.Tasks.Single(t => t.Name == "loop");
        var tw = r.Tasks.Single(t => t.Name == "twice");
        Assert.Multiple(() =>
        {
            Assert.That(loop.RuntimeSeconds, Is.EqualTo(0.3).Within(1e-6), "3 ms per 10 ms timer period");
            Assert.That(loop.ExitedSeconds, Is.Null);
            Assert.That(tw.RuntimeSeconds, Is.EqualTo(0.006).Within(1e-9), "2 × 3 iterations of 1 ms");
            Assert.That(tw.ExitedSeconds, Is.EqualTo(0.036).Within(1e-6), "6 × (5 ms sleep + 1 ms run)");
        });
    }

    [Test]
    public void FixedGroup_ExitsAtItsStop()
    {
        var hog = new TaskGroupSpec { Name = "hog", Count = 2, Start = Ms(100), Stop = Ms(600) };
        var r = Run(Spec(2, SimTime.FromSeconds(1), hog));
        Assert.Multiple(() =>
        {
            foreach (var t in r.Tasks)
            {
                Assert.That(t.ExitedSeconds, Is.EqualTo(0.6).Within(1e-9));
                Assert.That(t.RuntimeSeconds, Is.EqualTo(0.5).Within(1e-9));
                Assert.That(t.CpuShare, Is.EqualTo(1.0).Within(1e-9));
            }
            Assert.That(r.Cpus.Select(c => c.Utilization), Is.All.EqualTo(0.5).Within(1e-9));
        });
    }

    [Test]
    public void SameSeed_SameResults_DifferentSeed_DifferentResults()
    {
        var spec = Mixed() with { Seed = 3 };
        string a = Json(Run(spec)), b = Json(Run(spec)), c = Json(Run(spec with { Seed = 4 }));
        Assert.Multiple(() =>
        {
            Assert.That(b, Is.EqualTo(a));
            Assert.That(c, Is.Not.EqualTo(a));
        });
    }

    [Test]
    public void Timeline_IsCappedAndTheRestCounted()
    {
        var spec = Mixed() with { TimelineLimit = 100 };
        var r = Run(spec);
        Assert.Multiple(() =>
        {
            Assert.That(r.Trace.Timeline, Has.Count.EqualTo(100));
            Assert.That(r.Trace.TimelineDropped, Is.GreaterThan(0));
            Assert.That(r.Trace.Samples, Has.Count.EqualTo(4 * 20), "4 CPUs sampled every 100 ms for 2 s");
            Assert.That(r.Trace.WaitsByGroup.Keys, Is.EquivalentTo(new[] { "hog", "web", "job" }));
        });
    }

    [Test]
    public void BadAffinity_IsAScenarioError()
    {
        var spec = Spec(2, SimTime.FromSeconds(1), new TaskGroupSpec { Name = "x", Cpus = [5], Location = "s.yaml:3:5" });
        var e = Assert.Throws<ScenarioRunException>(() => Run(spec));
        Assert.That(e!.Message, Does.Contain("CPU 5 does not exist"));
    }

    [Test]
    public void BadNiceOrPeriod_IsAScenarioErrorAtTheGroup()
    {
        var nice = Spec(1, SimTime.FromSeconds(1), new TaskGroupSpec { Name = "x", Nice = 25, Location = "s.yaml:4:3" });
        var period = Spec(1, SimTime.FromSeconds(1), new TaskGroupSpec
        {
            Name = "p", Location = "s.yaml:5:3", Behavior = new TaskBehavior { Kind = BehaviorKind.Periodic, Runtime = Ms(1) },
        });
        var e1 = Assert.Throws<ScenarioRunException>(() => Run(nice));
        var e2 = Assert.Throws<ScenarioRunException>(() => Run(period));
        Assert.Multiple(() =>
        {
            Assert.That(e1!.Message, Does.Contain("nice 25 is out of range"));
            Assert.That(e2!.Message, Does.Contain("needs a positive period"));
        });
    }

    [Test]
    public void SetNice_ChangesTheLoadWeightAndTellsTheClass()
    {
        var runner = Runner(Spec(1, SimTime.FromMilliseconds(10), new TaskGroupSpec { Name = "hog" }));
        runner.Run();
        var k = runner.Kernel;
        k.SetNice(0, -20);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tasks[0].Se.Weight, Is.EqualTo(88761UL << 10));
            Assert.That(k.Tasks[0].Scx.Weight, Is.EqualTo(8668u));
            Assert.That(k.Tasks[0].Nice, Is.EqualTo(-20));
        });
    }

    internal static SchedScenarioSpec Mixed() => Spec(4, SimTime.FromSeconds(2),
        new TaskGroupSpec { Name = "hog", Count = 3, Nice = 2 },
        new TaskGroupSpec
        {
            Name = "web", Count = 6,
            Behavior = new TaskBehavior
            {
                Kind = BehaviorKind.SleepWake,
                Run = new Distribution(DistributionKind.Exp, 1e6), Sleep = new Distribution(DistributionKind.LogNormal, 3e6, 0.5),
            },
        },
        new TaskGroupSpec
        {
            Name = "job", Arrivals = TaskArrivalKind.Poisson, Rate = 100,
            Behavior = new TaskBehavior { Kind = BehaviorKind.Job, Work = new Distribution(DistributionKind.Uniform, 1e5, 3e6) },
        });

    private static string Json(SchedRunResult r) =>
        JsonSerializer.Serialize(new { r.Tasks, r.Jobs, r.Cpus, r.Fairness, r.SchedEvents, r.Events });
}
