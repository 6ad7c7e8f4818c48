using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// A small stand-in for core.c, enough to drive <see cref="FairSchedClass"/> alone: per-CPU current task and
/// need_resched, __schedule (block prev, balance, pick, put_prev/set_next), a HZ=1000 tick, try_to_wake_up
/// (ttwu_runnable for a delayed task), wake_up_new_task and activate/deactivate. Time advances only through
/// <see cref="Run"/>.
/// </summary>
internal sealed class FairTestCore : ISchedCore
{
    private const long TickNs = 1_000_000;
    private readonly int[] _current;
    private readonly bool[] _needResched;
    private readonly int[] _nrRunning;
    private readonly int[] _stopPush;

    public FairTestCore(int cpus, bool smt = false, int nodes = 1, FairFeatures? features = null)
    {
        Topology = new CpuTopology(cpus, smt, nodes);
        NrCpus = cpus;
        _current = new int[cpus];
        Array.Fill(_current, -1);
        _needResched = new bool[cpus];
        _nrRunning = new int[cpus];
        _stopPush = new int[cpus];
        Array.Fill(_stopPush, -1);
        Fair = new FairSchedClass(this, features);
    }

    public FairSchedClass Fair { get; }

    public Simulator Simulator { get; } = new();

    public long NowNs { get; private set; }

    public int Hz => 1000;

    public ulong Jiffies => (ulong)(NowNs / TickNs);

    public int NrCpus { get; }

    public CpuTopology Topology { get; }

    public TaskTable Tasks { get; } = new();

    public int ThisCpu { get; set; } = -1;

    /// <summary>Migrations the class asked for through SetTaskCpu.</summary>
    public int CpuChanges { get; private set; }

    /// <summary>Every (cpu, task) that ran at a tick, for affinity checks.</summary>
    public List<(int Cpu, int Task)> TickLog { get; } = [];

    public int Current(int cpu) => _current[cpu];

    public SchedClass ClassOf(in TaskStruct p) => Fair;

    public bool NeedResched(int cpu) => _needResched[cpu];

    public void ReschedCurr(int cpu) => _needResched[cpu] = true;

    public void ActivateTask(int cpu, ref TaskStruct p, EnqueueFlags flags)
    {
        Fair.EnqueueTask(cpu, ref p, flags);
        p.OnRq = TaskStruct.OnRqQueued;
        if (++_nrRunning[cpu] == 2)
        {
            RdOverloaded = true; // add_nr_running, as SchedKernel
        }
    }

    public bool RdOverloaded { get; set; }

    /// <summary>deactivate_task as SchedKernel does it: a sleep only counts when the class really dequeued.</summary>
    public void DeactivateTask(int cpu, ref TaskStruct p, DequeueFlags flags)
    {
        if ((flags & DequeueFlags.Sleep) == 0)
        {
            p.OnRq = TaskStruct.OnRqMigrating;
            Assert.That(Fair.DequeueTask(cpu, ref p, flags), Is.True, "only a sleep may be delayed");
            _nrRunning[cpu]--;
            return;
        }
        if (p.OnRq != 0 && Fair.DequeueTask(cpu, ref p, flags))
        {
            p.OnRq = 0;
            _nrRunning[cpu]--;
        }
    }

    public int NrRunning(int cpu) => _nrRunning[cpu];

    public void SetTaskCpu(ref TaskStruct p, int cpu)
    {
        Assert.That(p.CpusMask.Test(cpu), Is.True, $"task {p.Id} moved to CPU {cpu} outside its cpus_mask {p.CpusMask}");
        if (p.Cpu != cpu)
        {
            CpuChanges++;
            Fair.MigrateTaskRq(ref p, cpu); // set_task_cpu
        }
        p.Cpu = cpu;
    }

    public void SwitchClass(ref TaskStruct p, SchedClass to) => throw new NotSupportedException("one class only");

    public Cpumask NohzFull { get; set; }

    /// <summary>Sets <paramref name="id"/>'s affinity (as set_cpus_allowed would, without moving it).</summary>
    public void Allow(int id, Cpumask mask)
    {
        ref var p = ref Tasks[id];
        p.CpusMask = mask;
        p.NrCpusAllowed = mask.Weight;
    }

    public bool StopOneCpu(int cpu, SchedClass requester, int pushCpu)
    {
        if (_stopPush[cpu] >= 0)
        {
            return false;
        }
        _stopPush[cpu] = pushCpu;
        ReschedCurr(cpu);
        return true;
    }

    /// <summary>fork + wake_up_new_task: a runnable task of nice <paramref name="nice"/>.</summary>
    public int Fork(string name, int nice = 0, Cpumask? cpus = null, SchedPolicy policy = SchedPolicy.Normal)
    {
        var mask = cpus ?? Topology.Possible;
        ref var p = ref Tasks.Add(Tasks.Count + 100, name, nice, in mask);
        p.Policy = (uint)policy;
        FairMath.SetLoadWeight(ref p);
        Fair.TaskFork(ref p);
        p.State = (uint)TaskState.Running;
        int cpu = Fair.SelectTaskRq(ref p, p.Cpu, WakeFlags.Fork);
        CpuChanges += cpu != p.Cpu ? 1 : 0;
        p.Cpu = cpu; // __set_task_cpu: a new task has no load to move
        Fair.PostInitTask(ref p, inClass: true);
        ActivateTask(cpu, ref p, EnqueueFlags.Initial);
        Preempt(cpu, ref p, WakeFlags.Fork);
        return p.Id;
    }

    /// <summary>The running task <paramref name="id"/> blocks (TASK_INTERRUPTIBLE + schedule()).</summary>
    public void Sleep(int id)
    {
        ref var p = ref Tasks[id];
        Assert.That(_current[p.Cpu], Is.EqualTo(id), "only the running task can block");
        p.State = (uint)TaskState.Interruptible;
        Schedule(p.Cpu);
        ScheduleAll();
    }

    /// <summary>try_to_wake_up.</summary>
    public void Wake(int id, WakeFlags flags = WakeFlags.None)
    {
        ref var p = ref Tasks[id];
        p.State = (uint)TaskState.Running;
        if (p.OnRq != 0)
        {
            // ttwu_runnable: still queued (DELAY_DEQUEUE).
            if (p.Se.SchedDelayed != 0)
            {
                Fair.EnqueueTask(p.Cpu, ref p, EnqueueFlags.Delayed | EnqueueFlags.NoClock);
            }
            if (_current[p.Cpu] != id)
            {
                Preempt(p.Cpu, ref p, flags);
            }
            return;
        }
        int prev = p.Cpu;
        int cpu = Fair.SelectTaskRq(ref p, prev, flags | WakeFlags.Ttwu);
        SetTaskCpu(ref p, cpu);
        ActivateTask(cpu, ref p, EnqueueFlags.Wakeup | (cpu != prev ? EnqueueFlags.Migrated : 0));
        Preempt(cpu, ref p, flags);
    }

    private void Preempt(int cpu, ref TaskStruct p, WakeFlags flags)
    {
        if (_current[cpu] < 0)
        {
            ReschedCurr(cpu);
        }
        else
        {
            Fair.WakeupPreempt(cpu, ref p, flags);
        }
    }

    /// <summary>Runs the machine until <paramref name="untilNs"/>: ticks every ms, reschedules when asked.</summary>
    public void Run(long untilNs)
    {
        ScheduleAll();
        while (NowNs < untilNs)
        {
            long nextTick = (NowNs / TickNs + 1) * TickNs;
            NowNs = Math.Min(nextTick, untilNs);
            if (NowNs == nextTick)
            {
                for (int cpu = 0; cpu < NrCpus; cpu++)
                {
                    int curr = _current[cpu];
                    if (curr >= 0)
                    {
                        TickLog.Add((cpu, curr));
                        Fair.TaskTick(cpu, ref Tasks[curr]);
                        Fair.TickBalance(cpu);
                    }
                }
            }
            ScheduleAll();
        }
    }

    /// <summary>Runs for <paramref name="ns"/> more.</summary>
    public void RunFor(long ns) => Run(NowNs + ns);

    public void ScheduleAll()
    {
        for (int round = 0; round < 8; round++)
        {
            bool any = false;
            for (int cpu = 0; cpu < NrCpus; cpu++)
            {
                if (_needResched[cpu])
                {
                    any = true;
                    Schedule(cpu);
                }
            }
            if (!any)
            {
                return;
            }
        }
    }

    /// <summary>
    /// __schedule: block a sleeping prev (it may stay queued, delayed), pick through pick_next_task_fair (newidle
    /// balance only when the pick finds nothing), clear need_resched after the pick, switch.
    /// </summary>
    public void Schedule(int cpu)
    {
        int prev = _current[cpu];
        if (prev >= 0)
        {
            ref var p = ref Tasks[prev];
            if (p.State != (uint)TaskState.Running && p.OnRq == 1 && p.Se.SchedDelayed == 0)
            {
                DeactivateTask(cpu, ref p, DequeueFlags.Sleep | DequeueFlags.NoClock);
            }
        }
        if (_stopPush[cpu] >= 0)
        {
            // The stopper preempts prev, which stays queued unless it was blocking, then runs the balancer's work.
            int push = _stopPush[cpu];
            _stopPush[cpu] = -1;
            if (prev >= 0)
            {
                Fair.PutPrevTask(cpu, ref Tasks[prev], -1);
                Tasks[prev].OnCpu = 0;
                _current[cpu] = prev = -1;
            }
            Fair.CpuStopWork(cpu, push);
        }
        int next = Fair.PickNextTask(cpu, prev);
        _needResched[cpu] = false;
        if (next != prev)
        {
            if (prev >= 0)
            {
                Fair.PutPrevTask(cpu, ref Tasks[prev], next);
                Tasks[prev].OnCpu = 0;
            }
            if (next >= 0)
            {
                Fair.SetNextTask(cpu, ref Tasks[next], true);
                Tasks[next].OnCpu = 1;
            }
            _current[cpu] = next;
        }
    }
}
