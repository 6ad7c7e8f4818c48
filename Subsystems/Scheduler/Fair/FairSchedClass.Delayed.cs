namespace BpfSim.Scheduler.Fair;

// se->sched_delayed of every task, also as one bit per task id beside the entity's byte: pick_task_fair asks it of
// the task pick_eevdf returned, which is rarely in cache (with 10,000 tasks its entity's line was the largest single
// stall of a switch). The bits (1.25 KB for 10,000 tasks) stay cached, so the pick returns without touching the
// task and the switch puts prev while the picked task's prefetched lines arrive. Every write of the entity's
// sched_delayed goes through SetDelayed / ClearDelayed (the kernel's only two writes, set_delayed and clear_delayed in
// kernel/sched/fair.c, 6.12, which also count it in cfs_rq->h_nr_delayed) or a fork's ResetDelayed, so the two always
// agree.
public sealed partial class FairSchedClass
{
    private ulong[] _delayedBits = [];

    /// <summary>Whether <paramref name="id"/>'s entity is sched_delayed (DELAY_DEQUEUE kept it queued asleep), from the bitmap.</summary>
    internal bool IsDelayed(int id) => (uint)(id >> 6) < (uint)_delayedBits.Length && (_delayedBits[id >> 6] & (1UL << id)) != 0;

    private void SetDelayed(int cpu, int id, ref SchedEntity se)
    {
        se.SchedDelayed = 1;
        _delayedBits[id >> 6] |= 1UL << id;
        _nrDelayed[cpu]++;
    }

    private void ClearDelayed(int cpu, int id, ref SchedEntity se)
    {
        ResetDelayed(id, ref se);
        _nrDelayed[cpu]--;
    }

    /// <summary>A forked entity is not delayed (the kernel copies the running parent's, never delayed); no runqueue counted it.</summary>
    private void ResetDelayed(int id, ref SchedEntity se)
    {
        se.SchedDelayed = 0;
        if ((uint)(id >> 6) < (uint)_delayedBits.Length)
        {
            _delayedBits[id >> 6] &= ~(1UL << id);
        }
    }

    /// <summary>Grows the bitmap to hold <paramref name="id"/> (with the per-task arrays).</summary>
    private void EnsureDelayedBits(int id)
    {
        if (id >> 6 >= _delayedBits.Length)
        {
            Array.Resize(ref _delayedBits, Math.Max(_delayedBits.Length * 2, (id >> 6) + 1));
        }
    }
}
