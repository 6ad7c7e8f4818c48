namespace BpfSim.Scheduler.Fair;

// The tasks_timeline of each cfs_rq (kernel/sched/fair.c: __enqueue_entity, __dequeue_entity, __pick_first_entity,
// pick_eevdf), one CfsTimeline per CPU: the kernel's order (deadline, then insertion order) and its pick (the first
// eligible entity in that order), in per-CPU blocks instead of an augmented tree of per-task nodes (see CfsTimeline).
public sealed partial class FairSchedClass
{
    private readonly CfsTimeline[] _timeline;
    private ulong _insertions;

    /// <summary>__enqueue_entity: into the timeline, and into avg_vruntime.</summary>
    private void EnqueueTimeline(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        AvgVruntimeAdd(cpu, ref se);
        // se->min_vruntime is the minimum of the entity's rbtree subtree, which depends on the tree's shape; bpfsim has
        // no rbtree, and keeps the entity's own vruntime there (a leaf's value), as it is when the kernel inserts it.
        se.MinVruntime = se.Vruntime;
        _ft[id].Seq = ++_insertions;
        _timeline[cpu].Insert(id, se.Deadline, se.Vruntime);
    }

    /// <summary>__dequeue_entity: out of the timeline, and out of avg_vruntime.</summary>
    private void DequeueTimeline(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        _timeline[cpu].Remove(id, se.Deadline);
        AvgVruntimeSub(cpu, ref se);
    }

    /// <summary>__pick_first_entity: the leftmost (earliest deadline) entity, or −1.</summary>
    private int FirstEntity(int cpu) => _timeline[cpu].First;

    /// <summary>
    /// pick_eevdf: the eligible entity with the earliest virtual deadline, curr included (curr is not in the tree);
    /// RUN_TO_PARITY keeps an eligible curr while its slice is protected.
    /// </summary>
    public int PickEevdf(int cpu)
    {
        int curr = _curr[cpu];
        int first = FirstEntity(cpu);
        if (_nrRunning[cpu] == 1)
        {
            return curr >= 0 && _tasks[curr].Se.OnRq != 0 ? curr : first;
        }
        if (curr >= 0 && (_tasks[curr].Se.OnRq == 0 || !EntityEligible(cpu, curr)))
        {
            curr = -1;
        }
        if (Features.RunToParity && curr >= 0 && ProtectSlice(ref _tasks[curr].Se))
        {
            return curr;
        }
        // vruntime_eligible's sums (curr folded in) once for the whole search: nothing changes them during it.
        EligibilitySums(cpu, out long avg, out long load);
        int best = _timeline[cpu].FirstEligible(avg, load, _zeroVruntime[cpu], out ulong deadline);
        if (best < 0 || (curr >= 0 && (long)(_tasks[curr].Se.Deadline - deadline) < 0))
        {
            best = curr; // entity_before(curr, best): strictly earlier deadline
        }
        return best;
    }

    /// <summary>entity_before on two tasks' entities (do_preempt_short): strictly earlier deadline.</summary>
    private bool DeadlineBefore(int a, int b) => (long)(_tasks[a].Se.Deadline - _tasks[b].Se.Deadline) < 0;

    /// <summary>
    /// The order in which <paramref name="taskId"/> last entered a timeline (larger = later): among equal deadlines the
    /// earlier one is picked, as rb_add's equal-key-to-the-right order has it.
    /// </summary>
    public ulong InsertionOrder(int taskId) => _ft[taskId].Seq;
}
