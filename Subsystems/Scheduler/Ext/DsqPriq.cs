using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// One DSQ's dsq->priq (kernel/sched/ext.c 6.12: dispatch_enqueue's rb_add with scx_dsq_priq_less, and the list
/// insert after rb_prev): its PRIQ tasks ordered by (vtime, insertion order), so that equal vtimes keep arrival order
/// as rb_add puts an equal key after; an insert answers where the new task's list insert goes (the last task whose vtime
/// is not after the new one's).
/// </summary>
/// <remarks>
/// In blocks of up to <see cref="BlockSize"/> sorted entries, each summarised by its last key, in the DSQ's own arrays
/// (<see cref="SortedBlockList{TValue}"/>, as the fair class's CfsTimeline). A tree of per-task nodes costs a dependent cache miss per level
/// for tasks not in cache — about 20 levels with scx_simple's 10,000 tasks in one DSQ — where a search here is a
/// binary search over the summaries (a few kilobytes, contiguous) and a scan of one block.
/// </remarks>
internal sealed class DsqPriq() : SortedBlockList<byte>(BlockSize, 2)
{
    /// <summary>Entries per block at most; a full block splits in two halves.</summary>
    public new const int BlockSize = 64;

    /// <summary>
    /// rb_add: <paramref name="id"/> with its vtime, after every equal vtime (the latest insert). Returns rb_prev of the new node — the last task whose vtime is not after
    /// <paramref name="key"/> (its vtime), which the list insert goes after — or −1, from the one search.
    /// </summary>
    public int Insert(int id, ulong key)
    {
        int i = InsertEntry(id, key, 0, out int e);
        return IdBefore(i, e);
    }

    /// <summary>rb_erase: removes <paramref name="id"/>, inserted with vtime <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The task is not in this queue.</exception>
    public void Remove(int id, ulong key)
    {
        if (!TryRemove(id, key))
        {
            throw new InvalidOperationException($"sched_ext: task {id} is not in the vtime queue it is being removed from");
        }
    }

    // Nothing beside the keys (the entries' value is unused): the list's own arrays are all a DSQ needs.
    protected override void MoveBlocks(int from, int to, int count)
    {
    }

    protected override void ResizeBlocks(int length)
    {
    }
}
