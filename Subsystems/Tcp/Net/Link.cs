using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// One direction of a link: a queue in front of a transmitter of <see cref="RateBps"/>, then
/// <see cref="Delay"/> of propagation, with optional loss on the wire. A full-duplex link is two of these.
/// </summary>
public sealed class Link
{
    internal Link(int id, string name, long rateBps, SimTime delay, QueueDiscipline queue, LossModel loss, SimRandom random)
    {
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
    public long RateBps { get; }
    public SimTime Delay { get; }
    public QueueDiscipline Queue { get; }
    public LossModel Loss { get; }
    public LinkStats Stats { get; } = new();

    /// <summary>Told of every packet transmitted on this link (<c>--pcap</c>); null, the default, costs a null check.</summary>
    public ILinkTap? Tap { get; set; }

    internal SimRandom Random { get; }

    /// <summary>When the transmitter finishes the packet it is sending (ns); idle once the clock reaches it.</summary>
    internal long BusyUntil { get; set; }

    /// <summary>A transmission-complete event is pending (only while packets wait behind the one on the wire).</summary>
    internal bool TxEventPending { get; set; }

    internal long LastQueueChange { get; set; }

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
