using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>Runs scenarios on the FIFO test class (the fair class is not needed to test workloads and metrics).</summary>
internal static class SchedRunRig
{
    public static SchedScenarioRunner Runner(SchedScenarioSpec spec, int sliceTicks = 4) =>
        new(spec, new BpfSystem(), new ConsumerCatalog(), core => new FifoTestClass(core.NrCpus, sliceTicks) { Core = core });

    public static SchedRunResult Run(SchedScenarioSpec spec, int sliceTicks = 4) => Runner(spec, sliceTicks).Run();

    public static SchedScenarioSpec Spec(int cpus, SimTime duration, params TaskGroupSpec[] groups) => new()
    {
        Cpus = new CpuSpec { Count = cpus },
        Duration = duration,
        Tasks = groups,
    };

    public static SimTime Ms(double ms) => new((long)(ms * 1e6));

    /// <summary>A group of sleep/wake tasks with exponential run and sleep times of the given means.</summary>
    public static TaskGroupSpec SleepWake(string name, int count, double runNs, double sleepNs) => new()
    {
        Name = name, Count = count,
        Behavior = new TaskBehavior
        {
            Kind = BehaviorKind.SleepWake,
            Run = new Distribution(DistributionKind.Exp, runNs), Sleep = new Distribution(DistributionKind.Exp, sleepNs),
        },
    };
}
