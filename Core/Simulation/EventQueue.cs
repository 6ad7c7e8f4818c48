using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

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
/// the base), and every bucket keeps its events in the order they came, which cascading preserves. A level-0 bucket
/// is an array of keys (time, slot) (EventQueue.Level0.cs; a tick's only key is kept in the bucket's own entry): in
/// time order as long as each event placed in it is no earlier than its last, and otherwise flagged and sorted, stably
/// by time, when popping reaches it — a sort of contiguous keys that touches no entry, however many flows placed
/// events in that tick. Events placed in the tick being popped go to their place in its order. The buckets of the
/// upper levels are intrusive lists of entries. An event scheduled earlier than the base (which can only happen after
/// a pop that found nothing within its limit) goes to a small side heap that is always drained first. Entries sit
/// still in two arrays indexed by a slot (the list nodes with the times, which only the upper levels use, and the
/// payloads), and the payload of the event likely popped three pops later (within the tick) is prefetched, so that
/// the simulator's hints can read the next three. Nothing is allocated per event once the arrays have grown to the
/// working size.
/// </remarks>
internal sealed partial class EventQueue
{
    private const int TickShift = 12;
    private const int DigitBits = 12;
    private const int Slots = 1 << DigitBits;
    private const int Levels = (64 - TickShift + DigitBits - 1) / DigitBits;
    private const int WordsPerLevel = Slots / 64;

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

    // An entry of an upper level's list: its time and the next entry in the same bucket.
    private struct Node
    {
        public long Time;
        public int Next;
    }

    private Node[] _nodes;
    private EventPayload[] _payloads;
    // Free slots, a stack: the slot freed last (its payload still in the caches) is used first.
    private int[] _freeSlots;
    private int _freeCount;
    private int _entriesUsed;

    // Upper levels' buckets (index level × Slots + digit; level 0's part unused) are intrusive lists of nodes: head and
    // tail indices, -1 when empty. For every level a bitmap bit per bucket, and a summary bit per non-zero bitmap word.
    private readonly int[] _head = new int[Levels * Slots];
    private readonly int[] _tail = new int[Levels * Slots];
    private readonly ulong[] _bitmap = new ulong[Levels * WordsPerLevel];
    private readonly ulong[] _summary = new ulong[Levels];
    private readonly int[] _levelCount = new int[Levels];
    private long _base;
    private int _count;

    // Events earlier than the base: (time, sequence, slot) in a binary heap; rare, so kept simple.
    private (long Time, long Seq, int Slot)[] _early = new (long, long, int)[16];
    private int _earlyCount;
    private long _seq;

    public EventQueue(int initialCapacity = 1024)
    {
        int capacity = Math.Max(initialCapacity, 16);
        _nodes = new Node[capacity];
        _payloads = new EventPayload[capacity];
        _freeSlots = new int[capacity];
        Array.Fill(_head, -1);
        Array.Fill(_tail, -1);
        InitLevel0();
    }

    public int Count => _count;

    /// <summary>Adds an event at <paramref name="time"/> (non-negative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long time, in EventPayload payload)
    {
        int slot = _freeCount > 0 ? _freeSlots[--_freeCount] : NewSlot();
        _payloads[slot] = payload;
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
        int level = LevelOfWidth[64 - BitOperations.LeadingZeroCount(diff)];
        if (level == 0)
        {
            AppendKey((int)tick & (Slots - 1), time, slot, current: diff == 0);
            return;
        }
        int bucket = (level << DigitBits) | (int)(tick >> (level * DigitBits)) & (Slots - 1);
        Append(level, bucket, time, slot);
    }

    /// <summary>Adds an entry at the end of an upper level's bucket.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(int level, int bucket, long time, int slot)
    {
        _levelCount[level]++;
        ref Node node = ref _nodes[slot];
        node.Time = time;
        node.Next = -1;
        int tail = _tail[bucket];
        if (tail < 0)
        {
            _head[bucket] = slot;
            SetBit(level, bucket);
        }
        else
        {
            _nodes[tail].Next = slot;
        }
        _tail[bucket] = slot;
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
            time = _early[0].Time;
            slot = PopEarly();
            _hintCount = 0;
        }
        else
        {
            if (_levelCount[0] == 0 && !Cascade(limit))
            {
                time = 0;
                payload = default;
                return false;
            }
            if (!TryPopLevel0(limit, out time, out slot))
            {
                payload = default;
                return false;
            }
        }
        payload = _payloads[slot];
        _freeSlots[_freeCount++] = slot;
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
        if (_levelCount[0] > 0)
        {
            return PeekLevel0();
        }
        for (int level = 1; level < Levels; level++)
        {
            if (_levelCount[level] == 0)
            {
                continue;
            }
            int bucket = FirstBucket(level, (int)((ulong)_base >> (TickShift + level * DigitBits)) & (Slots - 1));
            long min = long.MaxValue;
            for (int e = _head[bucket]; e >= 0; e = _nodes[e].Next)
            {
                min = Math.Min(min, _nodes[e].Time);
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
    private void SetBit(int level, int bucket)
    {
        _bitmap[bucket >> 6] |= 1UL << (bucket & 63);
        _summary[level] |= 1UL << ((bucket >> 6) & (WordsPerLevel - 1));
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
                ref Node node = ref _nodes[e];
                int next = node.Next;
                _levelCount[level]--;
                Place(node.Time, e);
                e = next;
            }
        }
        return true;
    }

    /// <summary>
    /// Asks the processor to bring <paramref name="item"/> into the caches: a hint that changes nothing but when the
    /// line arrives. The events of a tick were scheduled at scattered times, so without it each pop waits on a miss.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch<T>(ref T item)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref item));
        }
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
        if (_entriesUsed == _nodes.Length)
        {
            Array.Resize(ref _nodes, _nodes.Length * 2);
            Array.Resize(ref _payloads, _nodes.Length);
            Array.Resize(ref _freeSlots, _nodes.Length);
        }
        return _entriesUsed++;
    }
}
