namespace BpfSim.Scheduler.Fair;

// se->sched_delayed of every task, also as one bit per task id beside the entity's byte: pick_task_fair asks it of
// the task pick_eevdf returned, which is rarely in cache (with 10,000 tasks its entity's line was the largest single
// stall of a switch). The bits (1.25 KB for 10,000 tasks) stay cached, so the pick returns without touching the
// task and the switch puts prev while the picked task's prefetched lines arrive. Every write of the entity's
// sched_delayed goes through SetDelayed / ClearDelayedBit, as the kernel's only two writes are set_delayed and
// clear_delayed (kernel/sched/fair.c, 6.12), so the two always agree.
public sealed partial class FairSchedClass
{
    private ulong[] _delayedBits = [];

    /// <summary>Whether <paramref name="id"/>'s entity is sched_delayed (DELAY_DEQUEUE kept it queued asleep), from the bitmap.</summary>
    internal bool IsDelayed(int id) => (uint)(id >> 6) < (uint)_delayedBits.Length && (_delayedBits[id >> 6] & (1UL << id)) != 0;

    private void SetDelayed(int id, ref SchedEntity se)
    {
        se.SchedDelayed = 1;
        _delayedBits[id >> 6] |= 1UL << id;
    }

    private void ClearDelayedBit(int id, ref SchedEntity se)
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
