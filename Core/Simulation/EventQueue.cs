using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// The pending events, popped in (time, scheduling order). A hierarchical timing wheel over time in ticks of 4.096 µs:
/// five levels of 4,096 buckets, one per 12-bit digit of the tick. An event sits at the level of the highest digit in
/// which its tick differs from the wheel's base (the time of the last pop), in the bucket of that digit's value; a
/// level-0 bucket holds the events of one tick. Level 0 spans 16.7 ms, so the events of a TCP
/// simulation (serialisation, propagation, pacing: microseconds to a few milliseconds ahead) are placed once and never
/// moved; timers further out (delayed ACK, RTO) move once. When level 0 is empty, the lowest occupied bucket of the
/// lowest occupied level is cascaded into the levels below. Finding the next bucket is two bit scans (a summary word
/// per level says which bitmap words are non-zero), so scheduling and popping cost a few nanoseconds whatever the
/// number pending — a binary or 4-ary heap spends ~100 ns on branch misses at 10,000 pending events.
/// </summary>
/// <remarks>
/// Ties keep scheduling order: events of equal time always share a bucket (placement depends only on the time and
/// the base), and every bucket is a FIFO list that cascading preserves. A level-0 bucket is in time order as long as
/// each event placed in it is no earlier than its last, which is nearly always so in a TCP run (its level-0 buckets
/// hold a fraction of an event on average) and is popped from the head. A bucket that took an earlier event is
/// flagged, and when popping reaches it, <see cref="Refine"/> spreads it over the fine wheel, one FIFO bucket per
/// nanosecond of that tick; events of that tick then go straight there until it is empty. An event scheduled earlier
/// than the base (which can only happen after a pop that found nothing within its limit) goes to a small side heap
/// that is always drained first. Entries sit still in one array
/// and buckets link them (intrusive lists). Nothing is allocated per event once the arrays have grown to the working
/// size.
/// </remarks>
internal sealed class EventQueue
{
    private const int TickShift = 12;
    private const int DigitBits = 12;
    private const int Slots = 1 << DigitBits;
    private const int Levels = (64 - TickShift + DigitBits - 1) / DigitBits;
    private const int WordsPerLevel = Slots / 64;
    private const int Fine = Levels;

    // The level of a tick difference, indexed by its bit width (0 for equal ticks): a table instead of a division.
    private static ReadOnlySpan<byte> LevelOfWidth =>
    [
        0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4,
    ];

    private struct Entry
    {
        public long Time;
        public int Next; // the next entry in the same bucket, or the next free entry
        public EventPayload Payload;
    }

    private Entry[] _entries;
    private int _free = -1;
    private int _entriesUsed;

    // Buckets are intrusive lists of entries: head and tail indices, -1 when empty. A bitmap bit per bucket, and per
    // level a summary bit per bitmap word that is non-zero.
    // Index Fine, after the levels, is the fine wheel: one bucket per nanosecond of the current tick.
    private readonly int[] _head = new int[(Levels + 1) * Slots];
    private readonly int[] _tail = new int[(Levels + 1) * Slots];
    private readonly ulong[] _bitmap = new ulong[(Levels + 1) * WordsPerLevel];
    private readonly ulong[] _summary = new ulong[Levels + 1];
    private readonly int[] _levelCount = new int[Levels + 1];
    // Level-0 buckets that took an event earlier than their last: spread over the fine wheel when popping reaches them.
    private readonly ulong[] _unsorted = new ulong[WordsPerLevel];
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

    /// <summary>Adds an event at <paramref name="time"/> (non-negative).</summary>
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
        ulong tick = (ulong)time >> TickShift;
        ulong diff = tick ^ ((ulong)_base >> TickShift);
        if (diff == 0 && _levelCount[Fine] > 0)
        {
            Append(Fine, (Fine << DigitBits) | (int)time & (Slots - 1), slot);
            return;
        }
        int level = LevelOfWidth[64 - BitOperations.LeadingZeroCount(diff)];
        int bucket = (level << DigitBits) | (int)(tick >> (level * DigitBits)) & (Slots - 1);
        int tail = _tail[bucket];
        if (level == 0 && tail >= 0 && _entries[tail].Time > time)
        {
            _unsorted[bucket >> 6] |= 1UL << (bucket & 63);
        }
        Append(level, bucket, slot);
    }

    /// <summary>Adds an entry at the end of a bucket's list.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(int level, int bucket, int slot)
    {
        _levelCount[level]++;
        _entries[slot].Next = -1;
        int tail = _tail[bucket];
        if (tail < 0)
        {
            _head[bucket] = slot;
            _bitmap[bucket >> 6] |= 1UL << (bucket & 63);
            _summary[level] |= 1UL << ((bucket >> 6) & (WordsPerLevel - 1));
        }
        else
        {
            _entries[tail].Next = slot;
        }
        _tail[bucket] = slot;
    }

    /// <summary>
    /// Popping reached a level-0 bucket that is out of time order: moves the base to its tick and spreads its
    /// entries over the fine wheel, one bucket per nanosecond (in list order, so equal times keep placement order).
    /// Until the fine wheel is empty, events of this tick go straight to it. Costs one move per entry, however many
    /// the bucket holds and in whatever order they came.
    /// </summary>
    /// <returns>False, changing nothing, if the tick starts after <paramref name="limit"/>.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Refine(int bucket, long limit)
    {
        long start = (long)((ulong)_base >> (TickShift + DigitBits) << (TickShift + DigitBits)) | ((long)(bucket & (Slots - 1)) << TickShift);
        if (start > limit)
        {
            return false;
        }
        _base = Math.Max(_base, start);
        _unsorted[bucket >> 6] &= ~(1UL << (bucket & 63));
        int e = _head[bucket];
        _head[bucket] = -1;
        _tail[bucket] = -1;
        ClearBit(0, bucket);
        while (e >= 0)
        {
            int next = _entries[e].Next;
            _levelCount[0]--;
            Append(Fine, (Fine << DigitBits) | (int)_entries[e].Time & (Slots - 1), e);
            e = next;
        }
        return true;
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
            if (_levelCount[Fine] == 0)
            {
                if (_levelCount[0] == 0 && !Cascade(limit))
                {
                    time = 0;
                    payload = default;
                    return false;
                }
                int bucket = FirstBucket(0, (int)((ulong)_base >> TickShift) & (Slots - 1));
                if ((_unsorted[bucket >> 6] & (1UL << (bucket & 63))) == 0)
                {
                    slot = _head[bucket];
                    long t = _entries[slot].Time;
                    if (t > limit)
                    {
                        time = 0;
                        payload = default;
                        return false;
                    }
                    _base = t;
                    Unlink(0, bucket, slot);
                    goto Found;
                }
                if (!Refine(bucket, limit))
                {
                    time = 0;
                    payload = default;
                    return false;
                }
            }
            int fine = FirstBucket(Fine, (int)_base & (Slots - 1));
            long ft = (_base & ~(long)(Slots - 1)) | (long)(fine & (Slots - 1));
            if (ft > limit)
            {
                time = 0;
                payload = default;
                return false;
            }
            _base = ft;
            slot = _head[fine];
            Unlink(Fine, fine, slot);
        }
    Found:
        ref Entry e = ref _entries[slot];
        time = e.Time;
        payload = e.Payload;
        e.Next = _free;
        _free = slot;
        _count--;
        return true;
    }

    /// <summary>Removes <paramref name="slot"/>, the head of <paramref name="bucket"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Unlink(int level, int bucket, int slot)
    {
        _levelCount[level]--;
        int next = _entries[slot].Next;
        _head[bucket] = next;
        if (next < 0)
        {
            _tail[bucket] = -1;
            ClearBit(level, bucket);
        }
    }

    /// <summary>The earliest time pending, or null when empty. Does not change the queue.</summary>
    public long? PeekTime()
    {
        if (_earlyCount > 0)
        {
            return _early[0].Time;
        }
        if (_levelCount[Fine] > 0)
        {
            return (_base & ~(long)(Slots - 1)) | (long)(FirstBucket(Fine, (int)_base & (Slots - 1)) & (Slots - 1));
        }
        for (int level = 0; level < Levels; level++)
        {
            if (_levelCount[level] == 0)
            {
                continue;
            }
            int bucket = FirstBucket(level, (int)((ulong)_base >> (TickShift + level * DigitBits)) & (Slots - 1));
            long min = long.MaxValue;
            for (int e = _head[bucket]; e >= 0; e = _entries[e].Next)
            {
                min = Math.Min(min, _entries[e].Time);
            }
            return min;
        }
        return null;
    }

    /// <summary>The first occupied bucket of <paramref name="level"/> at or after digit <paramref name="from"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FirstBucket(int level, int from)
    {
        int word = from >> 6;
        int first = level * WordsPerLevel;
        ulong bits = _bitmap[first + word] & (~0UL << (from & 63));
        if (bits == 0)
        {
            ulong words = word == WordsPerLevel - 1 ? 0 : _summary[level] & (~0UL << (word + 1));
            Debug.Assert(words != 0, "level count says the level is occupied");
            word = BitOperations.TrailingZeroCount(words);
            bits = _bitmap[first + word];
        }
        return (level << DigitBits) + (word << 6) + BitOperations.TrailingZeroCount(bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ClearBit(int level, int bucket)
    {
        if ((_bitmap[bucket >> 6] &= ~(1UL << (bucket & 63))) == 0)
        {
            _summary[level] &= ~(1UL << ((bucket >> 6) & (WordsPerLevel - 1)));
        }
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
            int shift = TickShift + level * DigitBits;
            int bucket = FirstBucket(level, (int)((ulong)_base >> shift) & (Slots - 1));
            long digit = bucket & (Slots - 1);
            // The new base: the old base's digits above this level, this bucket's digit, zeros below. Entries of a
            // level differ from the base first in that level's digit and are later, so the base only moves forward.
            int upper = shift + DigitBits;
            long keep = upper >= 64 ? 0 : (long)((ulong)_base >> upper << upper);
            long start = keep | (digit << shift);
            if (start > limit)
            {
                return false;
            }
            _base = start;
            int e = _head[bucket];
            _head[bucket] = -1;
            _tail[bucket] = -1;
            ClearBit(level, bucket);
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
