using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Scenarios;
using BpfSim.Tests.Scheduler.Workloads;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The scheduler work estimate against runs: it errs high, but by less than 3×, with sleep/wake tasks under and over
/// the CPUs' capacity (over it, tasks wake only as often as the CPUs can run them).
/// </summary>
public sealed class SchedWorkEstimateTests
{
    private static SchedScenarioSpec SleepWake(int cpus, int tasks) => new()
    {
        Duration = SimTime.FromSeconds(1),
        Cpus = new CpuSpec { Count = cpus },
        TimelineLimit = 0,
        Tasks = [SchedRunRig.SleepWake("w", tasks, 200_000, 5_000_000)],
    };

    [TestCase(4, 20, TestName = "UnderCapacity_0.8Cpus")]
    [TestCase(4, 400, TestName = "OverCapacity_15Cpus")]
    [TestCase(8, 2000, TestName = "OverCapacity_77Cpus")]
    public void SleepWake_EstimateErrsHighByLessThan3x(int cpus, int tasks)
    {
        var spec = SleepWake(cpus, tasks);
        var estimate = SchedWorkEstimate.For(spec);
        var run = SchedRunRig.Run(spec);
        double ratio = estimate.Events / run.SchedEvents;
        Assert.That(ratio, Is.InRange(1.0, 3.0), $"estimate {estimate.Events:N0} against {run.SchedEvents:N0} scheduling events");
    }

    [Test]
    public void NanosecondCycles_AreEstimatedHigh()
    {
        // A cycle of 1 ns of run and 1 ns of sleep: the estimate once counted at least a microsecond a cycle, three
        // orders of magnitude below the run, so such a scenario passed the memory check and ran for hours.
        var spec = new SchedScenarioSpec
        {
            Duration = SimTime.FromMilliseconds(1),
            Cpus = new CpuSpec { Count = 1 },
            TimelineLimit = 0,
            Tasks = [SchedRunRig.SleepWake("w", 1, 1, 1)],
        };
        var estimate = SchedWorkEstimate.For(spec);
        var run = SchedRunRig.Run(spec);
        Assert.That(estimate.Events, Is.GreaterThanOrEqualTo(run.SchedEvents), $"estimate {estimate.Events:N0} against {run.SchedEvents:N0} scheduling events");
    }
}
