using System.Diagnostics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>The acceptance bench's shape (64 CPUs × 10,000 tasks): scheduling events per wall second. Run by hand.</summary>
[Explicit("a benchmark: run by hand")]
public sealed class SchedBench
{
    [TestCase(64, 10_000, 2.0, false)]
    [TestCase(64, 10_000, 2.0, true)]
    public void ManyTasksOnManyCpus(int cpus, int tasks, double seconds, bool fifo)
    {
        var spec = Spec(cpus, new SimTime((long)(seconds * 1e9)),
            new TaskGroupSpec { Name = "hog", Count = tasks / 10 },
            new TaskGroupSpec
            {
                Name = "web", Count = tasks - tasks / 10,
                Behavior = new TaskBehavior
                {
                    Kind = BehaviorKind.SleepWake,
                    Run = new Distribution(DistributionKind.Exp, 0.5e6), Sleep = new Distribution(DistributionKind.Exp, 20e6),
                },
            }) with
        { TimelineLimit = 0, SampleInterval = SimTime.Zero };
        var runner = fifo ? Runner(spec) : new SchedScenarioRunner(spec, new BpfSystem(), new ConsumerCatalog());
        var wall = Stopwatch.StartNew();
        var r = runner.Run();
        wall.Stop();
        var m = runner.Kernel.Metrics;
        TestContext.Out.WriteLine($"{r.SchedEvents:N0} sched events ({m.Switches:N0} switches, {m.Wakeups:N0} wakeups, {m.Ticks:N0} ticks, {m.Migrations:N0} migrations), " +
            $"{r.Events:N0} sim events in {wall.Elapsed.TotalSeconds:F2} s: {r.SchedEvents / wall.Elapsed.TotalSeconds / 1e6:F2} M sched events/s");
    }
}
