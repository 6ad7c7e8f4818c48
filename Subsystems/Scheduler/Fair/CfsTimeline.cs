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
/// addresses the processor can fetch together. Eligibility (vruntime_eligible) is monotone in vruntime, so a block
/// whose minimum is eligible holds an eligible entity and no earlier block does: the first such block's first
/// eligible entry is the kernel's pick. Deadlines and vruntimes are copies, valid because an entity's do not change
/// while it is queued (update_curr, place_entity and reweight work on entities outside the tree).
/// </remarks>
internal sealed class CfsTimeline
{
    /// <summary>Entries per block at most; a full block splits in two halves. 32 measured a little faster than 8, 16 or 64 at 150 tasks per CPU.</summary>
    public const int BlockSize = 32;

    // A block left with fewer entries than this after a removal merges with a neighbour that has room, so blocks stay
    // at least about a quarter full and a search reads few summaries.
    private const int MergeBelow = BlockSize / 4;

    // Entries, block by block: physical block p holds entries [p × BlockSize, p × BlockSize + its count), sorted.
    private ulong[] _deadline = new ulong[4 * BlockSize];
    private ulong[] _vruntime = new ulong[4 * BlockSize];
    private ulong[] _seq = new ulong[4 * BlockSize];
    private int[] _id = new int[4 * BlockSize];
    private int[] _free = [3, 2, 1, 0];
    private int _freeCount = 4;

    // The blocks in timeline order (index i), each with its physical block, count, minimum vruntime and last key.
    private int[] _phys = new int[4];
    private int[] _count = new int[4];
    private ulong[] _min = new ulong[4];
    private ulong[] _lastDeadline = new ulong[4];
    private ulong[] _lastSeq = new ulong[4];
    private int _blocks;

    /// <summary>Entities queued.</summary>
    public int Count { get; private set; }

    /// <summary>__pick_first_entity: the entity with the earliest deadline, or −1.</summary>
    public int First => _blocks == 0 ? -1 : _id[_phys[0] * BlockSize];

    /// <summary>entity_before on keys: an earlier deadline, or an equal one inserted earlier.</summary>
    private static bool Before(ulong deadline, ulong seq, ulong otherDeadline, ulong otherSeq)
    {
        long d = (long)(deadline - otherDeadline);
        return d < 0 || (d == 0 && seq < otherSeq);
    }

    /// <summary>vruntime_eligible with pick_eevdf's sums (see FairSchedClass.EligibilitySums).</summary>
    private static bool Eligible(ulong vruntime, long avg, long load, ulong zero) => avg >= (long)(vruntime - zero) * load;

    /// <summary>
    /// The first entity in timeline order whose vruntime is eligible against <paramref name="avg"/> and
    /// <paramref name="load"/> (avg_vruntime and avg_load with curr folded in) about <paramref name="zero"/>, or −1;
    /// <paramref name="deadline"/> is its deadline (read here, so the caller need not touch the task).
    /// </summary>
    public int FirstEligible(long avg, long load, ulong zero, out ulong deadline)
    {
        for (int i = 0; i < _blocks; i++)
        {
            if (!Eligible(_min[i], avg, load, zero))
            {
                continue;
            }
            int b = _phys[i] * BlockSize;
            int end = b + _count[i];
            for (int e = b; e < end; e++)
            {
                if (Eligible(_vruntime[e], avg, load, zero))
                {
                    deadline = _deadline[e];
                    return _id[e];
                }
            }
        }
        deadline = 0;
        return -1;
    }

    /// <summary>__enqueue_entity: <paramref name="id"/> with its deadline, vruntime and insertion order (unique, increasing).</summary>
    public void Insert(int id, ulong deadline, ulong vruntime, ulong seq)
    {
        if (_blocks == 0)
        {
            AddBlock(0, AllocateBlock());
        }
        int i = BlockFor(deadline, seq);
        if (_count[i] == BlockSize)
        {
            Split(i);
            if (!Before(deadline, seq, _lastDeadline[i], _lastSeq[i]))
            {
                i++;
            }
        }
        int b = _phys[i] * BlockSize;
        int n = _count[i];
        // Insertion from the end: entries after the new one move up by one.
        int e = b + n;
        while (e > b && Before(deadline, seq, _deadline[e - 1], _seq[e - 1]))
        {
            _deadline[e] = _deadline[e - 1];
            _vruntime[e] = _vruntime[e - 1];
            _seq[e] = _seq[e - 1];
            _id[e] = _id[e - 1];
            e--;
        }
        _deadline[e] = deadline;
        _vruntime[e] = vruntime;
        _seq[e] = seq;
        _id[e] = id;
        if (n == 0 || (long)(_min[i] - vruntime) > 0)
        {
            _min[i] = vruntime;
        }
        if (e == b + n)
        {
            _lastDeadline[i] = deadline;
            _lastSeq[i] = seq;
        }
        _count[i] = n + 1;
        Count++;
    }

    /// <summary>__dequeue_entity: removes <paramref name="id"/>, queued with <paramref name="deadline"/>.</summary>
    /// <exception cref="InvalidOperationException">The entity is not in this timeline.</exception>
    public void Remove(int id, ulong deadline)
    {
        // The first block whose last deadline is not before this one; equal deadlines may run on into later blocks.
        int lo = 0, hi = _blocks;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if ((long)(_lastDeadline[mid] - deadline) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        for (int i = lo; i < _blocks; i++)
        {
            int b = _phys[i] * BlockSize;
            int n = _count[i];
            for (int e = b; e < b + n; e++)
            {
                if (_id[e] == id)
                {
                    RemoveAt(i, e - b);
                    return;
                }
            }
            if ((long)(_lastDeadline[i] - deadline) > 0)
            {
                break;
            }
        }
        throw new InvalidOperationException($"fair: task {id} is not in the timeline it is being removed from");
    }

    private void RemoveAt(int i, int k)
    {
        int b = _phys[i] * BlockSize;
        int n = _count[i] - 1;
        ulong removed = _vruntime[b + k];
        for (int e = b + k; e < b + n; e++)
        {
            _deadline[e] = _deadline[e + 1];
            _vruntime[e] = _vruntime[e + 1];
            _seq[e] = _seq[e + 1];
            _id[e] = _id[e + 1];
        }
        _count[i] = n;
        Count--;
        if (n == 0)
        {
            _free[_freeCount++] = _phys[i];
            RemoveBlock(i);
            return;
        }
        if (k == n)
        {
            _lastDeadline[i] = _deadline[b + n - 1];
            _lastSeq[i] = _seq[b + n - 1];
        }
        if (removed == _min[i])
        {
            _min[i] = MinOf(b, n);
        }
        if (n < MergeBelow)
        {
            if (i + 1 < _blocks && n + _count[i + 1] <= BlockSize - MergeBelow)
            {
                Merge(i);
            }
            else if (i > 0 && n + _count[i - 1] <= BlockSize - MergeBelow)
            {
                Merge(i - 1);
            }
        }
    }

    /// <summary>The smallest vruntime of <paramref name="n"/> entries from <paramref name="b"/> (signed comparison, as vruntime_gt).</summary>
    private ulong MinOf(int b, int n)
    {
        ulong min = _vruntime[b];
        for (int e = b + 1; e < b + n; e++)
        {
            if ((long)(min - _vruntime[e]) > 0)
            {
                min = _vruntime[e];
            }
        }
        return min;
    }

    /// <summary>The block a new key goes into: the first whose last key is after it, else the last block.</summary>
    private int BlockFor(ulong deadline, ulong seq)
    {
        int lo = 0, hi = _blocks - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (Before(deadline, seq, _lastDeadline[mid], _lastSeq[mid]))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /// <summary>Moves the upper half of full block <paramref name="i"/> into a new block after it.</summary>
    private void Split(int i)
    {
        int q = AllocateBlock();
        int p = _phys[i];
        const int Half = BlockSize / 2;
        Array.Copy(_deadline, (p * BlockSize) + Half, _deadline, q * BlockSize, Half);
        Array.Copy(_vruntime, (p * BlockSize) + Half, _vruntime, q * BlockSize, Half);
        Array.Copy(_seq, (p * BlockSize) + Half, _seq, q * BlockSize, Half);
        Array.Copy(_id, (p * BlockSize) + Half, _id, q * BlockSize, Half);
        AddBlock(i + 1, q);
        _count[i + 1] = Half;
        _lastDeadline[i + 1] = _lastDeadline[i];
        _lastSeq[i + 1] = _lastSeq[i];
        _min[i + 1] = MinOf(q * BlockSize, Half);
        _count[i] = Half;
        _lastDeadline[i] = _deadline[(p * BlockSize) + Half - 1];
        _lastSeq[i] = _seq[(p * BlockSize) + Half - 1];
        _min[i] = MinOf(p * BlockSize, Half);
    }

    /// <summary>Appends block <paramref name="i"/> + 1's entries to block <paramref name="i"/> and frees it.</summary>
    private void Merge(int i)
    {
        int to = (_phys[i] * BlockSize) + _count[i];
        int q = _phys[i + 1];
        int n = _count[i + 1];
        Array.Copy(_deadline, q * BlockSize, _deadline, to, n);
        Array.Copy(_vruntime, q * BlockSize, _vruntime, to, n);
        Array.Copy(_seq, q * BlockSize, _seq, to, n);
        Array.Copy(_id, q * BlockSize, _id, to, n);
        _count[i] += n;
        _lastDeadline[i] = _lastDeadline[i + 1];
        _lastSeq[i] = _lastSeq[i + 1];
        if ((long)(_min[i] - _min[i + 1]) > 0)
        {
            _min[i] = _min[i + 1];
        }
        _free[_freeCount++] = q;
        RemoveBlock(i + 1);
    }

    private int AllocateBlock()
    {
        if (_freeCount == 0)
        {
            int old = _free.Length;
            int n = old * 2;
            Array.Resize(ref _deadline, n * BlockSize);
            Array.Resize(ref _vruntime, n * BlockSize);
            Array.Resize(ref _seq, n * BlockSize);
            Array.Resize(ref _id, n * BlockSize);
            Array.Resize(ref _free, n);
            for (int p = n - 1; p >= old; p--)
            {
                _free[_freeCount++] = p;
            }
        }
        return _free[--_freeCount];
    }

    /// <summary>Puts physical block <paramref name="p"/> at position <paramref name="i"/> of the order (empty).</summary>
    private void AddBlock(int i, int p)
    {
        if (_blocks == _phys.Length)
        {
            int n = _phys.Length * 2;
            Array.Resize(ref _phys, n);
            Array.Resize(ref _count, n);
            Array.Resize(ref _min, n);
            Array.Resize(ref _lastDeadline, n);
            Array.Resize(ref _lastSeq, n);
        }
        int move = _blocks - i;
        Array.Copy(_phys, i, _phys, i + 1, move);
        Array.Copy(_count, i, _count, i + 1, move);
        Array.Copy(_min, i, _min, i + 1, move);
        Array.Copy(_lastDeadline, i, _lastDeadline, i + 1, move);
        Array.Copy(_lastSeq, i, _lastSeq, i + 1, move);
        _phys[i] = p;
        _count[i] = 0;
        _blocks++;
    }

    private void RemoveBlock(int i)
    {
        int move = _blocks - i - 1;
        Array.Copy(_phys, i + 1, _phys, i, move);
        Array.Copy(_count, i + 1, _count, i, move);
        Array.Copy(_min, i + 1, _min, i, move);
        Array.Copy(_lastDeadline, i + 1, _lastDeadline, i, move);
        Array.Copy(_lastSeq, i + 1, _lastSeq, i, move);
        _blocks--;
    }
}
