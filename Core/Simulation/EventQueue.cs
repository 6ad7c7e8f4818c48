using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// The pending events, popped in (time, scheduling order). A hierarchical timing wheel over the 64-bit time: eight
/// levels of 256 buckets, one per byte. An event sits at the level of the highest byte in which its time differs
/// from the wheel's base time, in the bucket of that byte's value; level 0 buckets hold events of one exact time.
/// Popping takes the lowest level-0 bucket in FIFO order; when level 0 is empty, the lowest occupied bucket of the
/// lowest occupied level is cascaded into the levels below. An event moves at most once per level it starts above
/// (two moves for events up to 16 ms ahead), and finding the next bucket is a bit scan, so scheduling and popping
/// cost a few nanoseconds whatever the number pending — a binary or 4-ary heap spends ~100 ns on branch misses at
/// 10,000 pending events.
/// </summary>
/// <remarks>
/// Ties keep scheduling order: events of equal time always share a bucket (placement depends only on the time and
/// the base), buckets are FIFO lists and cascading preserves order. An event scheduled earlier than the base (which
/// can only happen after a pop that found nothing within its limit) goes to a small side heap that is always drained
/// first. Entries sit still in one array and buckets link them (intrusive FIFO lists). Nothing is allocated per event once the
/// arrays have grown to the working size.
/// </remarks>
internal sealed class EventQueue
{
    private const int Levels = 8;
    private const int Slots = 256;

    private struct Entry
    {
        public long Time;
        public int Next; // the next entry in the same bucket, or the next free entry
        public EventPayload Payload;
    }

    private Entry[] _entries;
    private int _free = -1;
    private int _entriesUsed;

    // Buckets are intrusive FIFO lists of entries: head and tail indices, -1 when empty.
    private readonly int[] _head = new int[Levels * Slots];
    private readonly int[] _tail = new int[Levels * Slots];
    private readonly ulong[] _bitmap = new ulong[Levels * Slots / 64];
    private readonly int[] _levelCount = new int[Levels];
    private long _base;
    private int _count;

    // Events earlier than the base: (time, sequence, slot) in a binary heap; rare, so kept simple.
    private (long Time, long Seq, int Slot)[] _early = new (long, long, int)[16];
    private int _earlyCount;
    private long _seq;

    public EventQueue(int initialCapacity = 1024)
    {
        _entries = new Entry[Math.Max(initialCapacity, 16)];
        Array.Fill(_head, -1);
        Array.Fill(_tail, -1);
    }

    public int Count => _count;

    /// <summary>Adds an event at <paramref name="time"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long time, in EventPayload payload)
    {
        int slot = _free >= 0 ? _free : NewSlot();
        ref Entry e = ref _entries[slot];
        _free = _free >= 0 ? e.Next : -1;
        e.Time = time;
        e.Payload = payload;
        _count++;
        if (time >= _base)
        {
            Place(time, slot);
        }
        else
        {
            PushEarly(time, slot);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Place(long time, int slot)
    {
        ulong diff = (ulong)(time ^ _base);
        int level = diff == 0 ? 0 : (63 - BitOperations.LeadingZeroCount(diff)) >> 3;
        int bucket = (level << 8) | (int)((ulong)time >> (level << 3)) & 0xFF;
        _entries[slot].Next = -1;
        int tail = _tail[bucket];
        if (tail < 0)
        {
            _head[bucket] = slot;
            _bitmap[bucket >> 6] |= 1UL << (bucket & 63);
        }
        else
        {
            _entries[tail].Next = slot;
        }
        _tail[bucket] = slot;
        _levelCount[level]++;
    }

    /// <summary>
    /// Removes the earliest event if its time is at most <paramref name="limit"/>; otherwise leaves every event
    /// pending (events scheduled afterwards may still be earlier than them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(long limit, out long time, out EventPayload payload)
    {
        int slot;
        if (_earlyCount > 0)
        {
            if (_early[0].Time > limit)
            {
                time = 0;
                payload = default;
                return false;
            }
            slot = PopEarly();
        }
        else
        {
            if (_levelCount[0] == 0 && !Cascade(limit))
            {
                time = 0;
                payload = default;
                return false;
            }
            int bucket = FirstBucket(0, (int)(_base & 0xFF));
            long t = (_base & ~0xFFL) | (long)bucket;
            if (t > limit)
            {
                time = 0;
                payload = default;
                return false;
            }
            _base = t;
            slot = _head[bucket];
            _levelCount[0]--;
            int next = _entries[slot].Next;
            _head[bucket] = next;
            if (next < 0)
            {
                _tail[bucket] = -1;
                _bitmap[bucket >> 6] &= ~(1UL << (bucket & 63));
            }
        }
        ref Entry e = ref _entries[slot];
        time = e.Time;
        payload = e.Payload;
        e.Next = _free;
        _free = slot;
        _count--;
        return true;
    }

    /// <summary>The earliest time pending, or null when empty. Does not change the queue.</summary>
    public long? PeekTime()
    {
        if (_earlyCount > 0)
        {
            return _early[0].Time;
        }
        for (int level = 0; level < Levels; level++)
        {
            if (_levelCount[level] == 0)
            {
                continue;
            }
            int start = level == 0 ? (int)(_base & 0xFF) : (int)((ulong)_base >> (level << 3)) & 0xFF;
            int bucket = FirstBucket(level, start);
            if (level == 0)
            {
                return (_base & ~0xFFL) | (long)bucket;
            }
            long min = long.MaxValue;
            for (int e = _head[bucket]; e >= 0; e = _entries[e].Next)
            {
                min = Math.Min(min, _entries[e].Time);
            }
            return min;
        }
        return null;
    }

    /// <summary>The first occupied bucket of <paramref name="level"/> at or after byte value <paramref name="from"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FirstBucket(int level, int from)
    {
        int word = (level << 2) + (from >> 6);
        ulong bits = _bitmap[word] & (~0UL << (from & 63));
        int end = (level << 2) + 4;
        while (bits == 0)
        {
            Debug.Assert(word + 1 < end, "level count says the level is occupied");
            bits = _bitmap[++word];
        }
        return (word << 6) + BitOperations.TrailingZeroCount(bits);
    }

    /// <summary>
    /// Level 0 is empty: moves the lowest occupied bucket of the lowest occupied level down, repeatedly, until
    /// level 0 has events. Stops without changing anything if that bucket's start time is beyond the limit.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Cascade(long limit)
    {
        while (_levelCount[0] == 0)
        {
            int level = 1;
            while (level < Levels && _levelCount[level] == 0)
            {
                level++;
            }
            if (level == Levels)
            {
                return false;
            }
            int shift = level << 3;
            int bucket = FirstBucket(level, (int)((ulong)_base >> shift) & 0xFF);
            long digit = bucket & 0xFF;
            // The new base: the old base's bytes above this level, this bucket's byte, zeros below.
            long keep = shift + 8 >= 64 ? 0 : (long)((ulong)_base >> (shift + 8) << (shift + 8));
            long start = keep | (digit << shift);
            if (start > limit)
            {
                return false;
            }
            _base = start;
            int e = _head[bucket];
            _head[bucket] = -1;
            _tail[bucket] = -1;
            _bitmap[bucket >> 6] &= ~(1UL << (bucket & 63));
            while (e >= 0)
            {
                int next = _entries[e].Next;
                _levelCount[level]--;
                Place(_entries[e].Time, e);
                e = next;
            }
        }
        return true;
    }

    private void PushEarly(long time, int slot)
    {
        if (_earlyCount == _early.Length)
        {
            Array.Resize(ref _early, _early.Length * 2);
        }
        var item = (time, _seq++, slot);
        int i = _earlyCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!EarlyLess(item, _early[parent]))
            {
                break;
            }
            _early[i] = _early[parent];
            i = parent;
        }
        _early[i] = item;
    }

    private int PopEarly()
    {
        int slot = _early[0].Slot;
        var item = _early[--_earlyCount];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= _earlyCount)
            {
                break;
            }
            if (child + 1 < _earlyCount && EarlyLess(_early[child + 1], _early[child]))
            {
                child++;
            }
            if (!EarlyLess(_early[child], item))
            {
                break;
            }
            _early[i] = _early[child];
            i = child;
        }
        if (_earlyCount > 0)
        {
            _early[i] = item;
        }
        return slot;
    }

    private static bool EarlyLess((long Time, long Seq, int Slot) a, (long Time, long Seq, int Slot) b) =>
        a.Time < b.Time || (a.Time == b.Time && a.Seq < b.Seq);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int NewSlot()
    {
        if (_entriesUsed == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }
        return _entriesUsed++;
    }
}
