using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Scheduler.Workloads;

/// <summary>A task group during a run: its spec, its tasks (or jobs), and what is counted per group.</summary>
internal sealed class TaskGroupState
{
    public TaskGroupState(TaskGroupSpec spec, int index, ulong seed, SimTime duration, int cpus)
    {
        Spec = spec;
        Index = index;
        var mask = new Cpumask();
        if (spec.Cpus is { } list)
        {
            foreach (int cpu in list)
            {
                if (cpu < 0 || cpu >= cpus)
                {
                    throw new Core.Workloads.ScenarioRunException(
                        $"task group {spec.Name}: CPU {cpu} does not exist (the machine has CPUs 0-{cpus - 1})", spec.Location);
                }
                mask.Set(cpu);
            }
        }
        else
        {
            mask = Cpumask.FirstN(cpus);
        }
        Cpus = mask;
        Stop = spec.Stop is { } s && s < duration ? s : duration;
        Arrivals = SimRandom.For(seed, $"sched:{index}:{spec.Name}:arrivals");
        JobWork = SimRandom.For(seed, $"sched:{index}:{spec.Name}:work");
    }

    public TaskGroupSpec Spec { get; }
    public int Index { get; }
    public Cpumask Cpus { get; }
    public SimTime Stop { get; }
    public bool IsJobs => Spec.Arrivals == TaskArrivalKind.Poisson;

    /// <summary>Task ids of the group (fixed groups: its tasks; arrival groups: every job).</summary>
    public List<int> Tasks { get; } = [];

    /// <summary>Arrival groups: every job's waits together.</summary>
    public LogLinearHistogram JobWaits { get; } = new();

    /// <summary>Arrival groups: response times, fork → exit.</summary>
    public LogLinearHistogram Responses { get; } = new();

    public long Forked { get; set; }
    public long Completed { get; set; }
    public long ForkFailures { get; set; }

    /// <summary>The Poisson process's inter-arrival times.</summary>
    public SimRandom Arrivals { get; }

    /// <summary>Each job's work.</summary>
    public SimRandom JobWork { get; }
}
