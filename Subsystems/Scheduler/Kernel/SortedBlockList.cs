namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// Entries ordered by key — compared as a signed difference, so wrap-around is handled — and equal keys in insertion
/// order, as rb_add puts an equal key after (each insert is the latest, so it goes after every equal key) — in
/// blocks of up to a fixed number of sorted entries, each block summarised by its last key, in arrays of the list's
/// own. It stands in for the kernel's rbtrees of per-task nodes (fair's tasks_timeline, a DSQ's priq): a tree walk
/// costs a dependent cache miss per level for tasks not in cache, where a search here is a binary search over the
/// summaries (contiguous) and a scan of one block. Each entry carries a value of the subclass's
/// (<typeparamref name="TValue"/>) beside its key and id, in one struct, so an insert or a removal shifts one array; a
/// subclass keeps per-block values in arrays of its own, which the hooks keep in step.
/// </summary>
internal abstract class SortedBlockList<TValue>
    where TValue : unmanaged
{
    // Entries, block by block: the block in physical slot p holds entries [p × BlockSize + its first, that + its
    // count), sorted. A block's entries may start past its slot's beginning, so an insert or a removal shifts whichever
    // side of the place is shorter (removals are mostly near the front: the pick takes an early deadline).
    private SortedBlockEntry<TValue>[] _entries;
    private int[] _free;
    private int _freeCount;

    // The blocks in order (index i): physical slot, first entry's offset in the slot, count and last key.
    private int[] _phys;
    private int[] _first;
    private int[] _count;
    private ulong[] _lastKey;
    private int _blocks;

    protected SortedBlockList(int blockSize, int initialBlocks)
    {
        BlockSize = blockSize;
        MergeBelow = blockSize / 4;
        _entries = new SortedBlockEntry<TValue>[initialBlocks * blockSize];
        _free = [.. Enumerable.Range(0, initialBlocks).Reverse()];
        _freeCount = initialBlocks;
        _phys = new int[initialBlocks];
        _first = new int[initialBlocks];
        _count = new int[initialBlocks];
        _lastKey = new ulong[initialBlocks];
    }

    /// <summary>Entries per block at most; a full block splits in two halves.</summary>
    protected int BlockSize { get; }

    // A block left with fewer entries than this after a removal merges with a neighbour that has room, so blocks stay
    // at least about a quarter full and a search reads few summaries.
    private int MergeBelow { get; }

    /// <summary>Entries held.</summary>
    public int Count { get; private set; }

    protected int Blocks => _blocks;

    /// <summary>The entries, block by block (see <see cref="Start"/> and <see cref="CountOf"/>).</summary>
    protected SortedBlockEntry<TValue>[] Entries => _entries;

    /// <summary>The first entry of block <paramref name="i"/> in <see cref="Entries"/>.</summary>
    protected int Start(int i) => (_phys[i] * BlockSize) + _first[i];

    protected int CountOf(int i) => _count[i];

    protected ulong KeyAt(int entry) => _entries[entry].Key;

    protected int IdAt(int entry) => _entries[entry].Id;

    /// <summary>
    /// The id of the entry just before entry <paramref name="entry"/> of block <paramref name="i"/> in the list's order
    /// (the last of the block before when it is its block's first), or −1 for the first entry.
    /// </summary>
    protected int IdBefore(int i, int entry)
    {
        if (entry > Start(i))
        {
            return _entries[entry - 1].Id;
        }
        return i > 0 ? _entries[Start(i - 1) + _count[i - 1] - 1].Id : -1;
    }

    /// <summary>
    /// A new entry goes before an entry with <paramref name="otherKey"/>: its key is earlier. An equal key is not
    /// (the new entry is the latest inserted, so it goes after every equal key, as rb_add puts an equal key after).
    /// </summary>
    private static bool Before(ulong key, ulong otherKey) => (long)(key - otherKey) < 0;

    /// <summary>
    /// Adds <paramref name="id"/> with its key and value, after every entry with an equal key; <paramref name="entry"/>
    /// is where it went. Returns its block.
    /// </summary>
    protected int InsertEntry(int id, ulong key, TValue value, out int entry)
    {
        if (_blocks == 0)
        {
            AddBlock(0, AllocateBlock());
        }
        int i = BlockFor(key);
        if (_count[i] == BlockSize)
        {
            Split(i);
            if (!Before(key, _lastKey[i]))
            {
                i++;
            }
        }
        int slot = _phys[i] * BlockSize;
        int b = slot + _first[i];
        int n = _count[i];
        var entries = _entries;
        int e;
        bool back = b + n < slot + BlockSize;
        if (_first[i] > 0 && (!back || (n > 1 && Before(key, entries[b + (n >> 1)].Key))))
        {
            // Into the lower half (or no room after the block): the entries before the new one move down by one.
            e = b - 1;
            while (e + 1 < b + n && !Before(key, entries[e + 1].Key))
            {
                entries[e] = entries[e + 1];
                e++;
            }
            b--;
            _first[i]--;
        }
        else
        {
            // From the end: the entries after the new one move up by one (element by element: a block's few entries
            // move faster so than through a memmove's call).
            e = b + n;
            while (e > b && Before(key, entries[e - 1].Key))
            {
                entries[e] = entries[e - 1];
                e--;
            }
        }
        entries[e] = new SortedBlockEntry<TValue> { Key = key, Value = value, Id = id };
        if (e == b + n)
        {
            _lastKey[i] = key;
        }
        _count[i] = n + 1;
        Count++;
        entry = e;
        return i;
    }

    /// <summary>Removes <paramref name="id"/>, added with <paramref name="key"/>; false if it is not here.</summary>
    protected bool TryRemove(int id, ulong key)
    {
        // The first block whose last key is not before this one; equal keys may run on into later blocks.
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
        var entries = _entries;
        for (int i = lo; i < _blocks; i++)
        {
            int b = Start(i);
            int n = _count[i];
            for (int e = b; e < b + n; e++)
            {
                if (entries[e].Id == id)
                {
                    RemoveAt(i, e - b);
                    return true;
                }
            }
            if ((long)(_lastKey[i] - key) > 0)
            {
                break;
            }
        }
        return false;
    }

    /// <summary>The block arrays grow to <paramref name="length"/>.</summary>
    protected abstract void ResizeBlocks(int length);

    /// <summary>The subclass's per-block values of <paramref name="count"/> blocks move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    protected abstract void MoveBlocks(int from, int to, int count);

    /// <summary>Block <paramref name="i"/> lost an entry with value <paramref name="removed"/> and still holds some (before any merge).</summary>
    protected virtual void Shrunk(int i, TValue removed)
    {
    }

    /// <summary>Block <paramref name="i"/> was split: its upper half is now block <paramref name="i"/> + 1.</summary>
    protected virtual void Split(int i, int half)
    {
    }

    /// <summary>Block <paramref name="i"/> + 1's entries were appended to block <paramref name="i"/>; it is removed next.</summary>
    protected virtual void Merged(int i)
    {
    }

    private void RemoveAt(int i, int k)
    {
        int b = Start(i);
        int n = _count[i] - 1;
        var entries = _entries;
        TValue removed = entries[b + k].Value;
        if (k < n - k)
        {
            // Nearer the front: the entries before it move up by one, and the block starts one later.
            for (int e = b + k; e > b; e--)
            {
                entries[e] = entries[e - 1];
            }
            _first[i]++;
            b++;
        }
        else
        {
            for (int e = b + k; e < b + n; e++)
            {
                entries[e] = entries[e + 1];
            }
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
            _lastKey[i] = entries[b + n - 1].Key;
        }
        Shrunk(i, removed);
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
    private int BlockFor(ulong key)
    {
        int lo = 0, hi = _blocks - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (Before(key, _lastKey[mid]))
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
        int half = BlockSize / 2;
        int q = AllocateBlock();
        int from = Start(i) + half;
        Array.Copy(_entries, from, _entries, q * BlockSize, half);
        AddBlock(i + 1, q);
        _count[i + 1] = half;
        _lastKey[i + 1] = _lastKey[i];
        _count[i] = half;
        _lastKey[i] = _entries[from - 1].Key;
        Split(i, half);
    }

    /// <summary>Appends block <paramref name="i"/> + 1's entries to block <paramref name="i"/> and frees it.</summary>
    private void Merge(int i)
    {
        if (_first[i] + _count[i] + _count[i + 1] > BlockSize)
        {
            // Not enough room after the block's entries: they move to the slot's beginning first.
            Array.Copy(_entries, Start(i), _entries, _phys[i] * BlockSize, _count[i]);
            _first[i] = 0;
        }
        int to = Start(i) + _count[i];
        int q = _phys[i + 1];
        int n = _count[i + 1];
        Array.Copy(_entries, Start(i + 1), _entries, to, n);
        _count[i] += n;
        _lastKey[i] = _lastKey[i + 1];
        Merged(i);
        _free[_freeCount++] = q;
        RemoveBlock(i + 1);
    }

    private int AllocateBlock()
    {
        if (_freeCount == 0)
        {
            int old = _free.Length;
            int n = old * 2;
            Array.Resize(ref _entries, n * BlockSize);
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
            Array.Resize(ref _first, n);
            Array.Resize(ref _count, n);
            Array.Resize(ref _lastKey, n);
            ResizeBlocks(n);
        }
        int move = _blocks - i;
        Array.Copy(_phys, i, _phys, i + 1, move);
        Array.Copy(_first, i, _first, i + 1, move);
        Array.Copy(_count, i, _count, i + 1, move);
        Array.Copy(_lastKey, i, _lastKey, i + 1, move);
        MoveBlocks(i, i + 1, move);
        _phys[i] = p;
        _first[i] = 0;
        _count[i] = 0;
        _blocks++;
    }

    private void RemoveBlock(int i)
    {
        int move = _blocks - i - 1;
        Array.Copy(_phys, i + 1, _phys, i, move);
        Array.Copy(_first, i + 1, _first, i, move);
        Array.Copy(_count, i + 1, _count, i, move);
        Array.Copy(_lastKey, i + 1, _lastKey, i, move);
        MoveBlocks(i + 1, i, move);
        _blocks--;
    }
}
