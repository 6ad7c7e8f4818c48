using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// The tasks of a scenario and what they do: forks each group at its start (or its jobs as a Poisson process), gives
/// each task CPU work by its behaviour (cpu_bound, sleep_wake, periodic, job, rt-app phases), sleeps and wakes it,
/// counts periodic deadline misses, and ends the tasks at their group's stop. One handler with (kind, arg) events;
/// per-task state in arrays indexed by task id; each task's random numbers from its own stream (seed, group, index).
/// </summary>
public sealed partial class SchedWorkload : ITaskWorkDriver, IEventHandler
{
    private const int KindWake = 0;
    private const int KindRelease = 1;
    private const int KindDeadline = 2;
    private const int KindArrival = 3;
    private const int KindStart = 4;
    private const int KindStop = 5;

    private readonly SchedKernel _kernel;
    private readonly Simulator _sim;
    private readonly ulong _seed;
    private readonly long _endNs;
    private readonly HandlerId _handler;
    private readonly List<TaskGroupState> _groups = [];
    private readonly List<string> _notes;

    // Per task id.
    // What a wake-up and the end of a burst read, in one record (one line per event, not one per array), the task's
    // random stream included (unused, all zero, for a job, which draws from its group's).
    private struct WorkTask
    {
        public TaskRandom Random;
        public long ExitedAt;
        public int GroupOf;
    }

    private WorkTask[] _wt = new WorkTask[64];
    private long[] _forkedAt = new long[64];
    private long[] _periods = new long[64];
    private long[] _misses = new long[64];
    private bool[] _jobActive = new bool[64];
    private int[] _jobSeq = new int[64];
    private int[] _phase = new int[64];
    private int[] _step = new int[64];
    private int[] _phaseIter = new int[64];
    private int[] _listIter = new int[64];
    private long[] _timerLast = new long[64];

    /// <param name="notes">Where run-time events worth telling the user go (fork failures).</param>
    public SchedWorkload(SchedKernel kernel, SchedScenarioSpec spec, List<string> notes)
    {
        _kernel = kernel;
        _sim = kernel.Simulator;
        _seed = spec.Seed;
        _endNs = spec.Duration.Nanoseconds;
        _notes = notes;
        _handler = _sim.Register(this);
        kernel.Driver = this;
        FillNoGroup(0);
        for (int g = 0; g < spec.Tasks.Count; g++)
        {
            _groups.Add(new TaskGroupState(spec.Tasks[g], g, spec.Seed, spec.Duration, kernel.NrCpus));
        }
    }

    internal IReadOnlyList<TaskGroupState> Groups => _groups;

    /// <summary>Schedules every group's start (and stop): call once before running.</summary>
    public void Start()
    {
        foreach (var g in _groups)
        {
            _sim.Schedule(g.Spec.Start, _handler, KindStart, g.Index);
            if (!g.IsJobs && g.Spec.Stop is { } stop && stop <= g.Stop)
            {
                _sim.Schedule(stop, _handler, KindStop, g.Index);
            }
        }
    }

    /// <summary>The group index of task <paramref name="task"/>, or −1 for a task the workload did not fork.</summary>
    public int GroupOf(int task) => task < _wt.Length ? _wt[task].GroupOf : -1;

    /// <summary>When the task exited (ns), or −1 if it still exists.</summary>
    public long ExitedAt(int task) => _wt[task].ExitedAt;

    public long ForkedAt(int task) => _forkedAt[task];

    /// <summary>Periodic tasks: releases so far.</summary>
    public long Periods(int task) => _periods[task];

    /// <summary>Periodic tasks: jobs not done by their deadline, and releases that found the task still busy.</summary>
    public long DeadlineMisses(int task) => _misses[task];

    public void OnEvent(int kind, long arg)
    {
        switch (kind)
        {
            case KindWake:
                Wake((int)arg);
                break;
            case KindRelease:
                Release((int)arg);
                break;
            case KindDeadline:
                Deadline((int)(arg & 0xffff_ffff), (int)(arg >> 32));
                break;
            case KindArrival:
                Arrival(_groups[(int)arg]);
                break;
            case KindStart:
                StartGroup(_groups[(int)arg]);
                break;
            default:
                StopGroup(_groups[(int)arg]);
                break;
        }
    }

    public void WorkDone(int task, int cpu)
    {
        var g = _groups[_wt[task].GroupOf];
        var b = g.Spec.Behavior;
        switch (g.Kind)
        {
            case BehaviorKind.SleepWake:
                _kernel.Block(task);
                At(_sim.Now.Nanoseconds + b.Sleep.SampleNs(ref _wt[task].Random), KindWake, task);
                break;
            case BehaviorKind.Periodic:
                _jobActive[task] = false;
                _kernel.Block(task);
                break;
            case BehaviorKind.Job:
                JobDone(task);
                break;
            case BehaviorKind.Phases:
                Advance(task, running: true);
                break;
            default:
                throw new InvalidOperationException($"task {task} ({g.Kind}) ran out of work it never has");
        }
    }

    private void StartGroup(TaskGroupState g)
    {
        if (g.IsJobs)
        {
            ScheduleArrival(g);
            return;
        }
        for (int i = 0; i < g.Spec.Count; i++)
        {
            ForkTask(g, i);
        }
    }

    private void StopGroup(TaskGroupState g)
    {
        foreach (int task in g.Tasks)
        {
            EndTask(task);
        }
    }

    private void ScheduleArrival(TaskGroupState g)
    {
        if (g.Spec.Rate <= 0)
        {
            return;
        }
        long next = _sim.Now.Nanoseconds + (long)Math.Round(g.Arrivals.NextExponential(1e9 / g.Spec.Rate));
        if (next <= g.Stop.Nanoseconds)
        {
            At(next, KindArrival, g.Index);
        }
    }

    private void Arrival(TaskGroupState g)
    {
        ForkTask(g, (int)g.Forked);
        ScheduleArrival(g);
    }

    /// <summary>Forks task <paramref name="index"/> of <paramref name="g"/> with its behaviour's first work.</summary>
    private void ForkTask(TaskGroupState g, int index)
    {
        var spec = g.Spec;
        var b = spec.Behavior;
        g.Forked++;
        // Jobs draw from the group's stream (no per-job stream to create); fixed tasks have their own.
        var random = g.IsJobs ? default : TaskRandom.For(_seed, $"sched:{g.Index}:{spec.Name}:{index}");
        long work = g.Kind switch
        {
            BehaviorKind.CpuBound => SchedKernel.InfiniteWork,
            BehaviorKind.SleepWake => b.Run.SampleNs(ref random),
            BehaviorKind.Periodic => Math.Max(1, b.Runtime.Nanoseconds),
            BehaviorKind.Job => g.IsJobs ? b.Work.SampleNs(g.JobWork) : b.Work.SampleNs(ref random),
            _ => 0, // phases: the first step is taken when the task first runs
        };
        var waits = g.IsJobs ? g.JobWaits : null; // null: the kernel's metrics count the task's own
        var policy = spec.PolicyExt ? SchedPolicy.Ext : SchedPolicy.Normal;
        int id = _kernel.Fork(spec.Name, spec.Nice, g.Cpus, policy, work, waits);
        if (id < 0)
        {
            g.ForkFailures++;
            if (g.ForkFailures <= 3)
            {
                _notes.Add($"t={_sim.Now}: fork of a {spec.Name} task failed: the scheduler's init_task returned {id}");
            }
            return;
        }
        Grow(id);
        g.Tasks.Add(id);
        _wt[id].GroupOf = g.Index;
        _kernel.Metrics.SetTaskGroup(id, g.Index);
        _wt[id].Random = random;
        long now = _sim.Now.Nanoseconds;
        _forkedAt[id] = now;
        _wt[id].ExitedAt = -1;
        _timerLast[id] = now;
        if (g.Kind == BehaviorKind.Periodic)
        {
            StartJob(id, b);
        }
    }

    private void EndTask(int task)
    {
        if (_wt[task].ExitedAt >= 0)
        {
            return;
        }
        _wt[task].ExitedAt = _sim.Now.Nanoseconds;
        _kernel.Exit(task);
    }

    private void At(long ns, int kind, long arg) => _sim.Schedule(new SimTime(ns), _handler, kind, arg);

    private void Grow(int id)
    {
        if (id < _wt.Length)
        {
            return;
        }
        int n = Math.Max(id + 1, _wt.Length * 2);
        int old = _wt.Length;
        Array.Resize(ref _wt, n);
        FillNoGroup(old);
        Array.Resize(ref _forkedAt, n);
        Array.Resize(ref _periods, n);
        Array.Resize(ref _misses, n);
        Array.Resize(ref _jobActive, n);
        Array.Resize(ref _jobSeq, n);
        Array.Resize(ref _phase, n);
        Array.Resize(ref _step, n);
        Array.Resize(ref _phaseIter, n);
        Array.Resize(ref _listIter, n);
        Array.Resize(ref _timerLast, n);
    }

    private void FillNoGroup(int from)
    {
        for (int i = from; i < _wt.Length; i++)
        {
            _wt[i].GroupOf = -1;
        }
    }
}
