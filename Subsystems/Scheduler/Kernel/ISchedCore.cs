using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// What the core scheduler (kernel/sched/core.c: <c>SchedKernel</c>) offers the scheduling classes: the clock,
/// the CPUs and their current tasks, the task table, and the core operations a class may ask for.
/// </summary>
public interface ISchedCore
{
    /// <summary>The simulator the kernel runs on (timers a class needs: the sched_ext watchdog, kicks).</summary>
    Simulator Simulator { get; }

    /// <summary>rq_clock: now, in ns.</summary>
    long NowNs { get; }

    /// <summary>HZ (1000 by default): ticks per second.</summary>
    int Hz { get; }

    /// <summary>jiffies: ticks since boot.</summary>
    ulong Jiffies { get; }

    /// <summary>nr_cpu_ids.</summary>
    int NrCpus { get; }

    /// <summary>SMT siblings and NUMA nodes.</summary>
    CpuTopology Topology { get; }

    /// <summary>Every task, indexed by <see cref="TaskStruct.Id"/>.</summary>
    TaskTable Tasks { get; }

    /// <summary>The id of the task running on <paramref name="cpu"/> (rq->curr), or −1 when it runs its idle task.</summary>
    int Current(int cpu);

    /// <summary>
    /// smp_processor_id(): the CPU the code now running runs on — the CPU whose tick, schedule() or burst is being
    /// handled, or the waker's CPU during a wake-up (select_task_rq_fair's wake-affine, WF_CURRENT_CPU,
    /// SCX_WAKE_SYNC); a sleep timer's wake-up runs on the CPU the task slept on (where its hrtimer was armed).
    /// </summary>
    int ThisCpu { get; }

    /// <summary>rq->nr_running: tasks queued on <paramref name="cpu"/> in any class, the current one included.</summary>
    int NrRunning(int cpu);

    /// <summary>The class <paramref name="p"/> is scheduled by (p->sched_class).</summary>
    SchedClass ClassOf(in TaskStruct p);

    /// <summary>Whether <paramref name="cpu"/> has a reschedule pending (test_tsk_need_resched(rq->curr)).</summary>
    bool NeedResched(int cpu);

    /// <summary>
    /// resched_curr: the current task of <paramref name="cpu"/> must give up the CPU; the core reschedules that CPU at
    /// the current instant, after the code that asked has returned (never re-entrantly). An idle CPU is woken.
    /// </summary>
    void ReschedCurr(int cpu);

    /// <summary>activate_task: enqueue <paramref name="p"/> on <paramref name="cpu"/> through its class and count it on that rq.</summary>
    void ActivateTask(int cpu, ref TaskStruct p, EnqueueFlags flags);

    /// <summary>deactivate_task: dequeue <paramref name="p"/> from <paramref name="cpu"/> through its class.</summary>
    void DeactivateTask(int cpu, ref TaskStruct p, DequeueFlags flags);

    /// <summary>set_task_cpu: <paramref name="p"/> (not running, not queued) now belongs to <paramref name="cpu"/>; a change counts a migration.</summary>
    void SetTaskCpu(ref TaskStruct p, int cpu);

    /// <summary>
    /// Moves <paramref name="p"/> into the class <paramref name="to"/> as __setscheduler_class and
    /// check_class_changed do (dequeue with SAVE|MOVE, switched_from/switching_to/switched_to, requeue, a running one
    /// rescheduled): sched_ext's enable and disable.
    /// </summary>
    void SwitchClass(ref TaskStruct p, SchedClass to);

    /// <summary>
    /// stop_one_cpu_nowait (kernel/stop_machine.c) as the balancer uses it: <paramref name="cpu"/>'s stopper, the
    /// highest class, preempts the task running there at once, and <paramref name="requester"/>'s
    /// <see cref="SchedClass.CpuStopWork"/> runs with <paramref name="pushCpu"/>. False, and nothing queued, when a request
    /// is already pending on that CPU (rq->active_balance) or the core has no stopper (the default).
    /// </summary>
    bool StopOneCpu(int cpu, SchedClass requester, int pushCpu) => false;

    /// <summary>cpu_online(): <paramref name="cpu"/> is online (every CPU is, unless hotplug took it offline).</summary>
    bool CpuOnline(int cpu) => true;

    /// <summary>cpu_active(): <paramref name="cpu"/> takes tasks (cleared first when a CPU goes offline, set last when it comes online).</summary>
    bool CpuActive(int cpu) => true;

    /// <summary>
    /// rd->overloaded (kernel/sched/sched.h): set when a runqueue reaches two tasks (add_nr_running), set or cleared by
    /// each balance at the root domain's level (update_sd_lb_stats: some CPU with nr_running &gt; 1); while it is clear,
    /// sched_balance_newidle does not balance. A core that does not keep it reports it set.
    /// </summary>
    bool RdOverloaded
    {
        get => true;
        set { }
    }

    /// <summary>The CPUs booted nohz_full= (not housekeeping CPUs); none by default.</summary>
    Cpumask NohzFull => default;

    /// <summary>num_online_cpus().</summary>
    int NumOnlineCpus => NrCpus;

    /// <summary>
    /// The CPUs whose current task is the idle task (<see cref="Current"/> is −1): every CPU available_idle_cpu can
    /// accept is among them, so a search for an idle CPU outside them finds nothing.
    /// </summary>
    Cpumask CpusWithoutCurrent
    {
        get
        {
            var mask = new Cpumask();
            for (int cpu = 0; cpu < NrCpus; cpu++)
            {
                if (Current(cpu) < 0)
                {
                    mask.Set(cpu);
                }
            }
            return mask;
        }
    }

    /// <summary>
    /// A hint that <paramref name="task"/> is about to be handled (picked): the core may ask the caches for all of its
    /// records at once. Must change no state; by default nothing.
    /// </summary>
    void PrefetchTask(int task)
    {
    }
}
