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

    internal SimRandom Random { get; }

    /// <summary>The packet being transmitted, or -1.</summary>
    internal int Transmitting { get; set; } = -1;

    internal long LastQueueChange { get; set; }

    /// <summary>Time to put <paramref name="bytes"/> on the wire at the link's rate (rounded up to a nanosecond).</summary>
    public SimTime SerializationTime(int bytes) => new((bytes * 8_000_000_000L + RateBps - 1) / RateBps);

    /// <summary>Folds the queue length since the last change into the time integral.</summary>
    internal void AccountQueue(long now)
    {
        Stats.QueueIntegral += (double)Queue.Length * (now - LastQueueChange);
        LastQueueChange = now;
    }
}
