using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// One CPU's tasks_timeline (kernel/sched/fair.c: __enqueue_entity, __dequeue_entity, __pick_first_entity and the
/// search of pick_eevdf): the queued entities in the kernel's order — by deadline (signed difference, so wrap-around
/// is handled), equal deadlines in insertion order (rb_add puts an equal key to the right) — answering "the first
/// entity" and "the first eligible entity".
/// </summary>
/// <remarks>
/// The kernel keeps an rbtree augmented with each subtree's min_vruntime, and pick_eevdf descends it to the first
/// eligible node in order. Any ordered structure that can skip runs of ineligible entities by their minimum vruntime
/// gives the same answer; this one is a list of blocks of up to <see cref="BlockSize"/> entries, each block sorted
/// and summarised by its minimum vruntime and last key, with every CPU's entries in its own arrays. An rbtree (or a
/// treap) of per-task nodes costs a dependent cache miss per level for tasks not in cache (8–14 per enqueue, dequeue
/// and pick at 150 queued tasks per CPU); here a search reads the summaries (a few lines, contiguous) and one block,
/// addresses the processor can fetch together (<see cref="SortedBlockList{TValue}"/>, keyed by deadline, each entry's value its vruntime). Eligibility (vruntime_eligible) is monotone in vruntime, so a block
/// whose minimum is eligible holds an eligible entity and no earlier block does: the first such block's first
/// eligible entry is the kernel's pick. Deadlines and vruntimes are copies, valid because an entity's do not change
/// while it is queued (update_curr, place_entity and reweight work on entities outside the tree).
/// </remarks>
internal sealed class CfsTimeline() : SortedBlockList<ulong>(BlockSize, 4)
{
    /// <summary>Entries per block at most; a full block splits in two halves. 32 measured a little faster than 8, 16 or 64 at 150 tasks per CPU.</summary>
    public new const int BlockSize = 32;

    // Each block's minimum vruntime (the entries' values).
    private ulong[] _min = new ulong[4];

    /// <summary>__pick_first_entity: the entity with the earliest deadline, or −1.</summary>
    public int First => Blocks == 0 ? -1 : IdAt(Start(0));

    /// <summary>vruntime_eligible with pick_eevdf's sums (see FairSchedClass.EligibilitySums).</summary>
    private static bool Eligible(ulong vruntime, long avg, long load, ulong zero) => avg >= (long)(vruntime - zero) * load;

    /// <summary>
    /// The first entity in timeline order whose vruntime is eligible against <paramref name="avg"/> and
    /// <paramref name="load"/> (avg_vruntime and avg_load with curr folded in) about <paramref name="zero"/>, or −1;
    /// <paramref name="deadline"/> is its deadline (read here, so the caller need not touch the task).
    /// </summary>
    public int FirstEligible(long avg, long load, ulong zero, out ulong deadline)
    {
        for (int i = 0; i < Blocks; i++)
        {
            if (!Eligible(_min[i], avg, load, zero))
            {
                continue;
            }
            var entries = Entries;
            int b = Start(i);
            int end = b + CountOf(i);
            for (int e = b; e < end; e++)
            {
                if (Eligible(entries[e].Value, avg, load, zero))
                {
                    deadline = entries[e].Key;
                    return entries[e].Id;
                }
            }
        }
        deadline = 0;
        return -1;
    }

    /// <summary>__enqueue_entity: <paramref name="id"/> with its deadline and vruntime, after every equal deadline.</summary>
    public void Insert(int id, ulong deadline, ulong vruntime)
    {
        int i = InsertEntry(id, deadline, vruntime, out _);
        if (CountOf(i) == 1 || (long)(_min[i] - vruntime) > 0)
        {
            _min[i] = vruntime;
        }
    }

    /// <summary>__dequeue_entity: removes <paramref name="id"/>, queued with <paramref name="deadline"/>.</summary>
    /// <exception cref="InvalidOperationException">The entity is not in this timeline.</exception>
    public void Remove(int id, ulong deadline)
    {
        if (!TryRemove(id, deadline))
        {
            throw new InvalidOperationException($"fair: task {id} is not in the timeline it is being removed from");
        }
    }

    protected override void MoveBlocks(int from, int to, int count) => Array.Copy(_min, from, _min, to, count);

    protected override void ResizeBlocks(int length) => Array.Resize(ref _min, length);

    protected override void Shrunk(int i, ulong removed)
    {
        if (removed == _min[i])
        {
            _min[i] = MinOf(Start(i), CountOf(i));
        }
    }

    protected override void Split(int i, int half)
    {
        _min[i + 1] = MinOf(Start(i + 1), half);
        _min[i] = MinOf(Start(i), half);
    }

    protected override void Merged(int i)
    {
        if ((long)(_min[i] - _min[i + 1]) > 0)
        {
            _min[i] = _min[i + 1];
        }
    }

    /// <summary>The smallest vruntime of <paramref name="n"/> entries from <paramref name="b"/> (signed comparison, as vruntime_gt).</summary>
    private ulong MinOf(int b, int n)
    {
        var entries = Entries;
        ulong min = entries[b].Value;
        for (int e = b + 1; e < b + n; e++)
        {
            if ((long)(min - entries[e].Value) > 0)
            {
                min = entries[e].Value;
            }
        }
        return min;
    }
}
