namespace BpfSim.Tcp.Net;

/// <summary>
/// sch_codel (net/sched/sch_codel.c): a FIFO of at most <c>limit</c> packets (default 1000) that drops from the head
/// by the CoDel control law (<see cref="CodelAlgorithm"/>; target 5 ms, interval 100 ms), marking ECT packets instead
/// when <c>ecn</c> is on, and marking CE above <c>ce_threshold</c> when one is set. Arrivals beyond the limit are
/// dropped (drop_overlimit).
/// </summary>
public sealed class CodelQueue : QueueDiscipline, ICodelBackend
{
    private readonly CodelParams _params;
    private CodelVars _vars;
    private PacketPool? _pool;
    private long _now;

    /// <param name="parameters">CoDel's parameters (<see cref="CodelParams.Default"/> is codel_params_init).</param>
    /// <param name="limit">sch->limit in packets (DEFAULT_CODEL_LIMIT 1000).</param>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not positive, or target or interval is zero.</exception>
    public CodelQueue(CodelParams parameters, int limit = DefaultLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfZero(parameters.Interval, nameof(parameters));
        _params = parameters;
        Limit = limit;
        LinkHeaderBytes = EthernetHeaderBytes;
        DequeuesWhenEmpty = true; // codel_dequeue on an empty queue leaves the dropping state (codel_impl.h)
    }

    /// <summary>DEFAULT_CODEL_LIMIT.</summary>
    public const int DefaultLimit = 1000;

    public int Limit { get; }

    public CodelParams Parameters => _params;

    /// <summary>The CoDel state, for tests and traces.</summary>
    public CodelVars Vars => _vars;

    /// <summary>Packets marked CE instead of dropped (ecn_mark; one already CE counts, as INET_ECN_set_ce succeeds).</summary>
    public long EcnMarks => _marks.Ecn;

    /// <summary>Packets marked CE for a sojourn above ce_threshold (ce_mark); a packet may also be in <see cref="EcnMarks"/>.</summary>
    public long CeMarks => _marks.Ce;

    private CodelMarkCounts _marks;

    /// <summary>Arrivals refused because the queue held <see cref="Limit"/> packets (drop_overlimit).</summary>
    public long DropOverlimit { get; private set; }

    protected override QueueVerdict Admit(ref Packet packet, long now)
    {
        if (Length < Limit)
        {
            return QueueVerdict.Enqueued;
        }
        DropOverlimit++;
        return QueueVerdict.Dropped;
    }

    public override int Dequeue(PacketPool pool, long now)
    {
        _pool = pool;
        _now = now;
        return CodelAlgorithm.Dequeue(this, 0, ref _vars, _params, now);
    }

    int ICodelBackend.CodelDequeue(int flow) => DequeueHead(_pool!, 0);

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
