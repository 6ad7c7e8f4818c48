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
    internal Link(int id, string name, long rateBps, SimTime delay, QueueDiscipline queue, LossModel loss, SimRandom random,
        DeliveryTrace? trace = null)
    {
        Trace = trace;
        Cursor = trace is null ? null : new DeliveryCursor(trace);
        Id = id;
        Name = name;
        RateBps = rateBps;
        Delay = delay;
        Queue = queue;
        Loss = loss;
        Random = random;
        if (queue is RedQueue red && red.IdleSlot == default)
        {
            red.IdleSlot = SerializationTime(1500);
        }
    }

    public int Id { get; }
    public string Name { get; }

    /// <summary>The transmitter's rate now; for a trace-driven link, its trace's mean rate (which it does not use).</summary>
    public long RateBps
    {
        get => _rateBps;
        internal set
        {
            _rateBps = value;
            _lastSize = -1;
        }
    }

    /// <summary>The one-way propagation delay now.</summary>
    public SimTime Delay { get; internal set; }
    public QueueDiscipline Queue { get; }

    /// <summary>The loss on the wire now.</summary>
    public LossModel Loss { get; internal set; }
    public LinkStats Stats { get; } = new();

    /// <summary>Told of every packet transmitted on this link (<c>--pcap</c>); null, the default, costs a null check.</summary>
    public ILinkTap? Tap { get; set; }

    /// <summary>The Mahimahi trace that says when the link may deliver; null for a fixed-rate link.</summary>
    public DeliveryTrace? Trace { get; }

    /// <summary>Told what happens at the link in mm-link's terms (<c>--out</c>'s LINK.mmlog); null, the default, costs a null check.</summary>
    public ILinkRecorder? Recorder { get; set; }

    internal DeliveryCursor? Cursor { get; }

    /// <summary>The interface the link leaves from; null on a link no topology wired to nodes.</summary>
    public NetInterface? Egress { get; internal set; }

    /// <summary>The interface the link arrives at (its packets run that interface's hooks); null if not wired.</summary>
    public NetInterface? Ingress { get; internal set; }

    /// <summary>The other direction of the same cable (XDP_TX leaves on the reverse of the link a packet came in on).</summary>
    public Link? Reverse { get; internal set; }

    /// <summary>When the last packet put on this link reaches the next hop: a delay that shrinks never lets a later packet overtake.</summary>
    internal long LastDeliveryNs { get; set; }

    private long _rateBps;

    internal SimRandom Random { get; }

    /// <summary>When the transmitter finishes the packet it is sending (ns); idle once the clock reaches it.</summary>
    internal long BusyUntil { get; set; }

    /// <summary>A transmission-complete event is pending (only while packets wait behind the one on the wire).</summary>
    internal bool TxEventPending { get; set; }

    internal long LastQueueChange { get; set; }

    /// <summary>The earliest pending queue wake-up (ns), <see cref="long.MaxValue"/> if none is armed.</summary>
    internal long WakeAtNs { get; set; } = long.MaxValue;

    /// <summary>The histogram packets' queueing delays go into while the link records them; null otherwise.</summary>
    internal Core.Metrics.LogLinearHistogram? DelayRecorder { get; private set; }

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

    // One direction of a link carries nearly always one packet size (data one way, ACKs the other), so the last
    // size's serialisation time is kept: the 64-bit division was the most expensive instruction of forwarding.
    private int _lastSize = -1;
    private long _lastSerializationNs;

    /// <summary><see cref="SerializationTime"/> in nanoseconds, remembered for the last size asked.</summary>
    internal long SerializationNs(int bytes)
    {
        if (bytes != _lastSize)
        {
            _lastSerializationNs = SerializationTime(bytes).Nanoseconds;
            _lastSize = bytes;
        }
        return _lastSerializationNs;
    }

    /// <summary>Folds the queue length since the last change into the time integral.</summary>
    internal void AccountQueue(long now)
    {
        Stats.QueueIntegral += (double)Queue.Length * (now - LastQueueChange);
        LastQueueChange = now;
    }
}
