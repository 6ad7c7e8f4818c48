using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// The storage behind the hash maps: elements in flat arrays (keys, values, chain links) addressed by index, a
/// free list, and buckets holding chain heads. New elements go to the head of their bucket's chain, as
/// <c>hlist_nulls_add_head_rcu</c> in kernel/bpf/hashtab.c, and iteration walks buckets in index order, then chains.
/// Values live in fixed-size chunks that never move, so a value a program holds (a pointer, in the kernel's
/// preallocated maps) stays valid while the table grows. Nothing is allocated per operation once grown.
/// </summary>
internal sealed class HashTable
{
    private const int None = -1;

    private readonly int _keySize;
    private readonly int _valueStride;
    private readonly int _maxEntries;
    private const int ChunkShift = 8;
    private const int ChunkSize = 1 << ChunkShift;

    private byte[] _keys;
    private byte[][] _valueChunks;
    private int[] _next;
    private uint[] _hash;
    private int[] _buckets;
    private int _freeHead = None;
    private int _used;

    public HashTable(int keySize, int valueStride, int maxEntries)
    {
        _keySize = keySize;
        _valueStride = valueStride;
        _maxEntries = maxEntries;
        int capacity = Math.Min(maxEntries, 64);
        _keys = new byte[capacity * keySize];
        _valueChunks = [new byte[Math.Min(maxEntries, ChunkSize) * valueStride]];
        _next = new int[capacity];
        _hash = new uint[capacity];
        _buckets = NewBuckets(capacity);
    }

    /// <summary>Live elements.</summary>
    public int Count { get; private set; }

    /// <summary>Element slots allocated so far (indices below this may be live or free).</summary>
    public int Capacity => _next.Length;

    public Span<byte> KeyAt(int elem) => _keys.AsSpan(elem * _keySize, _keySize);

    /// <summary>Where element <paramref name="elem"/>'s value lives: its chunk and the offset in it.</summary>
    public (byte[] Array, int Offset) ValueLocation(int elem) =>
        (_valueChunks[elem >> ChunkShift], (elem & (ChunkSize - 1)) * _valueStride);

    public Span<byte> ValueAt(int elem) =>
        _valueChunks[elem >> ChunkShift].AsSpan((elem & (ChunkSize - 1)) * _valueStride, _valueStride);

    private static int[] NewBuckets(int capacity)
    {
        var buckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 1))];
        Array.Fill(buckets, None);
        return buckets;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> key)
    {
        // A fixed, seedless mix (the simulator must be deterministic; the kernel's jhash seed is random unless
        // BPF_F_ZERO_SEED). Eight bytes at a time, so an 8-byte key costs one multiply round.
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)key.Length;
        int i = 0;
        for (; i + 8 <= key.Length; i += 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(key[i..])) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
        }
        for (; i < key.Length; i++)
        {
            h = (h ^ key[i]) * 0x94D049BB133111EBUL;
        }
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        return (uint)(h ^ (h >> 32));
    }

    /// <summary>The element holding <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> key)
    {
        uint h = Hash(key);
        int e = _buckets[h & (uint)(_buckets.Length - 1)];
        while (e != None)
        {
            if (_hash[e] == h && KeyAt(e).SequenceEqual(key))
            {
                return e;
            }
            e = _next[e];
        }
        return None;
    }

    /// <summary>Adds <paramref name="key"/> (which must be absent) at the head of its chain with a zeroed value.</summary>
    /// <returns>The element, or -1 when max_entries elements already exist.</returns>
    public int Insert(ReadOnlySpan<byte> key)
    {
        if (Count >= _maxEntries)
        {
            return None;
        }
        int e;
        if (_freeHead != None)
        {
            e = _freeHead;
            _freeHead = _next[e];
        }
        else
        {
            if (_used == _next.Length)
            {
                Grow();
            }
            e = _used++;
        }
        key.CopyTo(KeyAt(e));
        ValueAt(e).Clear();
        uint h = Hash(key);
        _hash[e] = h;
        ref int head = ref _buckets[h & (uint)(_buckets.Length - 1)];
        _next[e] = head;
        head = e;
        Count++;
        return e;
    }

    /// <summary>Unlinks <paramref name="elem"/> and puts it on the free list.</summary>
    public void Remove(int elem)
    {
        Unlink(elem);
        _next[elem] = _freeHead;
        _freeHead = elem;
        Count--;
    }

    /// <summary>Moves <paramref name="elem"/> to the head of its chain: an update that replaces an element does this in the kernel.</summary>
    public void MoveToHead(int elem)
    {
        Unlink(elem);
        ref int head = ref _buckets[_hash[elem] & (uint)(_buckets.Length - 1)];
        _next[elem] = head;
        head = elem;
    }

    private void Unlink(int elem)
    {
        ref int link = ref _buckets[_hash[elem] & (uint)(_buckets.Length - 1)];
        while (link != elem)
        {
            link = ref _next[link];
        }
        link = _next[elem];
    }

    /// <summary>
    /// The element after <paramref name="key"/> in iteration order (htab_map_get_next_key): for an empty or missing
    /// key, the first element; -1 after the last.
    /// </summary>
    public int Next(ReadOnlySpan<byte> key)
    {
        int bucket = 0;
        if (!key.IsEmpty)
        {
            int e = Find(key);
            if (e != None)
            {
                if (_next[e] != None)
                {
                    return _next[e];
                }
                bucket = (int)(_hash[e] & (uint)(_buckets.Length - 1)) + 1;
            }
        }
        for (; bucket < _buckets.Length; bucket++)
        {
            if (_buckets[bucket] != None)
            {
                return _buckets[bucket];
            }
        }
        return None;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        int capacity = (int)Math.Min((long)_next.Length * 2, _maxEntries);
        Array.Resize(ref _keys, capacity * _keySize);
        // Existing value chunks stay where they are (the first is full-sized from the start); new ones are added.
        int chunks = (capacity + ChunkSize - 1) >> ChunkShift;
        if (chunks > _valueChunks.Length)
        {
            int old = _valueChunks.Length;
            Array.Resize(ref _valueChunks, chunks);
            for (int c = old; c < chunks; c++)
            {
                _valueChunks[c] = new byte[ChunkSize * _valueStride];
            }
        }
        Array.Resize(ref _next, capacity);
        Array.Resize(ref _hash, capacity);
        // Rehash live elements into a larger bucket array, keeping each chain's order.
        var buckets = NewBuckets(capacity);
        var tails = new int[buckets.Length];
        Array.Fill(tails, None);
        for (int b = 0; b < _buckets.Length; b++)
        {
            for (int e = _buckets[b]; e != None;)
            {
                int next = _next[e];
                int nb = (int)(_hash[e] & (uint)(buckets.Length - 1));
                _next[e] = None;
                if (tails[nb] == None)
                {
                    buckets[nb] = e;
                }
                else
                {
                    _next[tails[nb]] = e;
                }
                tails[nb] = e;
                e = next;
            }
        }
        _buckets = buckets;
    }
}
