using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// fair_sched_class (kernel/sched/fair.c, Linux 6.12 as this tree has it): EEVDF — each CPU's cfs_rq picks the
/// eligible task (lag ≥ 0) with the earliest virtual deadline — with PLACE_LAG, RUN_TO_PARITY, PREEMPT_SHORT,
/// DELAY_DEQUEUE, wakeup preemption, a simplified select_task_rq_fair and newidle / periodic load balancing.
/// </summary>
/// <remarks>
/// State is per CPU in arrays indexed by CPU id, and per task in arrays indexed by task id (grown, like the
/// <see cref="TaskTable"/>, only when a new task shows up); tasks are read and written by reference into the task
/// table, so no scheduling call allocates. PELT tracks load, runnable and utilization (FairSchedClass.Pelt.cs). There
/// are no task groups (CONFIG_FAIR_GROUP_SCHED's hierarchy) and no bandwidth control; see docs/scheduler.md, "The fair
/// class", for what is simplified and why.
/// <para>
/// DELAY_DEQUEUE needs the core to do what core.c does with <see cref="SchedEntity.SchedDelayed"/>: when
/// <see cref="DequeueTask"/> returns false the task stays on_rq (and counted); a wakeup of such a task is
/// <see cref="EnqueueTask"/> with <see cref="EnqueueFlags.Delayed"/> (ttwu_runnable); and when <see cref="PickTask"/>
/// meets a delayed task it finishes the dequeue through <see cref="ISchedCore.DeactivateTask"/> with
/// <see cref="DequeueFlags.Sleep"/> | <see cref="DequeueFlags.Delayed"/>, where the kernel calls __block_task.
/// </para>
/// </remarks>
public sealed partial class FairSchedClass : SchedClass
{
    private readonly ISchedCore _core;
    private readonly TaskTable _tasks;
    private readonly int _nrCpus;
    private ulong _baseSlice;
    private readonly ulong _tickNs;
    // FinishDelayedTask's dequeue is under way: dequeue_entities alone, not dequeue_task_fair (no util_est bookkeeping).
    private bool _finishingDelayed;

    // struct cfs_rq, one per CPU.
    private readonly ulong[] _zeroVruntime;
    private readonly long[] _avgVruntime;
    private readonly long[] _avgLoad;
    private readonly ulong[] _loadWeight;
    private readonly int[] _nrRunning;
    private readonly int[] _nrDelayed;
    private readonly int[] _curr;
    private readonly int[] _tasksHead;
    private readonly int[] _listTail;

    // Per task: the rq's cfs_tasks list (most recently run first) and the CPU whose cfs_rq holds the task.
    // One 40-byte record per task, so an enqueue or a switch reads one line of it instead of seven arrays; Seq is the
    // order in which the task last entered a timeline (InsertionOrder).
    private struct FairTask
    {
        public ulong AccWeight;
        public ulong Seq;
        public uint AccInv;
        public int QueuedCpu;
        public int ListPrev;
        public int ListNext;
        public int ListCpu;
    }

    private FairTask[] _ft = [];

    /// <param name="core">The core scheduler; its CPUs and topology are fixed from now on.</param>
    /// <param name="features">sched_feat switches; <see cref="FairFeatures.Default"/> when null.</param>
    /// <param name="seed">Seeds each CPU's sched_rng stream (the scenario's seed; the kernel seeds them at boot).</param>
    public FairSchedClass(ISchedCore core, FairFeatures? features = null, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(core);
        _core = core;
        _tasks = core.Tasks;
        _nrCpus = core.NrCpus;
        Features = features ?? FairFeatures.Default;
        _baseSlice = FairMath.BaseSliceNs(_nrCpus);
        int hz = core.Hz > 0 ? core.Hz : 1000;
        _tickNs = (ulong)((1_000_000_000L + hz / 2) / hz);
        _zeroVruntime = new ulong[_nrCpus];
        _avgVruntime = new long[_nrCpus];
        _avgLoad = new long[_nrCpus];
        _loadWeight = new ulong[_nrCpus];
        _nrRunning = new int[_nrCpus];
        _nrDelayed = new int[_nrCpus];
        _curr = new int[_nrCpus];
        _timeline = new CfsTimeline[_nrCpus];
        _tasksHead = new int[_nrCpus];
        _listTail = new int[_nrCpus];
        for (int cpu = 0; cpu < _nrCpus; cpu++)
        {
            _zeroVruntime[cpu] = unchecked((ulong)-(1L << 20)); // init_cfs_rq
            _curr[cpu] = _tasksHead[cpu] = _listTail[cpu] = -1;
            _timeline[cpu] = new CfsTimeline();
        }
        InitBalance(seed);
        InitPelt();
    }

    /// <inheritdoc/>
    public override string Name => "fair";

    /// <summary>The sched_feat switches this instance runs with.</summary>
    public FairFeatures Features { get; }

    /// <summary>sysctl_sched_base_slice for this machine, in ns.</summary>
    public ulong BaseSliceNs => _baseSlice;

    /// <summary>cfs_rq->nr_running of <paramref name="cpu"/> (delayed entities included).</summary>
    public int NrRunning(int cpu) => _nrRunning[cpu];

    /// <inheritdoc/>
    public override int NrQueued(int cpu) => _nrRunning[cpu];

    /// <summary>cfs_rq->h_nr_delayed: entities DELAY_DEQUEUE keeps queued on <paramref name="cpu"/>.</summary>
    public int NrDelayed(int cpu) => _nrDelayed[cpu];

    /// <summary>cfs_rq->load.weight of <paramref name="cpu"/> (scaled).</summary>
    public ulong LoadWeight(int cpu) => _loadWeight[cpu];

    /// <summary>cfs_rq->zero_vruntime of <paramref name="cpu"/>.</summary>
    public ulong ZeroVruntime(int cpu) => _zeroVruntime[cpu];

    /// <summary>cfs_rq->curr of <paramref name="cpu"/>: the fair task set as next/current, or −1.</summary>
    public int CurrOf(int cpu) => _curr[cpu];

    /// <summary>The CPU whose fair runqueue holds <paramref name="taskId"/>, or −1.</summary>
    public int QueuedCpu(int taskId) => (uint)taskId < (uint)_ft.Length ? _ft[taskId].QueuedCpu : -1;

    /// <inheritdoc/>
    public override bool HasRunnable(int cpu) => _nrRunning[cpu] > 0;

    /// <summary>enqueue_task_fair.</summary>
    public override void EnqueueTask(int cpu, ref TaskStruct p, EnqueueFlags flags)
    {
        if (p.Se.Weight == 0)
        {
            FairMath.SetLoadWeight(ref p); // the core sets it (set_load_weight); never run with weight 0
        }
        EnsureTask(p.Id);
        int id = p.Id;
        // util_est_enqueue first (schedutil reads it), except for a delayed task that moves or is restored: its
        // estimate left at the sleep that delayed it and comes back with a real wake-up.
        if (!(p.Se.SchedDelayed != 0 && (p.OnRq == TaskStruct.OnRqMigrating || (flags & EnqueueFlags.Restore) != 0)))
        {
            UtilEstEnqueue(cpu, id);
        }
        if ((flags & EnqueueFlags.Delayed) != 0 || p.Se.OnRq != 0)
        {
            int q = _ft[id].QueuedCpu;
            if (p.Se.SchedDelayed != 0 && q >= 0)
            {
                RequeueDelayedEntity(q, id);
            }
            return;
        }
        bool delayedNew = (flags & EnqueueFlags.Wakeup) == 0 && p.Se.SchedDelayed != 0;
        // The weight it joins with is the one a later reweight starts from (it may have changed in another class).
        _ft[id].AccWeight = p.Se.Weight;
        _ft[id].AccInv = p.Se.InvWeight;
        EnqueueEntity(cpu, id, flags);
        _ft[id].QueuedCpu = cpu;
        if (delayedNew)
        {
            _nrDelayed[cpu]++;
        }
    }

    /// <summary>dequeue_task_fair: false when DELAY_DEQUEUE keeps the sleeping task queued.</summary>
    public override bool DequeueTask(int cpu, ref TaskStruct p, DequeueFlags flags)
    {
        int id = p.Id;
        int q = QueuedCpu(id);
        if (q < 0)
        {
            throw new InvalidOperationException($"fair: dequeue of task {id} ({p.CommString}), which is not queued");
        }
        bool wasDelayed = p.Se.SchedDelayed != 0;
        // dequeue_task_fair's util_est bookkeeping. pick_next_entity and task_dead_fair finish a delayed dequeue with
        // dequeue_entities alone, without it (FinishDelayedTask). A class change finishes it through dequeue_task
        // (DEQUEUE_SLEEP | DEQUEUE_DELAYED, syscalls.c and ext.c), neither SAVE nor migrating: 6.12 then takes the
        // task's estimate off the cfs_rq's a second time (the sleep that delayed it took it once; the sum is clamped
        // at 0) and runs util_est_update again.
        if (!_finishingDelayed)
        {
            if (!(wasDelayed && (p.OnRq == TaskStruct.OnRqMigrating || (flags & DequeueFlags.Save) != 0)))
            {
                UtilEstDequeue(q, id);
            }
            UtilEstUpdate(id, (flags & DequeueFlags.Sleep) != 0);
        }
        if (wasDelayed && (flags & DequeueFlags.Sleep) != 0)
        {
            flags |= DequeueFlags.Delayed; // already asleep and delayed (an exit): finish that dequeue, as core.c asks
        }
        if (!DequeueEntity(q, id, flags))
        {
            return false;
        }
        // A delayed task moved without sleeping (migration, SAVE) leaves still delayed: uncount it here.
        if (wasDelayed && (flags & (DequeueFlags.Sleep | DequeueFlags.Delayed)) == 0)
        {
            _nrDelayed[q]--;
        }
        _ft[id].QueuedCpu = -1;
        return true;
    }

    /// <summary>pick_task_fair: pick_eevdf; a delayed pick finishes its dequeue and the pick starts over.</summary>
    public override int PickTask(int cpu)
    {
        while (_nrRunning[cpu] > 0)
        {
            if (QueuedCurr(cpu) >= 0)
            {
                UpdateCurrFair(cpu); // put_prev_entity may not have run yet
            }
            int next = PickEevdf(cpu);
            if (next < 0)
            {
                return -1;
            }
            // The pick is rarely in cache: have all its records (task_struct, the core's, the metrics', ours) fetched
            // together, rather than one miss after another as the switch reaches each. Whether it is delayed comes
            // from the bitmap, so nothing here waits for those lines.
            _core.PrefetchTask(next);
            if (!IsDelayed(next))
            {
                return next;
            }
            FinishDelayedTask(cpu, next);
        }
        return -1;
    }

    /// <summary>
    /// pick_next_entity / task_dead_fair on a delayed entity: dequeue_entities(DEQUEUE_SLEEP | DEQUEUE_DELAYED) and
    /// __block_task — through the core's deactivate_task, which calls back <see cref="DequeueTask"/> with those flags
    /// and takes the task off its rq count (on_rq = 0).
    /// </summary>
    private void FinishDelayedTask(int cpu, int id)
    {
        ref var p = ref _tasks[id];
        _finishingDelayed = true;
        try
        {
            _core.DeactivateTask(cpu, ref p, DequeueFlags.Sleep | DequeueFlags.Delayed);
        }
        finally
        {
            _finishingDelayed = false;
        }
        if (p.Se.SchedDelayed != 0 || QueuedCpu(id) >= 0)
        {
            throw new InvalidOperationException(
                $"fair: the core did not dequeue delayed task {id} through the class (deactivate_task with DEQUEUE_DELAYED)");
        }
    }

    /// <summary>put_prev_task_fair.</summary>
    public override void PutPrevTask(int cpu, ref TaskStruct p, int next)
    {
        if (_curr[cpu] == p.Id)
        {
            PutPrevEntity(cpu, p.Id);
        }
    }

    /// <summary>set_next_task_fair: cfs_rq->curr, and the front of the rq's cfs_tasks list.</summary>
    public override void SetNextTask(int cpu, ref TaskStruct p, bool first)
    {
        EnsureTask(p.Id);
        if (_curr[cpu] >= 0 && _curr[cpu] != p.Id)
        {
            PutPrevEntity(cpu, _curr[cpu]);
        }
        if (_curr[cpu] == p.Id)
        {
            return;
        }
        SetNextEntity(cpu, p.Id);
        if (p.Se.OnRq != 0)
        {
            ListDel(p.Id);
            ListAdd(cpu, p.Id);
        }
    }

    /// <inheritdoc/>
    public override void UpdateCurr(int cpu) => UpdateCurrFair(cpu);

    /// <summary>task_tick_fair → entity_tick: update_curr (a used-up request reschedules), then the periodic PELT update.</summary>
    public override void TaskTick(int cpu, ref TaskStruct p)
    {
        if (_curr[cpu] == p.Id)
        {
            UpdateCurrFair(cpu);
            UpdateLoadAvg(cpu, p.Id, LoadAvgFlags.None);
        }
    }

    /// <inheritdoc/>
    public override void TickBalance(int cpu) => BalanceTrigger(cpu);

    /// <summary>
    /// check_preempt_wakeup_fair: resched when the woken task is what pick_eevdf would now choose (WAKEUP_PREEMPTION);
    /// SCHED_IDLE never preempts and is always preempted; BATCH does not preempt.
    /// </summary>
    public override void WakeupPreempt(int cpu, ref TaskStruct p, WakeFlags flags)
    {
        int curr = _curr[cpu];
        if (curr < 0 || curr == p.Id || _core.Current(cpu) != curr || _core.NeedResched(cpu) || !Features.WakeupPreemption)
        {
            return;
        }
        ref var c = ref _tasks[curr];
        bool cseIdle = c.Policy == (uint)SchedPolicy.Idle;
        bool pseIdle = p.Policy == (uint)SchedPolicy.Idle;
        if (cseIdle && !pseIdle)
        {
            CancelProtectSlice(ref c.Se);
            _core.ReschedCurr(cpu);
            return;
        }
        if (cseIdle != pseIdle || (p.Policy != (uint)SchedPolicy.Normal && p.Policy != (uint)SchedPolicy.Ext))
        {
            return;
        }
        UpdateCurrFair(cpu);
        if (DoPreemptShort(cpu, p.Id, curr))
        {
            CancelProtectSlice(ref _tasks[curr].Se);
        }
        if (PickEevdf(cpu) == p.Id)
        {
            _core.ReschedCurr(cpu);
        }
    }

    /// <summary>yield_task_fair: an eligible yielder forfeits the rest of its request (vruntime = deadline).</summary>
    public override void YieldTask(int cpu)
    {
        int curr = _curr[cpu];
        if (curr < 0 || _core.NrRunning(cpu) == 1)
        {
            return;
        }
        UpdateCurrFair(cpu);
        ref var se = ref _tasks[curr].Se;
        if (EntityEligible(cpu, curr))
        {
            se.Vruntime = se.Deadline;
            UpdateDeadline(cpu, ref se);
        }
    }

    /// <summary>
    /// The fork-time part of __sched_fork for the entity (zeroed runtime and lag, the base slice, load weight from
    /// nice) and init_entity_runnable_average; placement happens at the first enqueue (wake_up_new_task:
    /// ENQUEUE_INITIAL). The core calls it for every new task, whatever its class, as sched_fork does.
    /// </summary>
    public override void TaskFork(ref TaskStruct p)
    {
        if (p.Se.Weight == 0 || p.Policy == (uint)SchedPolicy.Idle)
        {
            FairMath.SetLoadWeight(ref p); // set_load_weight: SCHED_IDLE weighs WEIGHT_IDLEPRIO
        }
        EnsureTask(p.Id);
        ref var se = ref p.Se;
        se.OnRq = 0;
        se.ExecStart = 0;
        se.SumExecRuntime = 0;
        se.PrevSumExecRuntime = 0;
        se.Vruntime = 0;
        se.Vlag = 0;
        ResetDelayed(p.Id, ref se);
        se.RelDeadline = 0;
        se.CustomSlice = 0;
        se.Slice = _baseSlice;
        _ft[p.Id].QueuedCpu = -1;
        InitEntityRunnableAverage(ref p);
    }

    /// <summary>task_dead_fair: a task that exited while delayed leaves the runqueue now; its load leaves the sums.</summary>
    public override void TaskDead(ref TaskStruct p)
    {
        int q = QueuedCpu(p.Id);
        if (p.Se.SchedDelayed != 0 && q >= 0)
        {
            FinishDelayedTask(q, p.Id);
        }
        EnsureTask(p.Id);
        RemoveEntityLoadAvg(p.Id);
    }

    /// <summary>switched_from_fair: detach_task_cfs_rq, the task's load leaves its cfs_rq.</summary>
    public override void SwitchedFrom(int cpu, ref TaskStruct p)
    {
        EnsureTask(p.Id);
        DetachEntityCfsRq(p.Id);
    }

    /// <summary>
    /// switched_to_fair: a queued task that joined the class preempts if pick_eevdf prefers it, or reschedules its CPU
    /// when it is running. EEVDF keeps no per-rq vruntime offset, so there is nothing to renormalise: the dequeue with
    /// DEQUEUE_SAVE saved vlag and the relative deadline, and the enqueue placed the task by them.
    /// </summary>
    public override void SwitchedTo(int cpu, ref TaskStruct p)
    {
        EnsureTask(p.Id);
        AttachEntityCfsRq(p.Id); // attach_task_cfs_rq
        if (p.OnRq == 0 || QueuedCpu(p.Id) != cpu)
        {
            return;
        }
        if (_core.Current(cpu) == p.Id)
        {
            _core.ReschedCurr(cpu);
        }
        else if (_core.Current(cpu) >= 0 && ReferenceEquals(_core.ClassOf(_tasks[_core.Current(cpu)]), this))
        {
            WakeupPreempt(cpu, ref p, WakeFlags.None);
        }
    }

    /// <summary>
    /// reweight_task_fair then prio_changed_fair: the core has already written the new load into
    /// <see cref="TaskStruct.Se"/>; the class reweights from the weight it accounted, keeping lag.
    /// </summary>
    public override void ReweightTask(int cpu, ref TaskStruct p)
    {
        EnsureTask(p.Id);
        ulong weight = p.Se.Weight;
        uint inv = p.Se.InvWeight;
        ulong old = _ft[p.Id].AccWeight;
        if (old == 0 || old == weight)
        {
            _ft[p.Id].AccWeight = weight;
            _ft[p.Id].AccInv = inv;
            return;
        }
        p.Se.Weight = old;
        p.Se.InvWeight = _ft[p.Id].AccInv;
        int q = QueuedCpu(p.Id);
        ReweightEntity(q, p.Id, weight, inv);
        _ft[p.Id].AccWeight = weight;
        _ft[p.Id].AccInv = inv;
        if (q < 0 || _nrRunning[q] == 1)
        {
            return;
        }
        if (_core.Current(q) == p.Id)
        {
            if (weight < old)
            {
                _core.ReschedCurr(q); // prio_changed_fair: the running task's priority decreased
            }
        }
        else if (_core.Current(q) >= 0 && ReferenceEquals(_core.ClassOf(_tasks[_core.Current(q)]), this))
        {
            WakeupPreempt(q, ref p, WakeFlags.None);
        }
    }


    /// <inheritdoc/>
    public override unsafe void PrefetchTask(int id)
    {
        if (Sse.IsSupported && (uint)id < (uint)_ft.Length)
        {
            byte* t = (byte*)Unsafe.AsPointer(ref _ft[id]);
            Sse.Prefetch0(t);
            Sse.Prefetch0(t + 39); // a 40-byte record may cross a line
            byte* a = (byte*)Unsafe.AsPointer(ref _seAvg[id]); // set_next_entity's PELT update reads it next
            Sse.Prefetch0(a);
            Sse.Prefetch0(a + 63);
        }
    }

    /// <summary>Grows the per-task arrays to hold <paramref name="id"/> (only when a new task appears).</summary>
    private void EnsureTask(int id)
    {
        if (id < _ft.Length)
        {
            RecordWeight(id);
            return;
        }
        int n = Math.Max(Math.Max(16, _ft.Length * 2), id + 1);
        EnsureDelayedBits(n - 1);
        int old = _ft.Length;
        Array.Resize(ref _ft, n);
        Array.Resize(ref _seAvg, n);
        for (int i = old; i < n; i++)
        {
            _ft[i].ListPrev = _ft[i].ListNext = _ft[i].QueuedCpu = _ft[i].ListCpu = -1;
        }
        RecordWeight(id);
    }

    private void RecordWeight(int id)
    {
        if (_ft[id].AccWeight == 0)
        {
            _ft[id].AccWeight = _tasks[id].Se.Weight;
            _ft[id].AccInv = _tasks[id].Se.InvWeight;
        }
    }

    // rq->cfs_tasks: list_add at the head on enqueue (and on set_next_task), the balancer scans from the tail.
    private void ListAdd(int cpu, int id)
    {
        int head = _tasksHead[cpu];
        _ft[id].ListPrev = -1;
        _ft[id].ListNext = head;
        if (head >= 0)
        {
            _ft[head].ListPrev = id;
        }
        _tasksHead[cpu] = id;
        _listTail[cpu] = head < 0 ? id : _listTail[cpu];
        _ft[id].ListCpu = cpu;
    }

    private void ListDel(int id)
    {
        int cpu = _ft[id].ListCpu;
        if (cpu < 0)
        {
            return;
        }
        int prev = _ft[id].ListPrev, next = _ft[id].ListNext;
        if (prev >= 0)
        {
            _ft[prev].ListNext = next;
        }
        else
        {
            _tasksHead[cpu] = next;
        }
        if (next >= 0)
        {
            _ft[next].ListPrev = prev;
        }
        else
        {
            _listTail[cpu] = prev;
        }
        _ft[id].ListPrev = _ft[id].ListNext = _ft[id].ListCpu = -1;
    }
}
