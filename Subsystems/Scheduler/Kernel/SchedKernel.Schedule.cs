using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>__schedule, resched_curr and the runqueue operations (kernel/sched/core.c, 6.12).</summary>
public sealed partial class SchedKernel
{
    public void ReschedCurr(int cpu)
    {
        // resched_curr sets TIF_NEED_RESCHED; the CPU reschedules when the code that asked returns (here: an
        // event at the same instant, so a class is never re-entered from inside its own callback).
        if (_needResched[cpu] || _offlineCpus.Test(cpu))
        {
            return; // an offline CPU runs nothing until it is brought up (SchedKernel.Hotplug.cs)
        }
        _needResched[cpu] = true;
        Simulator.Schedule(Simulator.Now, _handler, KindResched, cpu);
    }

    public void ActivateTask(int cpu, ref TaskStruct p, EnqueueFlags flags)
    {
        _classes[_pt[p.Id].Class].EnqueueTask(cpu, ref p, flags);
        p.OnRq = TaskStruct.OnRqQueued;
        if (++_nrRunning[cpu] == 2)
        {
            RdOverloaded = true; // add_nr_running
        }
        TickDependency(cpu); // a queued task may need the tick a tickless CPU stopped
    }

    /// <remarks>
    /// With DEQUEUE_SLEEP this is block_task: the class may delay the dequeue (fair's DELAY_DEQUEUE returns false),
    /// the task then staying on_rq and counted until the class finishes it with DEQUEUE_SLEEP | DEQUEUE_DELAYED
    /// (__block_task). Without it, deactivate_task: on_rq is TASK_ON_RQ_MIGRATING until the task is activated again.
    /// </remarks>
    public void DeactivateTask(int cpu, ref TaskStruct p, DequeueFlags flags)
    {
        if ((flags & DequeueFlags.Sleep) == 0)
        {
            p.OnRq = TaskStruct.OnRqMigrating;
            _classes[_pt[p.Id].Class].DequeueTask(cpu, ref p, flags);
            _nrRunning[cpu]--;
            return;
        }
        if (p.OnRq != 0 && _classes[_pt[p.Id].Class].DequeueTask(cpu, ref p, flags))
        {
            p.OnRq = 0;
            _nrRunning[cpu]--;
        }
    }

    public void SetTaskCpu(ref TaskStruct p, int cpu)
    {
        if (p.Cpu != cpu)
        {
            _classes[_pt[p.Id].Class].MigrateTaskRq(ref p, cpu); // set_task_cpu: migrate_task_rq, then the move
            Metrics.Migration(p.Id); // p->se.nr_migrations++
        }
        p.Cpu = cpu;
        p.WakeCpu = cpu;
    }

    public void SwitchClass(ref TaskStruct p, SchedClass to)
    {
        ArgumentNullException.ThrowIfNull(to);
        byte toIndex = to == _classes[FairClass] ? FairClass
            : _ext != null && to == _ext.Class ? ExtClass
            : throw new ArgumentException($"class {to.Name} is not registered with this kernel", nameof(to));
        byte fromIndex = _pt[p.Id].Class;
        if (fromIndex == toIndex || p.State == (uint)TaskState.Dead)
        {
            return;
        }
        // __sched_setscheduler + check_class_changed: dequeue (SAVE|MOVE) and put the running task, change the
        // class, requeue (RESTORE|MOVE) and set it next again, then switched_from / switched_to.
        int cpu = p.Cpu;
        if (p.Se.SchedDelayed != 0)
        {
            // A sleeper fair kept queued (DELAY_DEQUEUE) is asleep: finish its dequeue first, as
            // __sched_setscheduler (syscalls.c) and ext.c's enable/disable do, so the new class never gets it as runnable.
            DeactivateTask(cpu, ref p, DequeueFlags.Sleep | DequeueFlags.Delayed | DequeueFlags.NoClock);
        }
        bool queued = p.OnRq != 0;
        bool running = _curr[cpu] == p.Id;
        var from = _classes[fromIndex];
        if (running)
        {
            UpdateCurrCore(cpu);
        }
        if (queued)
        {
            from.DequeueTask(cpu, ref p, DequeueFlags.Save | DequeueFlags.Move | DequeueFlags.NoClock);
        }
        if (running)
        {
            from.PutPrevTask(cpu, ref p, -1);
        }
        to.SwitchingTo(ref p);
        _pt[p.Id].Class = toIndex;
        if (queued)
        {
            to.EnqueueTask(cpu, ref p, EnqueueFlags.Restore | EnqueueFlags.Move | EnqueueFlags.NoClock);
        }
        if (running)
        {
            to.SetNextTask(cpu, ref p, false);
            Metrics.ClassChanged(cpu, toIndex, NowNs);
        }
        from.SwitchedFrom(cpu, ref p);
        to.SwitchedTo(cpu, ref p);
        if (running)
        {
            ReschedCurr(cpu);
        }
        else if (queued)
        {
            WakeupPreempt(cpu, ref p, WakeFlags.None);
        }
        TickDependency(cpu); // the class enqueue's add_nr_running → sched_update_tick_dependency
    }

    /// <summary>
    /// wakeup_preempt (core.c): the same class decides; a task of a higher class always preempts; an idle CPU is
    /// rescheduled (wakeup_preempt_idle).
    /// </summary>
    private void WakeupPreempt(int cpu, ref TaskStruct p, WakeFlags flags)
    {
        int curr = _curr[cpu];
        if (curr < 0)
        {
            ReschedCurr(cpu);
            return;
        }
        if (curr == p.Id)
        {
            return;
        }
        byte pc = _pt[p.Id].Class;
        byte cc = _pt[curr].Class;
        if (pc == cc)
        {
            _classes[pc].WakeupPreempt(cpu, ref p, flags);
        }
        else if (pc < cc)
        {
            ReschedCurr(cpu);
        }
    }

    /// <summary>
    /// __schedule (core.c): block prev if it is no longer TASK_RUNNING and this is not a preemption, pick the next
    /// task (<see cref="PickNextTask"/>), and switch if the pick differs.
    /// </summary>
    private void Schedule(int cpu, bool preempt)
    {
        _thisCpu = cpu;
        UpdateCurrCore(cpu);
        int prev = _curr[cpu];
        bool voluntary = false;
        if (prev >= 0)
        {
            ref var p = ref Tasks[prev];
            if (!preempt && p.State != (uint)TaskState.Running)
            {
                DeactivateTask(cpu, ref p, DequeueFlags.Sleep | DequeueFlags.NoClock);
                voluntary = true;
            }
        }
        bool afterStopper = false;
        if (prev >= 0 && _pt[prev].MovePending && !voluntary)
        {
            // migration_cpu_stop: the stopper preempts prev, which is off its allowed CPUs, and moves it (the stop
            // class as put_prev's next, no idle in between, as for the balancer's stopper below).
            _classes[_pt[prev].Class].PutPrevTask(cpu, ref Tasks[prev], SchedClass.StopperTask);
            ContextSwitch(cpu, prev, -1, voluntary: false);
            prev = -1;
            afterStopper = true;
        }
        afterStopper |= RunStopper(cpu, ref prev, voluntary);
        int next = PickNextTask(cpu, prev, afterStopper);
        // __schedule clears prev's TIF_NEED_RESCHED only after pick_next_task (core.c), so a resched_curr raised while
        // blocking prev or picking (update_curr finding an expired deadline) is dropped, not carried into next.
        _needResched[cpu] = false;
        if (StopPending(cpu))
        {
            _needResched[cpu] = true; // a stopper woken meanwhile still preempts (its wake-up is not a resched flag)
        }
        if (next == prev)
        {
            if (next >= 0)
            {
                TickDependency(cpu); // a requeue through another path (class change, bypass) may need the tick back
            }
            else
            {
                // pick_task_idle (idle.c): an idle CPU that picks idle again refreshes its idle bit (scx_update_idle
                // without do_notify; in the Debian 6.12 tree this bpfsim follows); after the stopper it is a real
                // transition to idle (set_next_task_idle).
                _ext?.UpdateIdle(cpu, true, notify: afterStopper);
            }
            return;
        }
        PutPrevSetNext(cpu, prev, next, afterStopper);
        ContextSwitch(cpu, prev, next, voluntary);
    }

    /// <summary>
    /// __pick_next_task (core.c). Without sched_ext every task is fair, so the fast path asks fair alone
    /// (pick_next_task_fair: pick, finishing delayed dequeues; newidle balance only if that found nothing). With
    /// sched_ext enabled, the restart path: prev_balance from prev's class (at least from ext, which dispatches in
    /// its balance, ext.c balance_scx) before any class picks.
    /// </summary>
    private int PickNextTask(int cpu, int prev, bool afterStopper)
    {
        if (!ExtEnabled)
        {
            return _classes[FairClass].PickNextTask(cpu, prev);
        }
        PrevBalance(cpu, prev, afterStopper);
        int next = -1;
        for (int c = FairClass; c < IdleClass && next < 0; c++)
        {
            if (ClassActive(c))
            {
                next = _classes[c].PickTask(cpu);
            }
        }
        return next;
    }

    /// <summary>
    /// prev_balance (core.c 6.12): from prev's class down (after the stopper, from the top); with sched_ext enabled at
    /// least from ext.
    /// </summary>
    private void PrevBalance(int cpu, int prev, bool afterStopper)
    {
        int start = afterStopper ? FairClass : prev >= 0 ? _pt[prev].Class : IdleClass;
        if (ExtEnabled && start > ExtClass)
        {
            start = ExtClass;
        }
        for (int c = start; c < IdleClass; c++)
        {
            if (ClassActive(c) && _classes[c].Balance(cpu, prev))
            {
                break;
            }
        }
    }

    /// <summary>
    /// put_prev_set_next_task, with put_prev_task_idle / set_next_task_idle's scx_update_idle (idle.c); after the
    /// stopper, prev was the stop task, not idle.
    /// </summary>
    private void PutPrevSetNext(int cpu, int prev, int next, bool afterStopper = false)
    {
        if (prev >= 0)
        {
            _classes[_pt[prev].Class].PutPrevTask(cpu, ref Tasks[prev], next);
        }
        else if (!afterStopper)
        {
            _ext?.UpdateIdle(cpu, false);
        }
        if (next >= 0)
        {
            _classes[_pt[next].Class].SetNextTask(cpu, ref Tasks[next], true);
        }
        else
        {
            _ext?.UpdateIdle(cpu, true);
        }
    }

    /// <summary>context_switch + finish_task_switch: rq->curr, on_cpu, the counters, timers, and a dead prev's end.</summary>
    private void ContextSwitch(int cpu, int prev, int next, bool voluntary)
    {
        long now = NowNs;
        _curr[cpu] = next;
        if (next < 0)
        {
            _noCurrent.Set(cpu);
        }
        else
        {
            _noCurrent.Clear(cpu);
        }
        Simulator.Cancel(_burstTimer[cpu]);
        Metrics.Switch(cpu, prev, next, next >= 0 ? _pt[next].Class : (byte)0, voluntary, now);
        if (next >= 0)
        {
            ref var n = ref Tasks[next];
            n.OnCpu = 1;
            Metrics.Running(next, now);
            ArmBurst(cpu, next);
        }
        // Going idle stops the tick at once (tick_nohz_idle_enter); a busy-to-busy switch only clears the dependency,
        // and the tick stops at its next interrupt (tick_nohz_irq_exit), so one more tick runs.
        UpdateTick(cpu, mayStop: prev < 0 || next < 0);
        if (prev < 0)
        {
            return;
        }
        ref var p = ref Tasks[prev];
        p.OnCpu = 0;
        if (p.State == (uint)TaskState.Running && p.OnRq != 0)
        {
            Metrics.Runnable(prev, now); // preempted: waits again from now
            if (_pt[prev].MovePending)
            {
                MoveToAllowedCpu(ref p);
            }
        }
        else if (p.State == (uint)TaskState.Dead)
        {
            TaskGone(ref p);
        }
    }

    /// <summary>Whether the driver is deciding what <paramref name="cpu"/>'s current task does next (schedule() follows it).</summary>
    private bool InBurstEnd(int cpu) => _burstCpu == cpu;

    private void ArmBurst(int cpu, int task)
    {
        long work = _pt[task].WorkLeft;
        if (work != InfiniteWork)
        {
            Simulator.Arm(_burstTimer[cpu], new SimTime(NowNs + work), cpu);
        }
    }

    /// <summary>The current task's work ran out: the driver decides what it does next.</summary>
    private void BurstEnd(int cpu)
    {
        UpdateCurrCore(cpu);
        int curr = _curr[cpu];
        if (curr < 0)
        {
            return;
        }
        if (_pt[curr].WorkLeft > 0)
        {
            ArmBurst(cpu, curr);
            return;
        }
        var driver = Driver ?? throw new InvalidOperationException($"task {curr} finished its work but the kernel has no {nameof(ITaskWorkDriver)}");
        _burstCpu = cpu;
        try
        {
            driver.WorkDone(curr, cpu);
        }
        finally
        {
            _burstCpu = -1;
        }
        if (_curr[cpu] != curr)
        {
            return;
        }
        ref var p = ref Tasks[curr];
        if (p.State != (uint)TaskState.Running)
        {
            Schedule(cpu, preempt: false);
        }
        else if (_pt[curr].WorkLeft > 0)
        {
            ArmBurst(cpu, curr);
        }
        else
        {
            throw new InvalidOperationException($"task {curr} finished its work and was given neither more work, a sleep nor an exit");
        }
    }
}
