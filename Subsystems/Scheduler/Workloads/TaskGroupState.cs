using BpfSim.Core.Metrics;
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
        Validate(spec);
        Stop = spec.Stop is { } s && s < duration ? s : duration;
        Arrivals = SimRandom.For(seed, $"sched:{index}:{spec.Name}:arrivals");
        JobWork = SimRandom.For(seed, $"sched:{index}:{spec.Name}:work");
    }

    /// <summary>What each task does: an arrivals group's tasks are jobs whatever the behaviour says.</summary>
    public BehaviorKind Kind => IsJobs ? BehaviorKind.Job : Spec.Behavior.Kind;

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

    /// <summary>What the kernel or the behaviours cannot run: a clear error at the group, not a stack trace.</summary>
    private static void Validate(TaskGroupSpec spec)
    {
        string? error = null;
        var b = spec.Behavior;
        if (spec.Nice is < -20 or > 19)
        {
            error = $"nice {spec.Nice} is out of range (−20 … 19)";
        }
        else if (spec.Arrivals == TaskArrivalKind.Fixed && b.Kind == BehaviorKind.Periodic)
        {
            if (b.Period <= SimTime.Zero)
            {
                error = $"a periodic task needs a positive period, not {b.Period}";
            }
            else if (b.Deadline is { } d && d <= SimTime.Zero)
            {
                error = $"a periodic task's deadline must be positive, not {d}";
            }
        }
        if (error is not null)
        {
            throw new Core.Workloads.ScenarioRunException($"task group {spec.Name}: {error}", spec.Location);
        }
    }
}
