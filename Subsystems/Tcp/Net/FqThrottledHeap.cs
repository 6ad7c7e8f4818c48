namespace BpfSim.Tcp.Net;

/// <summary>
/// sch_fq's q->delayed: throttled flows ordered by time_next_packet (the kernel's rb-tree, where an equal key goes
/// right, so flows due at the same time leave in the order they were throttled). A binary min-heap on
/// (time, sequence) gives that order with arrays only.
/// </summary>
internal sealed class FqThrottledHeap
{
    private long[] _time = new long[16];
    private long[] _seq = new long[16];
    private int[] _flow = new int[16];
    private long _nextSeq;

    public int Count { get; private set; }

    /// <summary>The earliest time_next_packet, or <see cref="long.MaxValue"/> when none is throttled.</summary>
    public long MinTime => Count == 0 ? long.MaxValue : _time[0];

    /// <summary>The flow with the earliest time (the heap is not empty).</summary>
    public int MinFlow => _flow[0];

    public void Push(long time, int flow)
    {
        if (Count == _time.Length)
        {
            Array.Resize(ref _time, Count * 2);
            Array.Resize(ref _seq, Count * 2);
            Array.Resize(ref _flow, Count * 2);
        }
        int i = Count++;
        long seq = _nextSeq++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Less(time, seq, _time[parent], _seq[parent]))
            {
                break;
            }
            Move(parent, i);
            i = parent;
        }
        _time[i] = time;
        _seq[i] = seq;
        _flow[i] = flow;
    }

    /// <summary>Removes the earliest.</summary>
    public void Pop()
    {
        int last = --Count;
        if (last == 0)
        {
            return;
        }
        long time = _time[last], seq = _seq[last];
        int flow = _flow[last];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= Count)
            {
                break;
            }
            if (child + 1 < Count && Less(_time[child + 1], _seq[child + 1], _time[child], _seq[child]))
            {
                child++;
            }
            if (!Less(_time[child], _seq[child], time, seq))
            {
                break;
            }
            Move(child, i);
            i = child;
        }
        _time[i] = time;
        _seq[i] = seq;
        _flow[i] = flow;
    }

    private static bool Less(long t1, long s1, long t2, long s2) => t1 < t2 || (t1 == t2 && s1 < s2);

    private void Move(int from, int to)
    {
        _time[to] = _time[from];
        _seq[to] = _seq[from];
        _flow[to] = _flow[from];
    }
}
