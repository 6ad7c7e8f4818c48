using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Net;

/// <summary>
/// sch_fq (net/sched/sch_fq.c), the Fair Queue packet scheduler BBR is designed for: a queue per socket (the packet's
/// flow), served by a deficit round robin of <c>quantum</c> bytes with new flows (that were idle) ahead of old ones
/// and <c>initial_quantum</c> of credit for a flow's start; per-flow pacing, each packet leaving no earlier than its
/// time_to_send — the socket's earliest departure time (skb->tstamp, EDT) or, for a packet without one, the
/// flow's next time from sk_pacing_rate (capped by <c>maxrate</c>) — with flows waiting for their time kept in a
/// min-heap by time_next_packet and the link told when the first of them is due (<see cref="NextEligibleNs"/>, fq's
/// watchdog); <c>flow_limit</c> packets per flow, <c>limit</c> in all, and a packet stamped beyond the
/// <c>horizon</c> dropped. A packet that finds no flow backlogged goes to the internal queue and leaves first, as
/// fq_fastpath_check lets it.
/// </summary>
/// <remarks>
/// One priority band is modelled (all traffic is TC_PRIO_BESTEFFORT, band 1), the flow table is an array indexed by
/// flow id (the kernel's rb-trees of sockets, with no garbage collection needed), and a flow's packets are a list
/// kept in time_to_send order (the kernel's list plus rb-tree for out-of-order timestamps; TCP's are monotonic).
/// The watchdog's 10 µs of timer slack is not modelled: a flow is released exactly at its time. Neither is fq_gc:
/// a socket's flow keeps its state however long it idles (the kernel frees a flow detached for 3 s only when
/// another socket's lookup walks past it).
/// </remarks>
public sealed class FqQueue : QueueDiscipline
{
    private const byte Unknown = 0, Detached = 1, NewList = 2, OldList = 3, Throttled = 4;

    private readonly FqOptions _options;
    private readonly FqThrottledHeap _throttled = new();
    private ISocketPacing? _sockets;
    private int[] _fHead = [], _fTail = [], _fQlen = [], _fCredit = [], _fNext = [];
    private long[] _fTimeNext = [], _fAge = []; // _fAge in jiffies (AgeNow)
    private readonly long _refillDelayJiffies;
    private byte[] _fState = [];
    private int[] _next = new int[1024];
    private long[] _timeToSend = new long[1024];
    private int _newHead = -1, _newTail = -1, _oldHead = -1, _oldTail = -1;
    private int _flows, _inactiveFlows;
    private long _timeNextDelayedFlow = long.MaxValue;

    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FqQueue(FqOptions options)
    {
        options.Validate();
        _options = options;
        LinkHeaderBytes = EthernetHeaderBytes;
        _refillDelayJiffies = (long)Jiffies.UsecsToJiffies((uint)Math.Min(options.RefillDelayNs / 1000, uint.MaxValue), options.Hz);
    }

    // sch_fq.c keeps a detached flow's age in jiffies, with the low bit set to mark it detached (fq_flow_set_detached:
    // f->age = jiffies | 1), and refills its credit when time_after(jiffies, f->age + flow_refill_delay).
    private long AgeNow(long now) => (long)Jiffies.JiffiesAtNsecs((ulong)now, _options.Hz) | 1;

    public FqOptions Options => _options;

    /// <summary>Lets fq read the senders' pacing rates and tell them they are paced (skb->sk).</summary>
    public void AttachSockets(ISocketPacing sockets) => _sockets = sockets;

    /// <summary>q->time_next_delayed_flow: when the first throttled flow is due.</summary>
    public override long NextEligibleNs => _timeNextDelayedFlow;

    /// <summary>Flows throttled so far (stat_throttled).</summary>
    public long ThrottledCount { get; private set; }

    /// <summary>Arrivals dropped because their flow held flow_limit packets (stat_flows_plimit).</summary>
    public long FlowLimitDrops { get; private set; }

    /// <summary>Arrivals dropped because the qdisc held limit packets (stat_band_drops).</summary>
    public long LimitDrops { get; private set; }

    /// <summary>Arrivals stamped beyond the horizon: dropped (stat_horizon_drops) or capped (stat_horizon_caps).</summary>
    public long HorizonDrops { get; private set; }

    public long HorizonCaps { get; private set; }

    /// <summary>Packets dequeued later than ce_threshold (stat_ce_mark): counted whether or not INET_ECN_set_ce took.</summary>
    public long CeMarks { get; private set; }

    /// <summary>Packets that took the fast path to the internal queue (stat_fastpath_packets).</summary>
    public long FastpathPackets { get; private set; }

    /// <summary>A flow's next allowed departure (ns), 0 before its first paced packet.</summary>
    public long TimeNextPacketOf(int flow) => flow < _fTimeNext.Length ? _fTimeNext[flow] : 0;

    /// <summary>A flow's DRR credit in bytes.</summary>
    public int CreditOf(int flow) => flow < _fCredit.Length ? _fCredit[flow] : 0;

    /// <summary>fq_enqueue.</summary>
    public override QueueVerdict Enqueue(PacketPool pool, int index, long now)
    {
        ref var packet = ref pool[index];
        // fq_enqueue compares the band's packet count, which leaves out the internal (fast-path) queue.
        if (Length - FifoLength >= _options.Limit)
        {
            LimitDrops++;
            CountRefused();
            return QueueVerdict.Dropped;
        }
        long timeToSend = now;
        if (packet.Tstamp != 0)
        {
            if (packet.Tstamp > now + _options.HorizonNs)
            {
                if (_options.HorizonDrop)
                {
                    HorizonDrops++;
                    CountRefused();
                    return QueueVerdict.Dropped;
                }
                HorizonCaps++;
                packet.Tstamp = now + _options.HorizonNs;
            }
            // sch_fq.c fq_enqueue takes time_to_send = skb->tstamp. On the sending host, where fq stands in Linux,
            // that stamp is the EDT of a packet still in the host, never earlier than its arrival at the qdisc; on a
            // router ip_forward() clears it (skb_clear_tstamp, net/ipv4/ip_forward.c) and time_to_send is now. Here a
            // packet keeps its sender's stamp along the path, so a stamp already past is taken as now: otherwise
            // fq_dequeue's ce_threshold lateness (now - time_to_send) would count the upstream links' serialisation
            // and propagation. A past stamp never holds a packet back, so pacing is unchanged.
            timeToSend = Math.Max(packet.Tstamp, now);
        }
        EnsureCapacity(index, packet.Flow);
        _timeToSend[index] = timeToSend;
        if (FastpathCheck(timeToSend, now))
        {
            FastpathPackets++;
            if (_options.Pacing)
            {
                _sockets?.SetPacingFq(packet.Flow);
            }
            EnqueueFifo(ref packet, index, now);
            return QueueVerdict.Enqueued;
        }
        int f = Classify(packet.Flow, now);
        if (_fQlen[f] >= _options.FlowLimit)
        {
            FlowLimitDrops++;
            CountRefused();
            return QueueVerdict.Dropped;
        }
        if (_fState[f] == Detached)
        {
            AddTail(f, NewList);
            if ((long)Jiffies.JiffiesAtNsecs((ulong)now, _options.Hz) > _fAge[f] + _refillDelayJiffies)
            {
                _fCredit[f] = Math.Max(_fCredit[f], _options.Quantum);
            }
        }
        if (_fQlen[f]++ == 0)
        {
            _inactiveFlows--;
        }
        FlowQueueAdd(f, index);
        packet.EnqueuedNs = now;
        CountEnqueued(packet);
        return QueueVerdict.Enqueued;
    }

    /// <summary>fq_dequeue.</summary>
    public override int Dequeue(PacketPool pool, long now)
    {
        if (Length == 0)
        {
            return -1;
        }
        if (FifoLength > 0)
        {
            return DequeueHead(pool, now); // the internal queue goes first
        }
        CheckThrottled(now);
        while (true)
        {
            bool fromNew = _newHead >= 0;
            int f = fromNew ? _newHead : _oldHead;
            if (f < 0)
            {
                return -1; // every backlogged flow waits for its time: the link wakes at NextEligibleNs
            }
            if (_fCredit[f] <= 0)
            {
                _fCredit[f] += _options.Quantum;
                RemoveHead(fromNew);
                AddTail(f, OldList);
                continue;
            }
            int p = _fHead[f];
            if (p < 0)
            {
                // An emptied new flow passes through the old list once, so it cannot keep new-flow priority.
                RemoveHead(fromNew);
                if (fromNew)
                {
                    AddTail(f, OldList);
                }
                else
                {
                    _fState[f] = Detached;
                    _fAge[f] = AgeNow(now);
                }
                continue;
            }
            long timeNextPacket = Math.Max(_timeToSend[p], _fTimeNext[f]);
            if (now < timeNextPacket)
            {
                RemoveHead(fromNew);
                _fTimeNext[f] = timeNextPacket;
                SetThrottled(f);
                continue;
            }
            ref var packet = ref pool[p];
            if (now - timeNextPacket - _options.CeThresholdNs > 0)
            {
                TrySetCe(ref packet, now);
                CeMarks++; // stat_ce_mark counts every late packet, ECT or not (sch_fq.c fq_dequeue)
            }
            _fHead[f] = _next[p];
            if (_fHead[f] < 0)
            {
                _fTail[f] = -1;
            }
            if (--_fQlen[f] == 0)
            {
                _inactiveFlows++;
            }
            CountDequeued(packet);
            int plen = PktLen(packet);
            _fCredit[f] -= plen;
            if (_options.Pacing)
            {
                Pace(f, packet, plen, now);
            }
            return p;
        }
    }

    /// <summary>The rate part of fq_dequeue: a packet without an EDT spaces its flow by its length at the socket's rate.</summary>
    private void Pace(int f, in Packet packet, int plen, long now)
    {
        ulong rate = _options.MaxRate;
        if (packet.Tstamp == 0)
        {
            rate = Math.Min(_sockets?.PacingRate(packet.Flow) ?? ulong.MaxValue, rate);
            if (rate <= _options.LowRateThreshold)
            {
                _fCredit[f] = 0;
            }
            else
            {
                plen = Math.Max(plen, _options.Quantum);
                if (_fCredit[f] > 0)
                {
                    return; // still within its credit: no gap yet
                }
            }
        }
        if (rate == ulong.MaxValue)
        {
            return;
        }
        ulong len = (ulong)plen * 1_000_000_000UL;
        if (rate != 0)
        {
            len /= rate;
        }
        len = Math.Min(len, 1_000_000_000UL); // clamp the delay to a second
        if (_fTimeNext[f] != 0)
        {
            // Timer and scheduling drift: a late packet takes up to half of its gap off the next.
            len -= Math.Min(len / 2, (ulong)(now - _fTimeNext[f]));
        }
        _fTimeNext[f] = now + (long)len;
    }

    /// <summary>fq_fastpath_check (TCP sockets and no flow max rate assumed away as the kernel's checks allow).</summary>
    private bool FastpathCheck(long timeToSend, long now)
    {
        if (timeToSend > now)
        {
            return false;
        }
        if (Length != 0)
        {
            if (_flows != _inactiveFlows + _throttled.Count || FifoLength >= 8 || _timeNextDelayedFlow <= now)
            {
                return false;
            }
        }
        return _options.MaxRate == ulong.MaxValue;
    }

    /// <summary>fq_classify: the socket's flow, created detached with initial_quantum of credit on its first packet.</summary>
    private int Classify(int flow, long now)
    {
        if (_fState[flow] == Unknown)
        {
            _fState[flow] = Detached; // fq_flow_set_detached: aged now, so no refill on top of initial_quantum
            _fCredit[flow] = _options.InitialQuantum;
            _fAge[flow] = AgeNow(now);
            _fTimeNext[flow] = 0;
            _flows++;
            _inactiveFlows++;
            if (_options.Pacing)
            {
                _sockets?.SetPacingFq(flow);
            }
        }
        return flow;
    }

    /// <summary>flow_queue_add: appended, or placed by time_to_send if it is earlier than the tail's.</summary>
    private void FlowQueueAdd(int f, int index)
    {
        long t = _timeToSend[index];
        int tail = _fTail[f];
        if (tail < 0 || t >= _timeToSend[tail])
        {
            _next[index] = -1;
            if (tail < 0)
            {
                _fHead[f] = index;
            }
            else
            {
                _next[tail] = index;
            }
            _fTail[f] = index;
            return;
        }
        int prev = -1, cur = _fHead[f];
        while (cur >= 0 && _timeToSend[cur] <= t)
        {
            prev = cur;
            cur = _next[cur];
        }
        _next[index] = cur;
        if (prev < 0)
        {
            _fHead[f] = index;
        }
        else
        {
            _next[prev] = index;
        }
    }

    private void SetThrottled(int f)
    {
        _fState[f] = Throttled;
        _throttled.Push(_fTimeNext[f], f);
        ThrottledCount++;
        _timeNextDelayedFlow = Math.Min(_timeNextDelayedFlow, _fTimeNext[f]);
    }

    /// <summary>fq_check_throttled: flows whose time has come go to the end of the old list.</summary>
    private void CheckThrottled(long now)
    {
        if (_timeNextDelayedFlow > now)
        {
            return;
        }
        _timeNextDelayedFlow = long.MaxValue;
        while (_throttled.Count > 0)
        {
            if (_throttled.MinTime > now)
            {
                _timeNextDelayedFlow = _throttled.MinTime;
                break;
            }
            int f = _throttled.MinFlow;
            _throttled.Pop();
            AddTail(f, OldList);
        }
    }

    private void AddTail(int f, byte list)
    {
        _fState[f] = list;
        _fNext[f] = -1;
        ref int head = ref list == NewList ? ref _newHead : ref _oldHead;
        ref int tail = ref list == NewList ? ref _newTail : ref _oldTail;
        if (tail < 0)
        {
            head = f;
        }
        else
        {
            _fNext[tail] = f;
        }
        tail = f;
    }

    private void RemoveHead(bool fromNew)
    {
        ref int head = ref fromNew ? ref _newHead : ref _oldHead;
        ref int tail = ref fromNew ? ref _newTail : ref _oldTail;
        head = _fNext[head];
        if (head < 0)
        {
            tail = -1;
        }
    }

    private void EnsureCapacity(int index, int flow)
    {
        if (index >= _next.Length)
        {
            int n = Math.Max(index + 1, _next.Length * 2);
            Array.Resize(ref _next, n);
            Array.Resize(ref _timeToSend, n);
        }
        if (flow >= _fState.Length)
        {
            int n = Math.Max(flow + 1, Math.Max(16, _fState.Length * 2));
            int old = _fState.Length;
            Array.Resize(ref _fHead, n);
            Array.Resize(ref _fTail, n);
            Array.Resize(ref _fQlen, n);
            Array.Resize(ref _fCredit, n);
            Array.Resize(ref _fNext, n);
            Array.Resize(ref _fTimeNext, n);
            Array.Resize(ref _fAge, n);
            Array.Resize(ref _fState, n);
            Array.Fill(_fHead, -1, old, n - old);
            Array.Fill(_fTail, -1, old, n - old);
        }
    }
}
