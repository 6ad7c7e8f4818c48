using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// struct sched_class (kernel/sched/sched.h, 6.12): one scheduling class — fair (EEVDF), ext (sched_ext), idle —
/// as <c>SchedKernel</c> (core.c) calls it. A class keeps its own per-CPU runqueue state, indexed by CPU id;
/// tasks are passed by reference into the <see cref="TaskTable"/>, so no call allocates.
/// </summary>
/// <remarks>
/// Calls happen where core.c makes them: activate_task → <see cref="EnqueueTask"/>, deactivate_task →
/// <see cref="DequeueTask"/>, __schedule → without sched_ext the fair fast path (<see cref="PickNextTask"/>), with it
/// prev_balance (<see cref="Balance"/> of every class from prev's down) then <see cref="PickTask"/> class by class;
/// <see cref="PutPrevTask"/> / <see cref="SetNextTask"/> around a switch, sched_tick → <see cref="TaskTick"/> of the
/// current task's class, try_to_wake_up → <see cref="SelectTaskRq"/>
/// then <see cref="EnqueueTask"/>(ENQUEUE_WAKEUP) and <see cref="WakeupPreempt"/> when the woken task's class is the
/// current task's class (a higher class always preempts a lower one).
/// </remarks>
public abstract class SchedClass
{
    /// <summary>A name for messages: <c>fair</c>, <c>ext</c>, <c>idle</c>.</summary>
    public abstract string Name { get; }

    /// <summary>enqueue_task: <paramref name="p"/> becomes queued on <paramref name="cpu"/>'s runqueue.</summary>
    public abstract void EnqueueTask(int cpu, ref TaskStruct p, EnqueueFlags flags);

    /// <summary>dequeue_task: <paramref name="p"/> leaves the runqueue (sleep, migration, attribute change).</summary>
    /// <returns>False when the class delays the dequeue (fair's DELAY_DEQUEUE), true otherwise.</returns>
    public abstract bool DequeueTask(int cpu, ref TaskStruct p, DequeueFlags flags);

    /// <summary>yield_task: the current task of <paramref name="cpu"/> calls sched_yield().</summary>
    public virtual void YieldTask(int cpu)
    {
    }

    /// <summary>wakeup_preempt: <paramref name="p"/>, of this class, was woken onto <paramref name="cpu"/> whose current task is of this class.</summary>
    public virtual void WakeupPreempt(int cpu, ref TaskStruct p, WakeFlags flags)
    {
    }

    /// <summary>
    /// task_woken: <paramref name="p"/>, of this class, was woken (or forked) onto <paramref name="cpu"/>; called
    /// after <see cref="EnqueueTask"/> and <see cref="WakeupPreempt"/>, still within the wake-up (ttwu_do_activate,
    /// wake_up_new_task).
    /// </summary>
    public virtual void TaskWoken(int cpu, ref TaskStruct p)
    {
    }

    /// <summary>
    /// balance: before picking on <paramref name="cpu"/>, give the class a chance to pull work (sched_ext runs
    /// ops.dispatch here). <paramref name="prev"/> is the task being switched out (−1 for idle).
    /// </summary>
    /// <returns>True when the class has a task to run on <paramref name="cpu"/> (stops balancing of lower classes).</returns>
    public virtual bool Balance(int cpu, int prev) => false;

    /// <summary>
    /// pick_next_task as __pick_next_task's fast path calls it when every task on <paramref name="cpu"/> is of this
    /// class (no sched_ext): the class picks, and balances only when it has nothing to run (pick_next_task_fair's
    /// shape). By default <see cref="PickTask"/>, then <see cref="Balance"/> and <see cref="PickTask"/> again if
    /// that found nothing.
    /// </summary>
    /// <returns>The task to run next, or −1 for idle.</returns>
    public virtual int PickNextTask(int cpu, int prev)
    {
        int next = PickTask(cpu);
        if (next < 0 && Balance(cpu, prev))
        {
            next = PickTask(cpu);
        }
        return next;
    }

    /// <summary>pick_task: the task this class would run next on <paramref name="cpu"/>, or −1.</summary>
    public abstract int PickTask(int cpu);

    /// <summary>put_prev_task: <paramref name="p"/> stops being the current task (<paramref name="next"/>: the task replacing it, −1 idle).</summary>
    public abstract void PutPrevTask(int cpu, ref TaskStruct p, int next);

    /// <summary>set_next_task: <paramref name="p"/> becomes the current task (<paramref name="first"/>: picked, not restored).</summary>
    public abstract void SetNextTask(int cpu, ref TaskStruct p, bool first);

    /// <summary>select_task_rq: where a waking (or forked) task should run.</summary>
    public virtual int SelectTaskRq(ref TaskStruct p, int prevCpu, WakeFlags flags) => prevCpu;

    /// <summary>task_tick: a timer tick on <paramref name="cpu"/> while <paramref name="p"/> runs.</summary>
    public virtual void TaskTick(int cpu, ref TaskStruct p)
    {
    }

    /// <summary>task_fork: <paramref name="p"/> was just forked into this class (sched_cgroup_fork).</summary>
    public virtual void TaskFork(ref TaskStruct p)
    {
    }

    /// <summary>
    /// post_init_entity_util_avg (wake_up_new_task, once select_task_rq has placed the new task): called on the fair
    /// class for every new task, <paramref name="inClass"/> telling whether the task is the fair class's own.
    /// </summary>
    public virtual void PostInitTask(ref TaskStruct p, bool inClass)
    {
    }

    /// <summary>
    /// migrate_task_rq: <paramref name="p"/> (of this class) moves to <paramref name="newCpu"/>; called by set_task_cpu
    /// before <see cref="TaskStruct.Cpu"/> changes, so it still names the old CPU.
    /// </summary>
    public virtual void MigrateTaskRq(ref TaskStruct p, int newCpu)
    {
    }

    /// <summary>task_dead: <paramref name="p"/> has exited and will not run again.</summary>
    public virtual void TaskDead(ref TaskStruct p)
    {
    }

    /// <summary>switching_to: <paramref name="p"/> is about to enter this class (dequeued if it was queued).</summary>
    public virtual void SwitchingTo(ref TaskStruct p)
    {
    }

    /// <summary>switched_from: <paramref name="p"/> has left this class.</summary>
    public virtual void SwitchedFrom(int cpu, ref TaskStruct p)
    {
    }

    /// <summary>switched_to: <paramref name="p"/> has entered this class (requeued if it was queued).</summary>
    public virtual void SwitchedTo(int cpu, ref TaskStruct p)
    {
    }

    /// <summary>reweight_task / prio_changed: <paramref name="p"/>'s nice changed (its load weight is already updated).</summary>
    public virtual void ReweightTask(int cpu, ref TaskStruct p)
    {
    }

    /// <summary>The tasks this class has queued on <paramref name="cpu"/> (cfs.h_nr_queued for fair).</summary>
    public virtual int NrQueued(int cpu) => 0;

    /// <summary>
    /// sched_balance_trigger from <paramref name="cpu"/>'s tick, whatever class runs there (the core calls the fair
    /// class's unless sched_ext has switched every task).
    /// </summary>
    public virtual void TickBalance(int cpu)
    {
    }

    /// <summary>Put-prev's <c>next</c> when the CPU's stopper preempts the task (the stop class, above every other).</summary>
    public const int StopperTask = -2;

    /// <summary>
    /// The work a <see cref="ISchedCore.StopOneCpu"/> request of this class runs on <paramref name="cpu"/> once its
    /// stopper has preempted the task there (fair: active_load_balance_cpu_stop, pushing a task to
    /// <paramref name="pushCpu"/>).
    /// </summary>
    public virtual void CpuStopWork(int cpu, int pushCpu)
    {
    }

    /// <summary>set_cpus_allowed: <paramref name="p"/>'s affinity changed to the mask already in it.</summary>
    public virtual void SetCpusAllowed(ref TaskStruct p)
    {
    }

    /// <summary>
    /// A hint that the class may soon handle task <paramref name="id"/> (the pick, a DSQ's next head): ask the caches
    /// for the class's own record of it. Must change no state; by default nothing.
    /// </summary>
    public virtual void PrefetchTask(int id)
    {
    }

    /// <summary>update_curr: account the current task's runtime up to now on <paramref name="cpu"/>.</summary>
    public virtual void UpdateCurr(int cpu)
    {
    }

    /// <summary>Whether the class has any task queued on <paramref name="cpu"/> (sched_fair_runnable and friends).</summary>
    public abstract bool HasRunnable(int cpu);

    /// <summary>rq_online: <paramref name="cpu"/> came online (sched_cpu_activate → set_rq_online).</summary>
    public virtual void RqOnline(int cpu)
    {
    }

    /// <summary>rq_offline: <paramref name="cpu"/> is going offline (sched_cpu_deactivate → set_rq_offline), its tasks not yet pushed away.</summary>
    public virtual void RqOffline(int cpu)
    {
    }
}

/// <summary>ENQUEUE_* flags (kernel/sched/sched.h, 6.12).</summary>
[Flags]
public enum EnqueueFlags
{
    None = 0,
    Wakeup = 0x01,
    Restore = 0x02,
    Move = 0x04,
    NoClock = 0x08,
    Head = 0x10,
    Migrated = 0x40,
    Initial = 0x80,
    Migrating = 0x100,
    Delayed = 0x200,
    RqSelected = 0x400,
}

/// <summary>DEQUEUE_* flags (kernel/sched/sched.h, 6.12).</summary>
[Flags]
public enum DequeueFlags
{
    None = 0,
    Sleep = 0x01,
    Save = 0x02,
    Move = 0x04,
    NoClock = 0x08,
    Special = 0x10,
    Migrating = 0x100,
    Delayed = 0x200,
}

/// <summary>WF_* wake flags (kernel/sched/sched.h, 6.12).</summary>
[Flags]
public enum WakeFlags
{
    None = 0,
    Exec = 0x02,
    Fork = 0x04,
    Ttwu = 0x08,
    Sync = 0x10,
    Migrated = 0x20,
    CurrentCpu = 0x40,
    RqSelected = 0x80,
}
