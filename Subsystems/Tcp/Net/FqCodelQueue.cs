namespace BpfSim.Tcp.Net;

/// <summary>
/// fq_codel (net/sched/sch_fq_codel.c): packets are hashed by flow into <c>flows</c> queues, each with its own CoDel
/// state; a deficit round robin with <c>quantum</c> bytes serves new flows (a queue that was empty) before old
/// ones, a new flow that empties or uses up its deficit moving to the old list so it cannot starve them; over
/// <c>limit</c> packets or <c>memory_limit</c> bytes, up to <c>drop_batch_size</c> packets (at most half its bytes)
/// are dropped from the head of the flow with the largest backlog. Per-flow packet lists are links in an array
/// indexed by packet, so nothing is allocated per packet.
/// </summary>
/// <remarks>
/// The kernel hashes the 5-tuple with a random per-boot key (skb_get_hash) and scales it to the bucket count
/// (reciprocal_scale); here the packet's flow id stands for its 5-tuple and the key comes from the queue's random
/// stream, so distinct flows may share a bucket as they can in Linux. skb->truesize, which memory_limit counts, is
/// modelled as the packet's size rounded to 64 bytes plus 576 bytes of sk_buff and skb_shared_info.
/// </remarks>
public sealed class FqCodelQueue : QueueDiscipline, ICodelBackend
{
    private const byte InNoList = 0, InNewList = 1, InOldList = 2;

    private readonly FqCodelOptions _options;
    private readonly uint _hashKey;
    private readonly int[] _head, _tail, _deficit, _listNext;
    private readonly long[] _backlog;
    private readonly CodelVars[] _vars;
    private readonly byte[] _list;
    private int[] _next = new int[1024];
    private int _newHead = -1, _newTail = -1, _oldHead = -1, _oldTail = -1;
    private PacketPool? _pool;
    private long _now;
    private int _arriving = -1;
    private bool _arrivingDropped;

    /// <param name="random">The queue's random stream (the hash key).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FqCodelQueue(FqCodelOptions options, Core.Simulation.SimRandom random)
    {
        options.Validate();
        _options = options;
        LinkHeaderBytes = EthernetHeaderBytes;
        DequeuesWhenEmpty = true; // an empty dequeue unlinks emptied flows and resets their CoDel state
        _hashKey = (uint)random.NextUInt64();
        int n = options.Flows;
        _head = new int[n];
        _tail = new int[n];
        _deficit = new int[n];
        _listNext = new int[n];
        _backlog = new long[n];
        _vars = new CodelVars[n];
        _list = new byte[n];
        Array.Fill(_head, -1);
        Array.Fill(_tail, -1);
    }

    public FqCodelOptions Options => _options;

    /// <summary>Bytes of skb truesize held (memory_usage).</summary>
    public long MemoryUsage { get; private set; }

    /// <summary>Packets marked CE instead of dropped (ecn_mark; one already CE counts, as INET_ECN_set_ce succeeds).</summary>
    public long EcnMarks => _marks.Ecn;

    /// <summary>Packets marked CE for a sojourn above ce_threshold (ce_mark); a packet may also be in <see cref="EcnMarks"/>.</summary>
    public long CeMarks => _marks.Ce;

    private CodelMarkCounts _marks;

    /// <summary>Flows that joined the new list (new_flow_count).</summary>
    public long NewFlowCount { get; private set; }

    /// <summary>Packets dropped because the qdisc was over limit or memory_limit (drop_overlimit).</summary>
    public long DropOverlimit { get; private set; }

    /// <summary>Of those, because of memory_limit (drop_overmemory).</summary>
    public long DropOvermemory { get; private set; }

    /// <summary>The bucket a flow id hashes to (fq_codel_classify's reciprocal_scale of the flow hash).</summary>
    public int BucketOf(int flow)
    {
        uint h = (uint)flow ^ _hashKey;
        // murmur3's fmix32: every input bit reaches every output bit, as jhash's final mix does.
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return (int)(((ulong)h * (uint)_options.Flows) >> 32);
    }

    /// <summary>A bucket's backlog in bytes (q->backlogs[idx]).</summary>
    public long BacklogOf(int bucket) => _backlog[bucket];

    /// <summary>A bucket's CoDel state.</summary>
    public CodelVars VarsOf(int bucket) => _vars[bucket];

    /// <summary>A bucket's DRR deficit in bytes.</summary>
    public int DeficitOf(int bucket) => _deficit[bucket];

    /// <summary>fq_codel_enqueue.</summary>
    public override QueueVerdict Enqueue(PacketPool pool, int index, long now)
    {
        _pool = pool;
        ref var packet = ref pool[index];
        int idx = BucketOf(packet.Flow);
        packet.EnqueuedNs = now; // codel_set_enqueue_time
        if (index >= _next.Length)
        {
            Array.Resize(ref _next, Math.Max(index + 1, _next.Length * 2));
        }
        _next[index] = -1;
        if (_tail[idx] < 0)
        {
            _head[idx] = index;
        }
        else
        {
            _next[_tail[idx]] = index;
        }
        _tail[idx] = index;
        _backlog[idx] += PktLen(packet);
        CountEnqueued(packet);
        if (_list[idx] == InNoList)
        {
            AddTail(idx, InNewList);
            NewFlowCount++;
            _deficit[idx] = _options.Quantum;
        }
        MemoryUsage += Truesize(PktLen(packet));
        bool memoryLimited = MemoryUsage > _options.MemoryLimit;
        if (Length <= _options.Limit && !memoryLimited)
        {
            return QueueVerdict.Enqueued;
        }
        long before = Drops;
        _arriving = index;
        _arrivingDropped = false;
        Drop(_options.DropBatchSize, now);
        _arriving = -1;
        long dropped = Drops - before;
        DropOverlimit += dropped;
        if (memoryLimited)
        {
            DropOvermemory += dropped;
        }
        return _arrivingDropped ? QueueVerdict.Dropped : QueueVerdict.Enqueued;
    }

    /// <summary>
    /// fq_codel_drop: from the bucket with the largest backlog (the first such), drop head packets until
    /// <paramref name="maxPackets"/> are gone or half its backlog is; its CoDel count grows by the number dropped.
    /// </summary>
    private void Drop(int maxPackets, long now)
    {
        long maxBacklog = 0;
        int idx = 0;
        for (int i = 0; i < _options.Flows; i++)
        {
            if (_backlog[i] > maxBacklog)
            {
                maxBacklog = _backlog[i];
                idx = i;
            }
        }
        long threshold = maxBacklog >> 1;
        long len = 0;
        int n = 0;
        do
        {
            int p = TakeHead(idx);
            len += PktLen(_pool![p]);
            if (p == _arriving)
            {
                _arrivingDropped = true; // the caller still owns it and frees it
                CountRefused();
            }
            else
            {
                DropTaken(_pool, p, now);
            }
        }
        while (++n < maxPackets && len < threshold);
        _vars[idx].Count += (uint)n;
    }

    /// <summary>fq_codel_dequeue (__fq_codel_dequeue): new flows first, DRR by deficit, CoDel per flow.</summary>
    public override int Dequeue(PacketPool pool, long now)
    {
        _pool = pool;
        _now = now;
        while (true)
        {
            bool fromNew = _newHead >= 0;
            int idx = fromNew ? _newHead : _oldHead;
            if (idx < 0)
            {
                return -1;
            }
            if (_deficit[idx] <= 0)
            {
                _deficit[idx] += _options.Quantum;
                RemoveHead(fromNew);
                AddTail(idx, InOldList);
                continue;
            }
            int p = CodelAlgorithm.Dequeue(this, idx, ref _vars[idx], _options.Codel, now);
            if (p < 0)
            {
                // An empty new flow goes to the end of the old list (if that has flows) so a flow cannot regain
                // new-flow priority by emptying; an empty old flow leaves the lists.
                RemoveHead(fromNew);
                if (fromNew && _oldHead >= 0)
                {
                    AddTail(idx, InOldList);
                }
                continue;
            }
            _deficit[idx] -= PktLen(pool[p]);
            return p;
        }
    }

    private int TakeHead(int idx)
    {
        int p = _head[idx];
        _head[idx] = _next[p];
        if (_head[idx] < 0)
        {
            _tail[idx] = -1;
        }
        ref var packet = ref _pool![p];
        _backlog[idx] -= PktLen(packet);
        MemoryUsage -= Truesize(PktLen(packet));
        CountDequeued(packet);
        return p;
    }

    private void AddTail(int idx, byte list)
    {
        _list[idx] = list;
        _listNext[idx] = -1;
        if (list == InNewList)
        {
            if (_newTail < 0)
            {
                _newHead = idx;
            }
            else
            {
                _listNext[_newTail] = idx;
            }
            _newTail = idx;
        }
        else
        {
            if (_oldTail < 0)
            {
                _oldHead = idx;
            }
            else
            {
                _listNext[_oldTail] = idx;
            }
            _oldTail = idx;
        }
    }

    private void RemoveHead(bool fromNew)
    {
        if (fromNew)
        {
            _list[_newHead] = InNoList;
            _newHead = _listNext[_newHead];
            if (_newHead < 0)
            {
                _newTail = -1;
            }
        }
        else
        {
            _list[_oldHead] = InNoList;
            _oldHead = _listNext[_oldHead];
            if (_oldHead < 0)
            {
                _oldTail = -1;
            }
        }
    }

    /// <summary>skb->truesize as modelled: SKB_TRUESIZE of the size rounded to a cache line.</summary>
    internal static long Truesize(int size) => ((size + 63) & ~63) + 576;

    int ICodelBackend.CodelDequeue(int flow) => _head[flow] < 0 ? -1 : TakeHead(flow);

    void ICodelBackend.CodelDrop(int packet, int flow) => DropTaken(_pool!, packet, _now);

    long ICodelBackend.CodelBacklog => Bytes;

    bool ICodelBackend.CodelSetCe(int packet, bool ceThreshold)
    {
        if (!TrySetCe(ref _pool![packet], _now))
        {
            return false;
        }
        _marks.Add(ceThreshold);
        return true;
    }

    long ICodelBackend.CodelEnqueueTime(int packet) => _pool![packet].EnqueuedNs;
}
