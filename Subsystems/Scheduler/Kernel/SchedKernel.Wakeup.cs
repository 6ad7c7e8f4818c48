using BpfSim.Core.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>Forks, wake-ups, sleeps, exits and affinity (kernel/sched/core.c, kernel/exit.c, 6.12).</summary>
public sealed partial class SchedKernel
{
    /// <summary>
    /// copy_process's scheduler part and wake_up_new_task: a new task of <paramref name="policy"/> with
    /// <paramref name="workNs"/> of CPU work (0: it calls the driver as soon as it first runs), forked on <paramref name="parentCpu"/> (−1: its first allowed CPU),
    /// placed by its class's select_task_rq(WF_FORK) and enqueued (ENQUEUE_INITIAL).
    /// </summary>
    /// <param name="waits">Where the task's waits are counted (its group's histogram, or one of the caller's); null: a histogram of its own, <see cref="Metrics.SchedMetrics.Waits"/>.</param>
    /// <returns>The task id, or a negative errno when sched_ext's init_task failed the fork.</returns>
    public int Fork(string comm, int nice, in Cpumask cpus, SchedPolicy policy, long workNs, LogLinearHistogram? waits, int parentCpu = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workNs);
        var allowed = cpus.And(Topology.Possible);
        if (allowed.IsEmpty)
        {
            throw new ArgumentException($"task {comm}: no CPU of {cpus} exists (CPUs 0-{NrCpus - 1})", nameof(cpus));
        }
        ref var p = ref Tasks.Add(_nextPid++, comm, nice, allowed);
        int id = p.Id;
        GrowTaskArrays(id);
        Metrics.AddTask(id, waits);
        p.Policy = (uint)policy;
        SchedPrio.SetLoadWeight(ref p);
        _pt[id].WorkLeft = workNs;
        // sched_fork: __set_task_cpu(p, smp_processor_id()), the class from the policy (__setscheduler_class).
        if (parentCpu >= 0 && allowed.Test(parentCpu))
        {
            p.Cpu = p.WakeCpu = parentCpu;
        }
        if (!CpuActive(p.Cpu))
        {
            // The parent runs on an active CPU: never fork "on" one that is offline.
            p.Cpu = p.WakeCpu = FirstActive(allowed, p.Cpu);
        }
        _pt[id].Class = ExtEnabled && _ext!.TaskShouldScx(p) ? ExtClass : FairClass;
        // sched_fork's __sched_fork and init_entity_runnable_average reset every task's sched_entity, whatever its
        // class (the fair class's TaskFork); then sched_cgroup_fork: task_fork, then scx_fork (ops.init_task), whose
        // failure fails the fork.
        _classes[FairClass].TaskFork(ref p);
        if (_pt[id].Class != FairClass)
        {
            _classes[_pt[id].Class].TaskFork(ref p);
        }
        if (_ext != null)
        {
            int err = _ext.Fork(ref p);
            if (err < 0)
            {
                p.State = (uint)TaskState.Dead;
                return err;
            }
            _ext.PostFork(ref p);
        }
        // wake_up_new_task
        p.State = (uint)TaskState.Running;
        _thisCpu = p.Cpu;
        var forkFlags = WakeFlags.Fork;
        int cpu = SelectTaskRq(ref p, p.Cpu, ref forkFlags);
        p.Cpu = p.WakeCpu = cpu; // __set_task_cpu: no migration counted
        _classes[FairClass].PostInitTask(ref p, _pt[id].Class == FairClass);
        Metrics.Runnable(id, NowNs);
        ActivateTask(cpu, ref p, EnqueueFlags.NoClock | EnqueueFlags.Initial);
        WakeupPreempt(cpu, ref p, forkFlags);
        _classes[_pt[id].Class].TaskWoken(cpu, ref p);
        return id;
    }

    /// <summary>Sets the CPU work <paramref name="task"/> has left (<see cref="InfiniteWork"/>: never done).</summary>
    public void SetWork(int task, long ns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        int cpu = Tasks[task].Cpu;
        if (_curr[cpu] == task)
        {
            UpdateCurrCore(cpu);
            _pt[task].WorkLeft = ns;
            Simulator.Cancel(_burstTimer[cpu]);
            if (ns > 0)
            {
                ArmBurst(cpu, task);
            }
            return;
        }
        _pt[task].WorkLeft = ns;
    }

    /// <summary>
    /// The running task <paramref name="task"/> goes to sleep (set_current_state(TASK_INTERRUPTIBLE) + schedule()):
    /// its CPU blocks it and picks another task, after the caller returns when called from <see cref="ITaskWorkDriver.WorkDone"/>.
    /// </summary>
    public void Block(int task)
    {
        ref var p = ref Tasks[task];
        if (_curr[p.Cpu] != task)
        {
            throw new InvalidOperationException($"task {task} is not running, so it cannot block");
        }
        p.State = (uint)TaskState.Interruptible;
        if (!InBurstEnd(p.Cpu))
        {
            Schedule(p.Cpu, preempt: false);
        }
    }

    /// <summary>
    /// try_to_wake_up: a sleeping task becomes runnable on the CPU its class selects (a change counts a migration),
    /// enqueued with ENQUEUE_WAKEUP, and may preempt that CPU's current task.
    /// </summary>
    /// <param name="wakerCpu">The CPU the waker runs on (−1: the task's own CPU, as for a timer).</param>
    /// <returns>False when the task was not sleeping.</returns>
    public bool WakeUp(int task, WakeFlags flags = WakeFlags.None, int wakerCpu = -1)
    {
        ref var p = ref Tasks[task];
        if (p.State != (uint)TaskState.Interruptible)
        {
            return false;
        }
        _thisCpu = wakerCpu >= 0 ? wakerCpu : TimerCpu(p.Cpu);
        Metrics.Wakeup(task);
        long now = NowNs;
        if (p.OnRq != 0)
        {
            // ttwu_runnable: still queued (a delayed dequeue); requeue it in place.
            p.State = (uint)TaskState.Running;
            _classes[_pt[task].Class].EnqueueTask(p.Cpu, ref p, EnqueueFlags.NoClock | EnqueueFlags.Delayed);
            Metrics.Runnable(task, now);
            WakeupPreempt(p.Cpu, ref p, flags);
            return true;
        }
        flags |= WakeFlags.Ttwu;
        int cpu = SelectTaskRq(ref p, p.WakeCpu, ref flags);
        var enqueue = EnqueueFlags.Wakeup | EnqueueFlags.NoClock;
        if ((flags & WakeFlags.RqSelected) != 0)
        {
            enqueue |= EnqueueFlags.RqSelected; // ttwu_do_activate
        }
        if (cpu != p.Cpu)
        {
            flags |= WakeFlags.Migrated;
            enqueue |= EnqueueFlags.Migrated;
            SetTaskCpu(ref p, cpu);
        }
        p.State = (uint)TaskState.Running;
        Metrics.Runnable(task, now);
        ActivateTask(cpu, ref p, enqueue);
        WakeupPreempt(cpu, ref p, flags);
        _classes[_pt[task].Class].TaskWoken(cpu, ref p); // ttwu_do_activate: after wakeup_preempt, rq still locked
        return true;
    }

    /// <summary>
    /// do_exit: the task ends. A running task blocks as TASK_DEAD and its class's task_dead and sched_ext_free follow
    /// the switch (finish_task_switch); a queued or sleeping one (a group stopped) is dequeued and freed at once.
    /// </summary>
    public void Exit(int task)
    {
        ref var p = ref Tasks[task];
        if (p.State == (uint)TaskState.Dead)
        {
            return;
        }
        p.Flags |= (uint)TaskFlags.Exiting;
        p.State = (uint)TaskState.Dead;
        int cpu = p.Cpu;
        if (_curr[cpu] == task)
        {
            if (!InBurstEnd(cpu))
            {
                Schedule(cpu, preempt: false);
            }
            return;
        }
        if (p.OnRq != 0)
        {
            DeactivateTask(cpu, ref p, DequeueFlags.Sleep);
        }
        TaskGone(ref p);
    }

    /// <summary>distribute_cpu_mask_prev (lib/cpumask.c; per CPU there, one here: affinity changes come from outside the CPUs).</summary>
    private int _distributeCpuPrev;

    /// <summary>
    /// set_cpus_allowed_ptr: a queued task off its new mask moves now; a running one after it is switched out.
    /// </summary>
    /// <returns>0, or −EINVAL (the affinity unchanged) when no CPU of the mask exists or is active, as
    /// __set_cpus_allowed_ptr_locked refuses a mask with no CPU of cpu_active_mask (kernel/sched/core.c).</returns>
    public int SetCpusAllowed(int task, in Cpumask mask)
    {
        var allowed = mask.And(Topology.Possible);
        if (allowed.IsEmpty || (_anyInactive && ActiveAnd(in allowed).IsEmpty))
        {
            return -22; // EINVAL
        }
        ref var p = ref Tasks[task];
        p.CpusMask = allowed;
        p.NrCpusAllowed = allowed.Weight;
        _classes[_pt[task].Class].SetCpusAllowed(ref p);
        if (allowed.Test(p.Cpu) || p.State == (uint)TaskState.Dead)
        {
            return 0;
        }
        if (_curr[p.Cpu] == task)
        {
            _pt[task].MovePending = true; // migration_cpu_stop: after it stops running
            ReschedCurr(p.Cpu);
        }
        else if (p.OnRq != 0)
        {
            MoveToAllowedCpu(ref p);
        }
        return 0;
    }

    /// <summary>set_user_nice: a new nice value, the load weight from it, and the class told (reweight_task).</summary>
    public void SetNice(int task, int nice)
    {
        ref var p = ref Tasks[task];
        int cpu = p.Cpu;
        if (_curr[cpu] == task)
        {
            UpdateCurrCore(cpu);
        }
        p.StaticPrio = p.NormalPrio = p.Prio = SchedPrio.DefaultPrio + nice;
        SchedPrio.SetLoadWeight(ref p);
        _classes[_pt[task].Class].ReweightTask(cpu, ref p);
    }

    /// <summary>
    /// move_queued_task: off its CPU onto the one __set_cpus_allowed_ptr_locked picks with
    /// cpumask_any_and_distribute (lib/cpumask.c): the next allowed CPU after the last one picked, wrapping. The class is
    /// not asked (no select_task_rq, so no ops.select_cpu).
    /// </summary>
    private void MoveToAllowedCpu(ref TaskStruct p)
    {
        _pt[p.Id].MovePending = false;
        int from = p.Cpu;
        DeactivateTask(from, ref p, DequeueFlags.NoClock | DequeueFlags.Migrating);
        var valid = p.CpusMask;
        if (_anyInactive)
        {
            valid = ActiveAnd(in valid); // cpu_valid_mask: cpu_active_mask for a user task
        }
        int to = valid.NextFrom(_distributeCpuPrev + 1);
        if (to < 0)
        {
            to = valid.First;
        }
        if (to < 0)
        {
            to = SelectFallbackRq(from, ref p);
        }
        _distributeCpuPrev = to;
        SetTaskCpu(ref p, to);
        ActivateTask(to, ref p, EnqueueFlags.NoClock | EnqueueFlags.Migrating);
        WakeupPreempt(to, ref p, WakeFlags.None);
    }

    /// <summary>
    /// select_task_rq (core.c): the class chooses only for a task allowed on more than one CPU, and that choice is
    /// recorded as WF_RQ_SELECTED; a pinned task goes to its one CPU without asking the class (so no ops.select_cpu).
    /// </summary>
    private int SelectTaskRq(ref TaskStruct p, int cpu, ref WakeFlags flags)
    {
        if (p.NrCpusAllowed > 1)
        {
            cpu = _classes[_pt[p.Id].Class].SelectTaskRq(ref p, cpu, flags);
            flags |= WakeFlags.RqSelected;
        }
        else
        {
            cpu = p.CpusMask.First;
        }
        return ValidCpu(ref p, cpu);
    }

    /// <summary>select_task_rq's is_cpu_allowed check (allowed and active), with select_fallback_rq when it fails.</summary>
    private int ValidCpu(ref TaskStruct p, int cpu)
    {
        if ((uint)cpu < (uint)NrCpus && p.CpusMask.Test(cpu) && CpuActive(cpu))
        {
            return cpu;
        }
        return SelectFallbackRq(p.Cpu, ref p); // select_task_rq: select_fallback_rq(task_cpu(p), p)
    }

    /// <summary>finish_task_switch for TASK_DEAD, then put_task_struct: task_dead and sched_ext_free.</summary>
    private void TaskGone(ref TaskStruct p)
    {
        _pt[p.Id].WorkLeft = 0;
        _pt[p.Id].MovePending = false;
        _classes[_pt[p.Id].Class].TaskDead(ref p);
        _ext?.TaskFree(ref p);
    }
}
