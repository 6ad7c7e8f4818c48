namespace BpfSim.Scheduler.Ext;

/// <summary>
/// One DSQ's dsq->priq (kernel/sched/ext.c 6.12: dispatch_enqueue's rb_add with scx_dsq_priq_less, and the list
/// insert after rb_prev): its PRIQ tasks ordered by (vtime, insertion order), so that equal vtimes keep arrival order
/// as rb_add puts an equal key after; it answers where a new task's list insert goes (the last task whose vtime is not
/// after the new one's).
/// </summary>
/// <remarks>
/// In blocks of up to <see cref="BlockSize"/> sorted entries, each summarised by its last key, in the DSQ's own arrays
/// (the same shape as the fair class's CfsTimeline). A tree of per-task nodes costs a dependent cache miss per level
/// for tasks not in cache — about 20 levels with scx_simple's 10,000 tasks in one DSQ — where a search here is a
/// binary search over the summaries (a few kilobytes, contiguous) and a scan of one block.
/// </remarks>
internal sealed class DsqPriq
{
    /// <summary>Entries per block at most; a full block splits in two halves.</summary>
    public const int BlockSize = 64;

    // A block left with fewer entries than this after a removal merges with a neighbour that has room.
    private const int MergeBelow = BlockSize / 4;

    // Entries, block by block: physical block p holds entries [p × BlockSize, p × BlockSize + its count), sorted.
    private ulong[] _key = new ulong[2 * BlockSize];
    private ulong[] _order = new ulong[2 * BlockSize];
    private int[] _id = new int[2 * BlockSize];
    private int[] _free = [1, 0];
    private int _freeCount = 2;

    // The blocks in queue order (index i): physical block, count and last key.
    private int[] _phys = new int[2];
    private int[] _count = new int[2];
    private ulong[] _lastKey = new ulong[2];
    private ulong[] _lastOrder = new ulong[2];
    private int _blocks;

    /// <summary>Tasks queued.</summary>
    public int Count { get; private set; }

    /// <summary>(a, a's order) before (b, b's order): an earlier vtime (time_before64), or an equal one inserted earlier.</summary>
    private static bool Before(ulong key, ulong order, ulong otherKey, ulong otherOrder)
    {
        long d = (long)(key - otherKey);
        return d < 0 || (d == 0 && order < otherOrder);
    }

    /// <summary>The last task whose vtime is not after <paramref name="vtime"/> (rb_prev of a new node), or −1.</summary>
    public int Predecessor(ulong vtime)
    {
        // The first block whose last vtime is after this one: the predecessor is in it, or is the last of the one before.
        int lo = 0, hi = _blocks;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if ((long)(vtime - _lastKey[mid]) >= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        if (lo < _blocks)
        {
            int b = _phys[lo] * BlockSize;
            for (int e = b + _count[lo] - 1; e >= b; e--)
            {
                if ((long)(vtime - _key[e]) >= 0)
                {
                    return _id[e];
                }
            }
        }
        if (lo == 0)
        {
            return -1;
        }
        return _id[(_phys[lo - 1] * BlockSize) + _count[lo - 1] - 1];
    }

    /// <summary>rb_add: <paramref name="id"/> with its vtime and insertion order (unique, increasing).</summary>
    public void Insert(int id, ulong key, ulong order)
    {
        if (_blocks == 0)
        {
            AddBlock(0, AllocateBlock());
        }
        int i = BlockFor(key, order);
        if (_count[i] == BlockSize)
        {
            Split(i);
            if (!Before(key, order, _lastKey[i], _lastOrder[i]))
            {
                i++;
            }
        }
        int b = _phys[i] * BlockSize;
        int n = _count[i];
        int e = b + n;
        while (e > b && Before(key, order, _key[e - 1], _order[e - 1]))
        {
            _key[e] = _key[e - 1];
            _order[e] = _order[e - 1];
            _id[e] = _id[e - 1];
            e--;
        }
        _key[e] = key;
        _order[e] = order;
        _id[e] = id;
        if (e == b + n)
        {
            _lastKey[i] = key;
            _lastOrder[i] = order;
        }
        _count[i] = n + 1;
        Count++;
    }

    /// <summary>rb_erase: removes <paramref name="id"/>, inserted with vtime <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The task is not in this queue.</exception>
    public void Remove(int id, ulong key)
    {
        // The first block whose last vtime is not before this one; equal vtimes may run on into later blocks.
        int lo = 0, hi = _blocks;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if ((long)(_lastKey[mid] - key) < 0)
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
            if ((long)(_lastKey[i] - key) > 0)
            {
                break;
            }
        }
        throw new InvalidOperationException($"sched_ext: task {id} is not in the vtime queue it is being removed from");
    }

    private void RemoveAt(int i, int k)
    {
        int b = _phys[i] * BlockSize;
        int n = _count[i] - 1;
        int move = n - k;
        Array.Copy(_key, b + k + 1, _key, b + k, move);
        Array.Copy(_order, b + k + 1, _order, b + k, move);
        Array.Copy(_id, b + k + 1, _id, b + k, move);
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
            _lastKey[i] = _key[b + n - 1];
            _lastOrder[i] = _order[b + n - 1];
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

    /// <summary>The block a new key goes into: the first whose last key is after it, else the last block.</summary>
    private int BlockFor(ulong key, ulong order)
    {
        int lo = 0, hi = _blocks - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (Before(key, order, _lastKey[mid], _lastOrder[mid]))
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
        const int Half = BlockSize / 2;
        int q = AllocateBlock();
        int from = (_phys[i] * BlockSize) + Half;
        Array.Copy(_key, from, _key, q * BlockSize, Half);
        Array.Copy(_order, from, _order, q * BlockSize, Half);
        Array.Copy(_id, from, _id, q * BlockSize, Half);
        AddBlock(i + 1, q);
        _count[i + 1] = Half;
        _lastKey[i + 1] = _lastKey[i];
        _lastOrder[i + 1] = _lastOrder[i];
        _count[i] = Half;
        _lastKey[i] = _key[from - 1];
        _lastOrder[i] = _order[from - 1];
    }

    /// <summary>Appends block <paramref name="i"/> + 1's entries to block <paramref name="i"/> and frees it.</summary>
    private void Merge(int i)
    {
        int to = (_phys[i] * BlockSize) + _count[i];
        int q = _phys[i + 1];
        int n = _count[i + 1];
        Array.Copy(_key, q * BlockSize, _key, to, n);
        Array.Copy(_order, q * BlockSize, _order, to, n);
        Array.Copy(_id, q * BlockSize, _id, to, n);
        _count[i] += n;
        _lastKey[i] = _lastKey[i + 1];
        _lastOrder[i] = _lastOrder[i + 1];
        _free[_freeCount++] = q;
        RemoveBlock(i + 1);
    }

    private int AllocateBlock()
    {
        if (_freeCount == 0)
        {
            int old = _free.Length;
            int n = old * 2;
            Array.Resize(ref _key, n * BlockSize);
            Array.Resize(ref _order, n * BlockSize);
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
            Array.Resize(ref _lastKey, n);
            Array.Resize(ref _lastOrder, n);
        }
        int move = _blocks - i;
        Array.Copy(_phys, i, _phys, i + 1, move);
        Array.Copy(_count, i, _count, i + 1, move);
        Array.Copy(_lastKey, i, _lastKey, i + 1, move);
        Array.Copy(_lastOrder, i, _lastOrder, i + 1, move);
        _phys[i] = p;
        _count[i] = 0;
        _blocks++;
    }

    private void RemoveBlock(int i)
    {
        int move = _blocks - i - 1;
        Array.Copy(_phys, i + 1, _phys, i, move);
        Array.Copy(_count, i + 1, _count, i, move);
        Array.Copy(_lastKey, i + 1, _lastKey, i, move);
        Array.Copy(_lastOrder, i + 1, _lastOrder, i, move);
        _blocks--;
    }
}
