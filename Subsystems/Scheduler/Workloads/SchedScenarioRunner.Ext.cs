using BpfSim.Scheduler.Workloads;

namespace BpfSim.Scheduler.Workloads;

/// <summary>sched_ext in a run: the schedulers' lives and ejections (none until the ext class is attached).</summary>
public sealed partial class SchedScenarioRunner
{
    private IReadOnlyList<SchedulerResult> Schedulers => [];

    private IReadOnlyList<EjectionResult> Ejections => [];
}
