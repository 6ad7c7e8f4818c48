using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// One direction of a link: a queue in front of a transmitter of <see cref="RateBps"/> (or, for a trace-driven link,
/// the delivery opportunities of a Mahimahi <see cref="Trace"/>), then <see cref="Delay"/> of propagation, with
/// optional loss on the wire. A full-duplex link is two of these. Rate, delay and loss may change during a run
/// (<see cref="Network.ScheduleChange"/>).
/// </summary>
public sealed class Link
{
    internal Link(LinkTable table, string name, long rateBps, SimTime delay, QueueDiscipline queue, LossModel loss, SimRandom random,
        DeliveryTrace? trace = null)
    {
        _table = table;
        Id = table.Add();
        Trace = trace;
        Cursor = trace is null ? null : new DeliveryCursor(trace);
        Name = name;
        RateBps = rateBps;
        Delay = delay;
        Queue = queue;
        _loss = loss;
        Random = random;
        Stats = new LinkStats(this);
        if (trace is not null)
        {
            queue.LinkHeaderBytes = 0; // mm-link's TUN device: no link-layer header
        }
        if (queue is RedQueue red && red.IdleSlot == default)
        {
            red.IdleSlot = SerializationTime(1500);
        }
        UpdateObserved();
    }

    private readonly LinkTable _table;

    /// <summary>The link's record in its network's table: the transmitter, the queue's accounting, the counters.</summary>
    internal ref LinkState State => ref _table[Id];

    public int Id { get; }
    public string Name { get; }

    /// <summary>The transmitter's rate now; for a trace-driven link, its trace's mean rate (which it does not use).</summary>
    public long RateBps
    {
        get => State.RateBps;
        internal set
        {
            ref var s = ref State;
            s.RateBps = value;
            s.LastSize = -1;
        }
    }

    /// <summary>The one-way propagation delay now.</summary>
    public SimTime Delay
    {
        get => new(State.DelayNs);
        internal set => State.DelayNs = value.Nanoseconds;
    }

    public QueueDiscipline Queue { get; }

    /// <summary>The loss on the wire now.</summary>
    public LossModel Loss
    {
        get => _loss;
        internal set
        {
            _loss = value;
            UpdateObserved();
        }
    }

    public LinkStats Stats { get; }

    /// <summary>Told of every packet transmitted on this link (<c>--pcap</c>); null, the default, costs a null check.</summary>
    public ILinkTap? Tap
    {
        get => _tap;
        set
        {
            _tap = value;
            UpdateObserved();
        }
    }

    /// <summary>The Mahimahi trace that says when the link may deliver; null for a fixed-rate link.</summary>
    public DeliveryTrace? Trace { get; }

    /// <summary>Told what happens at the link in mm-link's terms (<c>--out</c>'s LINK.mmlog); null, the default, costs a null check.</summary>
    public ILinkRecorder? Recorder
    {
        get => _recorder;
        set
        {
            _recorder = value;
            UpdateObserved();
        }
    }

    internal DeliveryCursor? Cursor { get; }

    /// <summary>The interface the link leaves from; null on a link no topology wired to nodes.</summary>
    public NetInterface? Egress { get; internal set; }

    /// <summary>The interface the link arrives at (its packets run that interface's hooks); null if not wired.</summary>
    public NetInterface? Ingress { get; internal set; }

    /// <summary>The other direction of the same cable (XDP_TX leaves on the reverse of the link a packet came in on).</summary>
    public Link? Reverse { get; internal set; }

    /// <summary>When the last packet put on this link reaches the next hop: a delay that shrinks never lets a later packet overtake.</summary>
    internal long LastDeliveryNs
    {
        get => State.LastDeliveryNs;
        set => State.LastDeliveryNs = value;
    }

    private LossModel _loss;
    private ILinkTap? _tap;
    private ILinkRecorder? _recorder;
    private Core.Metrics.LogLinearHistogram? _delayRecorder;

    internal SimRandom Random { get; }

    /// <summary>When the transmitter finishes the packet it is sending (ns); idle once the clock reaches it.</summary>
    internal long BusyUntil
    {
        get => State.BusyUntil;
        set => State.BusyUntil = value;
    }

    /// <summary>A transmission-complete event is pending (only while packets wait behind the one on the wire).</summary>
    internal bool TxEventPending
    {
        get => (State.Flags & LinkState.TxPending) != 0;
        set
        {
            ref var s = ref State;
            s.Flags = value ? s.Flags | LinkState.TxPending : s.Flags & ~LinkState.TxPending;
        }
    }

    /// <summary>The earliest pending queue wake-up (ns), <see cref="long.MaxValue"/> if none is armed.</summary>
    internal long WakeAtNs { get; set; } = long.MaxValue;

    /// <summary>The histogram packets' queueing delays go into while the link records them; null otherwise.</summary>
    internal Core.Metrics.LogLinearHistogram? DelayRecorder
    {
        get => _delayRecorder;
        private set
        {
            _delayRecorder = value;
            UpdateObserved();
        }
    }

    /// <summary>
    /// Records each packet's queueing delay into a fresh <see cref="LinkStats.QueueDelay"/> from now on (a histogram of a
    /// few KB, growing with the largest delay: links a run reports on turn it on at the start of the measurement
    /// window, a dumbbell's many access links do not).
    /// </summary>
    public void RecordQueueDelay()
    {
        DelayRecorder = new Core.Metrics.LogLinearHistogram();
        Stats.QueueDelay = DelayRecorder;
    }

    /// <summary>Stops recording (the end of the measurement window); <see cref="LinkStats.QueueDelay"/> keeps what was recorded.</summary>
    public void StopRecordingQueueDelay() => DelayRecorder = null;

    /// <summary>Time to put <paramref name="bytes"/> on the wire at the link's rate (rounded up to a nanosecond).</summary>
    public SimTime SerializationTime(int bytes) => new((bytes * 8_000_000_000L + RateBps - 1) / RateBps);

    /// <summary><see cref="SerializationTime"/> in nanoseconds, remembered for the last size asked (<see cref="LinkState.Serialization"/>).</summary>
    internal long SerializationNs(int bytes) => State.Serialization(bytes);

    /// <summary>Folds the queue length since the last change into the time integral.</summary>
    internal void AccountQueue(long now) => State.Account(Queue.Length, now);

    /// <summary>
    /// Sets <see cref="LinkState.Observed"/> when a packet's passage needs this object: a tap, a recorder, a delivery
    /// trace, or a loss model that may draw (a Bernoulli loss of 0 never does); <see cref="LinkState.DelayRecorded"/>
    /// while a delay histogram records.
    /// </summary>
    private void UpdateObserved()
    {
        bool observed = _tap is not null || _recorder is not null || Cursor is not null
            || _loss is not BernoulliLoss { Probability: 0 };
        ref var s = ref State;
        s.Flags = observed ? s.Flags | LinkState.Observed : s.Flags & ~LinkState.Observed;
        s.Flags = _delayRecorder is not null ? s.Flags | LinkState.DelayRecorded : s.Flags & ~LinkState.DelayRecorded;
    }
}
