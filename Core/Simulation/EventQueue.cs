using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// A 4-ary min-heap of <see cref="ScheduledEvent"/> structs ordered by (time, sequence). The backing array grows
/// geometrically and is never shrunk, so scheduling and popping allocate nothing once it has reached its working size.
/// </summary>
/// <remarks>The shape follows <c>System.Collections.Generic.PriorityQueue</c> (Arity 4) with the comparison inlined.</remarks>
internal sealed class EventQueue
{
    private const int Log2Arity = 2;
    private const int Arity = 1 << Log2Arity;

    private ScheduledEvent[] _heap;
    private int _count;

    public EventQueue(int initialCapacity = 1024)
    {
        _heap = new ScheduledEvent[Math.Max(initialCapacity, Arity)];
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(in ScheduledEvent a, in ScheduledEvent b) =>
        a.Time < b.Time || (a.Time == b.Time && a.Sequence < b.Sequence);

    public void Push(in ScheduledEvent item)
    {
        if (_count == _heap.Length)
        {
            Grow();
        }
        var heap = _heap;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> Log2Arity;
            if (!Before(item, heap[parent]))
            {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = item;
        AssertInvariants();
    }

    /// <summary>The earliest entry. The queue must not be empty.</summary>
    public ref readonly ScheduledEvent Peek()
    {
        Debug.Assert(_count > 0);
        return ref _heap[0];
    }

    /// <summary>Removes and returns the earliest entry. The queue must not be empty.</summary>
    public ScheduledEvent Pop()
    {
        Debug.Assert(_count > 0);
        var heap = _heap;
        var top = heap[0];
        int last = --_count;
        if (last > 0)
        {
            var item = heap[last];
            int i = 0;
            while (true)
            {
                int first = (i << Log2Arity) + 1;
                if (first >= last)
                {
                    break;
                }
                int best = first;
                int end = Math.Min(first + Arity, last);
                for (int c = first + 1; c < end; c++)
                {
                    if (Before(heap[c], heap[best]))
                    {
                        best = c;
                    }
                }
                if (!Before(heap[best], item))
                {
                    break;
                }
                heap[i] = heap[best];
                i = best;
            }
            heap[i] = item;
        }
        AssertInvariants();
        return top;
    }

    public void Clear() => _count = 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow() => Array.Resize(ref _heap, _heap.Length * 2);

    [Conditional("DEBUG_HEAP")]
    private void AssertInvariants()
    {
        for (int i = 1; i < _count; i++)
        {
            Debug.Assert(!Before(_heap[i], _heap[(i - 1) >> Log2Arity]), "heap order violated");
        }
    }
}
