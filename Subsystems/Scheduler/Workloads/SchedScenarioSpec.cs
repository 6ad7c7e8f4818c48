using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;

namespace BpfSim.Scheduler.Workloads;

/// <summary>The simulated machine of a scheduler scenario: <c>cpus: 4</c> or <c>{ count: 8, smt: true, nodes: 2 }</c>.</summary>
public sealed record CpuSpec
{
    public int Count { get; init; } = 4;
    public bool Smt { get; init; }
    public int Nodes { get; init; } = 1;
    /// <summary>The nohz_full= boot parameter: CPUs that may run a lone task without the tick (never CPU 0).</summary>
    public IReadOnlyList<int> NohzFull { get; init; } = [];
}

/// <summary>What a task does when it runs.</summary>
public enum BehaviorKind
{
    /// <summary>Always runnable: runs until preempted, never sleeps.</summary>
    CpuBound,

    /// <summary>Runs for a sampled time, sleeps for a sampled time, again.</summary>
    SleepWake,

    /// <summary>Released every period with a runtime to do by the next release (or the deadline); a miss is counted.</summary>
    Periodic,

    /// <summary>An arrivals job: runs its sampled work once, then exits.</summary>
    Job,

    /// <summary>An imported rt-app thread: its phases of run/sleep/timer events, looped.</summary>
    Phases,
}

/// <summary>One step of an rt-app thread (the events bpfsim models: run, runtime, sleep, timer).</summary>
public enum PhaseStepKind
{
    /// <summary>rt-app <c>run</c>/<c>runtime</c>: consume CPU time.</summary>
    Run,

    /// <summary>rt-app <c>sleep</c>: sleep for a time.</summary>
    Sleep,

    /// <summary>rt-app <c>timer</c>: sleep until the next multiple of the period since the timer's last release.</summary>
    Timer,
}

/// <summary>A step of an rt-app phase: what, and for how long (or the timer's period).</summary>
public readonly record struct PhaseStep(PhaseStepKind Kind, SimTime Duration);

/// <summary>An rt-app phase: steps repeated <see cref="Loop"/> times (−1: for ever).</summary>
public sealed record Phase(IReadOnlyList<PhaseStep> Steps, int Loop = 1);

/// <summary>What tasks of a group do (DESIGN §5 <c>behavior</c>).</summary>
public sealed record TaskBehavior
{
    public BehaviorKind Kind { get; init; } = BehaviorKind.CpuBound;
    /// <summary>SleepWake: run time per wake-up.</summary>
    public Distribution Run { get; init; }
    /// <summary>SleepWake: sleep time.</summary>
    public Distribution Sleep { get; init; }
    /// <summary>Periodic: release period.</summary>
    public SimTime Period { get; init; }
    /// <summary>Periodic: CPU time per period.</summary>
    public SimTime Runtime { get; init; }
    /// <summary>Periodic: relative deadline (default: the period).</summary>
    public SimTime? Deadline { get; init; }
    /// <summary>Job: the work of each job.</summary>
    public Distribution Work { get; init; }
    /// <summary>Phases: rt-app phases in order; the whole list loops <see cref="PhasesLoop"/> times (−1 = for ever).</summary>
    public IReadOnlyList<Phase> Phases { get; init; } = [];
    public int PhasesLoop { get; init; } = -1;

    public static TaskBehavior CpuBound { get; } = new();
}

/// <summary>How tasks of a group come into being.</summary>
public enum TaskArrivalKind
{
    /// <summary><c>count</c> tasks forked at <c>start</c>.</summary>
    Fixed,

    /// <summary>Jobs forked as a Poisson process of <c>rate</c> per second between start and stop; each runs its work and exits.</summary>
    Poisson,
}

/// <summary>A group of tasks (one line of <c>tasks:</c>).</summary>
public sealed record TaskGroupSpec
{
    /// <summary>comm of the tasks (a group of several numbers them: <c>hog</c>, <c>hog</c>… all share it, as threads of a program do).</summary>
    public required string Name { get; init; }
    public TaskArrivalKind Arrivals { get; init; } = TaskArrivalKind.Fixed;
    public int Count { get; init; } = 1;
    /// <summary>Poisson: jobs per second.</summary>
    public double Rate { get; init; }
    public int Nice { get; init; }
    /// <summary>Affinity: the CPUs allowed (null = all).</summary>
    public IReadOnlyList<int>? Cpus { get; init; }
    /// <summary>SCHED_EXT instead of SCHED_NORMAL: the tasks a SCX_OPS_SWITCH_PARTIAL scheduler takes.</summary>
    public bool PolicyExt { get; init; }
    public TaskBehavior Behavior { get; init; } = TaskBehavior.CpuBound;
    public SimTime Start { get; init; }
    /// <summary>Fixed: the tasks exit at this time; Poisson: no job arrives after it.</summary>
    public SimTime? Stop { get; init; }
    /// <summary>Where the group is written (<c>file:line:column</c>), for run-time messages.</summary>
    public string? Location { get; init; }
}

/// <summary>A complete scheduler scenario (DESIGN §5, <c>subsystem: sched</c>).</summary>
public sealed record SchedScenarioSpec
{
    public ulong Seed { get; init; } = 1;
    public SimTime Duration { get; init; } = SimTime.FromSeconds(10);
    public CpuSpec Cpus { get; init; } = new();
    /// <summary>CONFIG_HZ: timer ticks per second.</summary>
    public int Hz { get; init; } = 1000;
    public IReadOnlyList<StructOpsEntry> StructOps { get; init; } = [];
    public IReadOnlyList<TaskGroupSpec> Tasks { get; init; } = [];
    /// <summary>How often per-CPU utilization and runqueue lengths are sampled.</summary>
    public SimTime SampleInterval { get; init; } = SimTime.FromMilliseconds(100);
    /// <summary>At most this many per-CPU timeline segments are kept (the report's timeline); later ones are counted, not kept.</summary>
    public int TimelineLimit { get; init; } = 200_000;
    /// <summary>CPU hotplug events in time order (same-time events in the order written).</summary>
    public IReadOnlyList<HotplugSpec> Hotplug { get; init; } = [];
    /// <summary>The fair class's sched_feat switches (<c>sched_features</c>); features.h's defaults unless set.</summary>
    public Fair.FairFeatures Features { get; init; } = Fair.FairFeatures.Default;
}
