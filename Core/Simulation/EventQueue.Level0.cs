using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// Level 0 of the wheel: one bucket per tick, each an array of keys (time, slot) in the order the events were placed.
/// Popping reads the keys in turn and only then the payload of the one popped; ordering a tick that took events out
/// of time order sorts its keys where they lie. With 10,000 flows a tick holds some twenty events placed from all over
/// the simulation: walking a list of entries to order them waited on a cache miss per entry, one after the other.
/// A tick's first key is kept in the bucket itself, and moves to the array only when a second comes: with few events
/// per tick (10 flows, or 1,000 flows started apart, which keep apart) most ticks hold one, and scheduling and popping
/// it then touch the bucket's entry alone, in a table that popping reads in time order, not the tick's array too.
/// </summary>
internal sealed partial class EventQueue
{
    private struct Key
    {
        public long Time;
        public int Slot;
        public int Order; // position before a sort of many keys, so equal times keep their order
    }

    private struct Bucket
    {
        public Key[] Keys;
        public int Pos;       // the first pending key
        public int Count;     // one past the last; both 0 when the bucket is empty
        public bool Unsorted; // a key is earlier than one before it: sorted when popping reaches the bucket
        public bool Single;   // the bucket's one key is (FirstTime, FirstSlot), not Keys[0] (Pos 0, Count 1)
        public long FirstTime; // with FirstSlot the bucket is 32 bytes (24 without)
        public int FirstSlot;
    }

    private const int InitialKeys = 4;
    // What a bucket grows to first: a busy tick (some twenty events with 10,000 flows) then grows once, not three
    // times through 8 and 16.
    private const int GrownKeys = 32;
    private const int InsertionSortMax = 32;

    private readonly Bucket[] _level0 = new Bucket[Slots];
    // Key arrays not in use, by the log2 of their length.
    private readonly List<Key[]>[] _spare = new List<Key[]>[32];
    // The slots of the events most likely popped next and at the distances after it (the next keys of the bucket just
    // popped from), as many as the bucket holds up to IEventPrefetcher.Distances; their payloads were prefetched at
    // the pops before.
    private int _hintCount;
    private int _hintBucket;

    /// <summary>
    /// The payload of the event most likely popped <paramref name="distance"/> pops from now (1: next), when the last
    /// pop knew it (a later key of the same tick). A hint only: events scheduled meanwhile may come first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetHint(int distance, out EventPayload payload)
    {
        if (distance > _hintCount)
        {
            payload = default;
            return false;
        }
        ref Bucket b = ref _level0[_hintBucket];
        payload = _payloads[b.Keys[b.Pos + distance - 1].Slot];
        return true;
    }

    private void InitLevel0()
    {
        for (int i = 0; i < _spare.Length; i++)
        {
            _spare[i] = [];
        }
        for (int i = 0; i < Slots; i++)
        {
            _level0[i].Keys = new Key[InitialKeys];
        }
    }

    /// <summary>
    /// Adds a key at the end of bucket <paramref name="digit"/>, or, in the bucket of the base's own tick (already in
    /// order, <paramref name="current"/>), after the last key no later than it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendKey(int digit, long time, int slot, bool current)
    {
        ref Bucket b = ref _level0[digit];
        _levelCount[0]++;
        if (b.Count == 0)
        {
            SetBit(0, digit);
            b.FirstTime = time;
            b.FirstSlot = slot;
            b.Single = true;
            b.Count = 1;
            return;
        }
        if (b.Single)
        {
            b.Keys[0] = new Key { Time = b.FirstTime, Slot = b.FirstSlot }; // every array holds InitialKeys or more
            b.Single = false;
        }
        else if (b.Count == b.Keys.Length)
        {
            Grow(ref b);
        }
        Key[] keys = b.Keys;
        int n = b.Count;
        if (keys[n - 1].Time > time)
        {
            if (current && !b.Unsorted)
            {
                while (n > b.Pos && keys[n - 1].Time > time)
                {
                    keys[n] = keys[n - 1];
                    n--;
                }
                keys[n] = new Key { Time = time, Slot = slot };
                b.Count++;
                return;
            }
            b.Unsorted = true;
        }
        keys[n] = new Key { Time = time, Slot = slot };
        b.Count = n + 1;
    }

    /// <summary>
    /// Makes room for one more key: moves the pending keys to the front, into an array twice as long if need be,
    /// taken from the spare arrays (the smaller one goes back there).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(ref Bucket b)
    {
        int pending = b.Count - b.Pos;
        Key[] target = b.Keys;
        if (pending * 2 > b.Keys.Length)
        {
            target = Rent(Math.Max(b.Keys.Length * 2, GrownKeys));
            Array.Copy(b.Keys, b.Pos, target, 0, pending);
            Return(b.Keys);
        }
        else
        {
            Array.Copy(b.Keys, b.Pos, target, 0, pending);
        }
        b.Keys = target;
        b.Pos = 0;
        b.Count = pending;
    }

    /// <summary>
    /// A bucket emptied with an array grown beyond the initial size: swaps it for a small one, so that the arrays a
    /// busy tick needed serve the next busy tick, and a long run allocates nothing once there are enough of them.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Shrink(ref Bucket b)
    {
        Return(b.Keys);
        b.Keys = Rent(InitialKeys);
    }

    private Key[] Rent(int length)
    {
        var spare = _spare[BitOperations.Log2((uint)length)];
        if (spare.Count > 0)
        {
            var keys = spare[^1];
            spare.RemoveAt(spare.Count - 1);
            return keys;
        }
        return new Key[length];
    }

    private void Return(Key[] keys) => _spare[BitOperations.Log2((uint)keys.Length)].Add(keys);

    /// <summary>Pops the first key of level 0 (not empty) if its time is at most <paramref name="limit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPopLevel0(long limit, out long time, out int slot)
    {
        int digit = FirstBucket(0, (int)((ulong)_base >> TickShift) & (Slots - 1));
        ref Bucket b = ref _level0[digit];
        Key[] keys = b.Keys;
        if (b.Single)
        {
            time = b.FirstTime;
            slot = b.FirstSlot;
        }
        else
        {
            if (b.Unsorted)
            {
                Sort(ref b);
            }
            ref Key k = ref keys[b.Pos];
            time = k.Time;
            slot = k.Slot;
        }
        if (time > limit)
        {
            time = 0;
            slot = 0;
            return false;
        }
        _base = time;
        _levelCount[0]--;
        if (b.Single)
        {
            b.Single = false;
            b.Count = 0;
            ClearBit(0, digit);
            _hintCount = 0;
            return true;
        }
        if (++b.Pos == b.Count)
        {
            b.Pos = 0;
            b.Count = 0;
            if (keys.Length > InitialKeys)
            {
                Shrink(ref b);
            }
            ClearBit(0, digit);
            _hintCount = 0;
        }
        else
        {
            // The payloads up to one beyond the farthest hint: the hints read them at the next pop without waiting.
            int pending = b.Count - b.Pos;
            _hintCount = Math.Min(pending, IEventPrefetcher.Distances);
            _hintBucket = digit;
            if (pending > IEventPrefetcher.Distances)
            {
                Prefetch(ref _payloads[keys[b.Pos + IEventPrefetcher.Distances].Slot]);
            }
        }
        return true;
    }

    /// <summary>Orders a bucket's pending keys by time, equal times in the order they were placed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Sort(ref Bucket b)
    {
        var keys = b.Keys.AsSpan(b.Pos, b.Count - b.Pos);
        if (keys.Length <= InsertionSortMax)
        {
            for (int i = 1; i < keys.Length; i++)
            {
                Key key = keys[i];
                int j = i;
                while (j > 0 && keys[j - 1].Time > key.Time)
                {
                    keys[j] = keys[j - 1];
                    j--;
                }
                keys[j] = key;
            }
        }
        else
        {
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i].Order = i;
            }
            HeapSort(keys);
        }
        b.Unsorted = false;
    }

    /// <summary>
    /// Sorts by (time, order), which are unique, so the result is the one order however the sort goes. A heap sort:
    /// in place and allocation-free (the runtime's sort allocates its helper on first use, in whatever run needs it).
    /// </summary>
    private static void HeapSort(Span<Key> keys)
    {
        for (int i = keys.Length / 2 - 1; i >= 0; i--)
        {
            SiftDown(keys, i, keys.Length);
        }
        for (int end = keys.Length - 1; end > 0; end--)
        {
            (keys[0], keys[end]) = (keys[end], keys[0]);
            SiftDown(keys, 0, end);
        }
    }

    private static void SiftDown(Span<Key> keys, int i, int n)
    {
        Key item = keys[i];
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
            {
                break;
            }
            if (child + 1 < n && Before(keys[child], keys[child + 1]))
            {
                child++;
            }
            if (!Before(item, keys[child]))
            {
                break;
            }
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = item;
    }

    private static bool Before(in Key a, in Key b) => a.Time < b.Time || (a.Time == b.Time && a.Order < b.Order);

    /// <summary>The earliest time in level 0 (not empty).</summary>
    private long PeekLevel0()
    {
        ref Bucket b = ref _level0[FirstBucket(0, (int)((ulong)_base >> TickShift) & (Slots - 1))];
        if (b.Single)
        {
            return b.FirstTime;
        }
        long min = long.MaxValue;
        for (int i = b.Pos; i < b.Count; i++)
        {
            min = Math.Min(min, b.Keys[i].Time);
        }
        return min;
    }
}
