using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// The acceptance check of issue #12 on the scenario runner: one `subsystem: sched` scenario (hogs of two weights,
/// sleep/wake tasks with random run and sleep times, Poisson jobs, the real fair class before and after) run with the
/// C# ScxSimple and with scx_simple.bpf.o from a structops entry with globals: — identical per-task results and
/// per-CPU timelines.
/// </summary>
public sealed class ScxScenarioEquivalenceTests
{
    private static SchedScenarioSpec Spec(string program, bool fifo) => new()
    {
        Seed = 7,
        Duration = SimTime.FromSeconds(3),
        Cpus = new CpuSpec { Count = 4 },
        StructOps =
        [
            new StructOpsEntry
            {
                Program = program, At = SimTime.FromMilliseconds(200), UnregisterAt = SimTime.FromMilliseconds(2_500),
                Globals = [new ConsumerGlobal("fifo_sched", fifo ? "true" : "false")],
            },
        ],
        Tasks =
        [
            new TaskGroupSpec { Name = "hog", Count = 3, Nice = 0 },
            new TaskGroupSpec { Name = "hog5", Count = 2, Nice = 5 },
            new TaskGroupSpec
            {
                Name = "web", Count = 6,
                Behavior = new TaskBehavior
                {
                    Kind = BehaviorKind.SleepWake, Run = new Distribution(DistributionKind.Exp, 2e6), Sleep = new Distribution(DistributionKind.Exp, 8e6),
                },
            },
            new TaskGroupSpec
            {
                Name = "job", Arrivals = TaskArrivalKind.Poisson, Rate = 40, Stop = SimTime.FromMilliseconds(2_800),
                Behavior = new TaskBehavior { Work = new Distribution(DistributionKind.Exp, 5e6) },
            },
        ],
    };

    private static SchedRunResult Run(string program, bool fifo)
    {
        var bpf = new BpfSystem(new BpfSystemOptions { Cpus = 4 }) { KernelBtfSource = () => SchedKernelBtfTests.Kernel() };
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(ScxSimple), "builtin");
        return new SchedScenarioRunner(Spec(program, fifo), bpf, catalog).Run();
    }

    private static string Describe(SchedRunResult r) =>
        string.Join("\n", r.Tasks.Select(t => $"{t.Pid} {t.Name} {t.Class} {t.RuntimeSeconds:R} {t.WaitMsMean:R} {t.Switches} {t.Migrations} {t.Wakeups}"))
        + "\n" + string.Join("\n", r.Jobs.Select(j => j.ToString()))
        + "\n" + string.Join("\n", r.Trace.Timeline.Select(s => s.ToString()));

    [TestCase(false)]
    [TestCase(true)]
    public void Scenario_CSharpPortAndObject_IdenticalSchedules(bool fifo)
    {
        var cs = Run("scx_simple", fifo);
        var obj = Run(BpfObjects.PathOf("scx_simple"), fifo);

        Assert.That(cs.Ejections, Is.Empty);
        Assert.That(obj.Ejections, Is.Empty, () => string.Join("; ", obj.Ejections));
        Assert.That(obj.Faults, Is.Empty);
        Assert.That(obj.Schedulers.Single().EnabledSeconds, Is.EqualTo(0.2).Within(1e-9));
        Assert.That(obj.Trace.Timeline.Count(s => s.Class == 1), Is.GreaterThan(100), "tasks ran in the ext class");
        Assert.That(Describe(obj), Is.EqualTo(Describe(cs)));
        Assert.That(obj.Schedulers.Single().ExitKind, Is.EqualTo(cs.Schedulers.Single().ExitKind));
    }
}
