using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

// The per-entity EEVDF operations of kernel/sched/fair.c (6.12 with this tree's backports): avg_vruntime with its
// zero_vruntime reference point, eligibility, update_curr / update_deadline, entity_lag, place_entity,
// enqueue_entity / dequeue_entity with DELAY_DEQUEUE, requeue_delayed_entity, set_next_entity / put_prev_entity.
// No task groups: every entity is a task and every cfs_rq is a CPU's root cfs_rq.
public sealed partial class FairSchedClass
{
    private long Key(int cpu, ref SchedEntity se) => (long)(se.Vruntime - _zeroVruntime[cpu]);

    private void AvgVruntimeAdd(int cpu, ref SchedEntity se)
    {
        long w = (long)FairMath.ScaleLoadDown(se.Weight);
        _avgVruntime[cpu] += Key(cpu, ref se) * w;
        _avgLoad[cpu] += w;
    }

    private void AvgVruntimeSub(int cpu, ref SchedEntity se)
    {
        long w = (long)FairMath.ScaleLoadDown(se.Weight);
        _avgVruntime[cpu] -= Key(cpu, ref se) * w;
        _avgLoad[cpu] -= w;
    }

    /// <summary>The current entity if it is still queued (cfs_rq->curr &amp;&amp; curr->on_rq), else −1.</summary>
    private int QueuedCurr(int cpu)
    {
        int c = _curr[cpu];
        return c >= 0 && _tasks[c].Se.OnRq != 0 ? c : -1;
    }

    /// <summary>
    /// avg_vruntime: V, the load-weighted average vruntime (curr included), floored; moves zero_vruntime to it
    /// (update_zero_vruntime), as this tree's fair.c does.
    /// </summary>
    public ulong AvgVruntime(int cpu)
    {
        int curr = QueuedCurr(cpu);
        long weight = _avgLoad[cpu];
        long delta = 0;
        if (weight != 0)
        {
            long runtime = _avgVruntime[cpu];
            if (curr >= 0)
            {
                ref var cse = ref _tasks[curr].Se;
                long w = (long)FairMath.ScaleLoadDown(cse.Weight);
                runtime += Key(cpu, ref cse) * w;
                weight += w;
            }
            if (runtime < 0)
            {
                runtime -= weight - 1; // the sign flips floor to ceiling
            }
            delta = runtime / weight;
        }
        else if (curr >= 0)
        {
            delta = Key(cpu, ref _tasks[curr].Se); // one entity: it is the average
        }
        _avgVruntime[cpu] -= _avgLoad[cpu] * delta;
        _zeroVruntime[cpu] += (ulong)delta;
        return _zeroVruntime[cpu];
    }

    /// <summary>vruntime_eligible: lag ≥ 0 at <paramref name="vruntime"/>, compared without dividing (no rounding).</summary>
    public bool VruntimeEligible(int cpu, ulong vruntime)
    {
        long avg = _avgVruntime[cpu];
        long load = _avgLoad[cpu];
        int curr = QueuedCurr(cpu);
        if (curr >= 0)
        {
            ref var cse = ref _tasks[curr].Se;
            long w = (long)FairMath.ScaleLoadDown(cse.Weight);
            avg += Key(cpu, ref cse) * w;
            load += w;
        }
        return avg >= (long)(vruntime - _zeroVruntime[cpu]) * load;
    }

    /// <summary>vruntime_eligible's two sums: avg_vruntime and avg_load with a queued curr folded in.</summary>
    private void EligibilitySums(int cpu, out long avg, out long load)
    {
        avg = _avgVruntime[cpu];
        load = _avgLoad[cpu];
        int curr = QueuedCurr(cpu);
        if (curr >= 0)
        {
            ref var cse = ref _tasks[curr].Se;
            long w = (long)FairMath.ScaleLoadDown(cse.Weight);
            avg += Key(cpu, ref cse) * w;
            load += w;
        }
    }

    /// <summary>entity_eligible: the task's lag on <paramref name="cpu"/>'s cfs_rq is ≥ 0.</summary>
    public bool EntityEligible(int cpu, int id) => VruntimeEligible(cpu, _tasks[id].Se.Vruntime);

    // set_protect_slice / protect_slice / cancel_protect_slice: the deadline at pick is stashed in vlag (unused
    // until dequeue), as this tree's fair.c does.
    private static void SetProtectSlice(ref SchedEntity se) => se.Vlag = (long)se.Deadline;

    private static bool ProtectSlice(ref SchedEntity se) => (ulong)se.Vlag == se.Deadline;

    private static void CancelProtectSlice(ref SchedEntity se)
    {
        if (ProtectSlice(ref se))
        {
            se.Vlag = (long)(se.Deadline + 1);
        }
    }

    private static ulong CalcDeltaFair(ulong delta, ref SchedEntity se) =>
        FairMath.CalcDeltaFair(delta, se.Weight, se.InvWeight);

    /// <summary>update_deadline: once vruntime reaches the deadline, a new request of one slice; true = resched.</summary>
    private bool UpdateDeadline(int cpu, ref SchedEntity se)
    {
        if ((long)(se.Vruntime - se.Deadline) < 0)
        {
            return false;
        }
        if (se.CustomSlice == 0)
        {
            se.Slice = _baseSlice;
        }
        se.Deadline = se.Vruntime + CalcDeltaFair(se.Slice, ref se);
        AvgVruntime(cpu);
        return true;
    }

    /// <summary>update_curr: charge the running entity's execution since exec_start, in virtual time by its weight.</summary>
    private void UpdateCurrFair(int cpu)
    {
        int c = _curr[cpu];
        if (c < 0)
        {
            return;
        }
        ref var se = ref _tasks[c].Se;
        long now = _core.NowNs;
        long deltaExec = now - (long)se.ExecStart;
        if (deltaExec <= 0)
        {
            return;
        }
        se.ExecStart = (ulong)now;
        se.SumExecRuntime += (ulong)deltaExec;
        se.Vruntime += CalcDeltaFair((ulong)deltaExec, ref se);
        bool resched = UpdateDeadline(cpu, ref se);
        if (_nrRunning[cpu] == 1)
        {
            return;
        }
        if (resched || DidPreemptShort(cpu, c))
        {
            _core.ReschedCurr(cpu);
        }
    }

    private bool DidPreemptShort(int cpu, int curr)
    {
        if (!Features.PreemptShort || ProtectSlice(ref _tasks[curr].Se))
        {
            return false;
        }
        return !EntityEligible(cpu, curr);
    }

    /// <summary>do_preempt_short: the woken <paramref name="pse"/> has a shorter slice and should beat curr.</summary>
    private bool DoPreemptShort(int cpu, int pse, int se)
    {
        if (!Features.PreemptShort || _tasks[pse].Se.Slice >= _tasks[se].Se.Slice || !EntityEligible(cpu, pse))
        {
            return false;
        }
        return DeadlineBefore(pse, se) || !EntityEligible(cpu, se);
    }

    /// <summary>entity_lag: V − v, clamped to the virtual time of max(2 slices, a tick).</summary>
    private long EntityLag(ulong avruntime, ref SchedEntity se)
    {
        long vlag = (long)(avruntime - se.Vruntime);
        long limit = (long)CalcDeltaFair(Math.Max(2 * se.Slice, _tickNs), ref se);
        return Math.Clamp(vlag, -limit, limit);
    }

    private void UpdateEntityLag(int cpu, ref SchedEntity se) => se.Vlag = EntityLag(AvgVruntime(cpu), ref se);

    /// <summary>
    /// place_entity: vruntime = V − lag, the lag inflated by (W + w)/W so it survives joining the average (PLACE_LAG);
    /// deadline = vruntime + the slice in virtual time, half of it for a new task (PLACE_DEADLINE_INITIAL), or the
    /// kept relative deadline (PLACE_REL_DEADLINE).
    /// </summary>
    private void PlaceEntity(int cpu, ref SchedEntity se, EnqueueFlags flags)
    {
        ulong vruntime = AvgVruntime(cpu);
        long lag = 0;
        if (se.CustomSlice == 0)
        {
            se.Slice = _baseSlice;
        }
        ulong vslice = CalcDeltaFair(se.Slice, ref se);
        if (Features.PlaceLag && _nrRunning[cpu] != 0)
        {
            lag = se.Vlag;
            long load = _avgLoad[cpu];
            int curr = QueuedCurr(cpu);
            if (curr >= 0)
            {
                load += (long)FairMath.ScaleLoadDown(_tasks[curr].Se.Weight);
            }
            lag *= load + (long)FairMath.ScaleLoadDown(se.Weight);
            if (load == 0)
            {
                load = 1;
            }
            lag /= load;
        }
        se.Vruntime = vruntime - (ulong)lag;
        if (Features.PlaceRelDeadline && se.RelDeadline != 0)
        {
            se.Deadline += se.Vruntime;
            se.RelDeadline = 0;
            return;
        }
        if (Features.PlaceDeadlineInitial && (flags & EnqueueFlags.Initial) != 0)
        {
            vslice /= 2;
        }
        se.Deadline = se.Vruntime + vslice;
    }

    /// <summary>enqueue_entity: place (curr before update_curr, others after), account, into the timeline.</summary>
    private void EnqueueEntity(int cpu, int id, EnqueueFlags flags)
    {
        bool isCurr = _curr[cpu] == id;
        if (isCurr)
        {
            PlaceEntity(cpu, ref _tasks[id].Se, flags);
        }
        UpdateCurrFair(cpu);
        UpdateLoadAvg(cpu, id, LoadAvgFlags.DoAttach); // a new or migrated task (last_update_time 0) attaches here
        ref var se = ref _tasks[id].Se;
        if (!isCurr)
        {
            PlaceEntity(cpu, ref se, flags);
        }
        _loadWeight[cpu] += se.Weight;
        ListAdd(cpu, id);
        _nrRunning[cpu]++;
        if ((flags & EnqueueFlags.Migrated) != 0)
        {
            se.ExecStart = 0;
        }
        if (!isCurr)
        {
            EnqueueTimeline(cpu, id);
        }
        se.OnRq = 1;
    }

    /// <summary>
    /// dequeue_entity: a sleeping entity that is not eligible stays queued as delayed (DELAY_DEQUEUE, false);
    /// otherwise its lag is saved and it leaves the runqueue.
    /// </summary>
    private bool DequeueEntity(int cpu, int id, DequeueFlags flags)
    {
        bool sleep = (flags & DequeueFlags.Sleep) != 0;
        UpdateCurrFair(cpu);
        ref var se = ref _tasks[id].Se;
        if ((flags & DequeueFlags.Delayed) == 0)
        {
            // Special task states must not see the spurious wakeups DELAY_DEQUEUE relies on.
            bool delay = sleep && (flags & DequeueFlags.Special) == 0;
            if (Features.DelayDequeue && delay && !EntityEligible(cpu, id))
            {
                UpdateLoadAvg(cpu, id, LoadAvgFlags.None);
                SetDelayed(cpu, id, ref se);
                return false;
            }
        }
        // A balancer's or hotplug's migration (on_rq TASK_ON_RQ_MIGRATING) takes its load with it (DO_DETACH).
        UpdateLoadAvg(cpu, id, _tasks[id].OnRq == TaskStruct.OnRqMigrating ? LoadAvgFlags.DoDetach : LoadAvgFlags.None);
        UpdateEntityLag(cpu, ref se);
        if (_curr[cpu] != id)
        {
            DequeueTimeline(cpu, id); // before the deadline becomes relative: the timeline finds entries by key
        }
        if (Features.PlaceRelDeadline && !sleep)
        {
            se.Deadline -= se.Vruntime;
            se.RelDeadline = 1;
        }
        se.OnRq = 0;
        _loadWeight[cpu] -= se.Weight;
        ListDel(id);
        _nrRunning[cpu]--;
        if ((flags & DequeueFlags.Delayed) != 0)
        {
            FinishDelayedDequeue(cpu, id, ref se);
        }
        return true;
    }

    private void FinishDelayedDequeue(int cpu, int id, ref SchedEntity se)
    {
        ClearDelayed(cpu, id, ref se);
        if (Features.DelayZero && se.Vlag > 0)
        {
            se.Vlag = 0;
        }
    }

    /// <summary>requeue_delayed_entity: a delayed entity woken before it left; positive lag is reset to 0 (DELAY_ZERO).</summary>
    private void RequeueDelayedEntity(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        if (Features.DelayZero)
        {
            UpdateEntityLag(cpu, ref se);
            if (se.Vlag > 0)
            {
                bool isCurr = _curr[cpu] == id;
                _nrRunning[cpu]--;
                if (!isCurr)
                {
                    DequeueTimeline(cpu, id);
                }
                se.Vlag = 0;
                PlaceEntity(cpu, ref se, EnqueueFlags.None);
                if (!isCurr)
                {
                    EnqueueTimeline(cpu, id);
                }
                _nrRunning[cpu]++;
            }
        }
        UpdateLoadAvg(cpu, id, LoadAvgFlags.None);
        ClearDelayed(cpu, id, ref se);
    }

    /// <summary>set_next_entity: curr leaves the tree; its slice is protected from now (RUN_TO_PARITY).</summary>
    private void SetNextEntity(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        if (se.OnRq != 0)
        {
            DequeueTimeline(cpu, id);
            UpdateLoadAvg(cpu, id, LoadAvgFlags.None); // before cfs_rq->curr changes: what passed was not running
            SetProtectSlice(ref se);
        }
        se.ExecStart = (ulong)_core.NowNs; // update_stats_curr_start
        _curr[cpu] = id;
        se.PrevSumExecRuntime = se.SumExecRuntime;
    }

    /// <summary>put_prev_entity: a still-queued curr is charged and goes back into the tree.</summary>
    private void PutPrevEntity(int cpu, int id)
    {
        if (_tasks[id].Se.OnRq != 0)
        {
            UpdateCurrFair(cpu);
            EnqueueTimeline(cpu, id);
            UpdateLoadAvg(cpu, id, LoadAvgFlags.None); // still curr: the time since counts as running
        }
        _curr[cpu] = -1;
    }

    /// <summary>
    /// reweight_entity / reweight_eevdf: a queued entity keeps its lag and relative deadline in real time
    /// (v' = V − (V − v)·w/w', d' = V + (d − V)·w/w'); a sleeping one has its vlag scaled.
    /// </summary>
    private void ReweightEntity(int cpu, int id, ulong weight, uint invWeight)
    {
        ref var se = ref _tasks[id].Se;
        bool isCurr = cpu >= 0 && _curr[cpu] == id;
        bool onRq = se.OnRq != 0 && cpu >= 0;
        ulong avruntime = 0;
        if (onRq)
        {
            UpdateCurrFair(cpu);
            // set_user_nice dequeues a queued task (DEQUEUE_SAVE) first: its PELT and its cfs_rq's come up to now at
            // the old weight before the new one counts.
            UpdateLoadAvg(cpu, id, LoadAvgFlags.None);
            avruntime = AvgVruntime(cpu);
            if (!isCurr)
            {
                DequeueTimeline(cpu, id);
            }
            _loadWeight[cpu] -= se.Weight;
        }
        ulong oldWeight = se.Weight;
        int cfsCpu = _tasks[id].Cpu; // a sleeper's blocked load stays in its CPU's cfs_rq sums
        bool attached = _seAvg[id].LastUpdateTime != 0;
        if (attached)
        {
            DequeueLoadAvg(cfsCpu, id);
        }
        if (onRq)
        {
            if (avruntime != se.Vruntime)
            {
                long vlag = EntityLag(avruntime, ref se);
                vlag = vlag * (long)oldWeight / (long)weight;
                se.Vruntime = avruntime - (ulong)vlag;
            }
            long vslice = (long)(se.Deadline - avruntime);
            vslice = vslice * (long)oldWeight / (long)weight;
            se.Deadline = avruntime + (ulong)vslice;
        }
        else
        {
            se.Vlag = se.Vlag * (long)oldWeight / (long)weight;
        }
        se.Weight = weight;
        se.InvWeight = invWeight;
        ref var sa = ref _seAvg[id];
        sa.LoadAvg = FairMath.ScaleLoadDown(weight) * sa.LoadSum / Pelt.Divider(in sa);
        if (attached)
        {
            EnqueueLoadAvg(cfsCpu, id);
        }
        if (onRq)
        {
            _loadWeight[cpu] += se.Weight;
            if (!isCurr)
            {
                EnqueueTimeline(cpu, id);
            }
        }
    }
}
