using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Random Early Detection as Floyd and Jacobson's paper ("Random Early Detection Gateways for Congestion
/// Avoidance", 1993) gives it, in packet mode: an EWMA of the queue length in packets (weight <c>w_q</c>, decayed
/// over idle time as if full-size packets had been sent), no action below <c>min</c>, a probability rising linearly
/// to <c>p_max</c> at <c>max</c> spread out by the count since the last action, and always acting above <c>max</c>.
/// With ECN on, ECN-capable packets are marked instead of dropped.
/// </summary>
/// <remarks>
/// This is not Linux's sch_red (net/sched/sch_red.c, include/net/red.h): that one keeps thresholds and average in
/// bytes of backlog, derives its weight from tc's burst and avpkt, works in fixed point with a random qR drawn when
/// the count restarts (so the first packet above min is never marked), restarts the count at -1 after a forced mark,
/// and has harddrop, adaptive and gentle modes; here the limit is also checked before the RED decision.
/// </remarks>
public sealed class RedQueue : QueueDiscipline
{
    private readonly SimRandom _random;
    private double _avg;
    private int _count = -1;
    private long _idleSince = -1;

    /// <param name="minThreshold">min_th in packets.</param>
    /// <param name="maxThreshold">max_th in packets.</param>
    /// <param name="maxProbability">p_max in (0, 1].</param>
    /// <param name="limitPackets">Hard limit in packets.</param>
    /// <param name="ecn">Mark ECN-capable packets instead of dropping them.</param>
    /// <param name="random">The link's random stream.</param>
    /// <param name="weight">w_q, the EWMA weight (Floyd and Jacobson recommend 0.002).</param>
    /// <param name="idleSlot">How long one packet takes to send; idle time is counted in such slots.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public RedQueue(double minThreshold, double maxThreshold, double maxProbability, int limitPackets, bool ecn, SimRandom random,
        double weight = 0.002, SimTime idleSlot = default)
    {
        if (minThreshold <= 0 || maxThreshold <= minThreshold)
        {
            throw new ArgumentOutOfRangeException(nameof(maxThreshold), "RED needs 0 < min < max");
        }
        if (maxProbability is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxProbability), "p_max must be in (0, 1]");
        }
        if (weight is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), "w_q must be in (0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPackets, (int)Math.Ceiling(maxThreshold));
        MinThreshold = minThreshold;
        MaxThreshold = maxThreshold;
        MaxProbability = maxProbability;
        LimitPackets = limitPackets;
        Ecn = ecn;
        Weight = weight;
        IdleSlot = idleSlot;
        _random = random;
    }

    public double MinThreshold { get; }
    public double MaxThreshold { get; }
    public double MaxProbability { get; }
    public int LimitPackets { get; }
    public bool Ecn { get; }
    public double Weight { get; }

    /// <summary>The time one packet takes on the link; set by the link that owns the queue.</summary>
    public SimTime IdleSlot { get; internal set; }

    /// <summary>The current average queue length in packets.</summary>
    public double Average => _avg;

    protected override QueueVerdict Admit(ref Packet packet, long now)
    {
        UpdateAverage(now);
        if (Length >= LimitPackets)
        {
            _count = 0;
            return QueueVerdict.Dropped;
        }
        if (_avg < MinThreshold)
        {
            _count = -1;
            return QueueVerdict.Enqueued;
        }
        bool act;
        if (_avg >= MaxThreshold)
        {
            act = true;
        }
        else
        {
            _count++;
            double pb = MaxProbability * (_avg - MinThreshold) / (MaxThreshold - MinThreshold);
            double pa = _count * pb >= 1 ? 1 : pb / (1 - _count * pb);
            act = _random.NextDouble() < pa;
        }
        if (!act)
        {
            return QueueVerdict.Enqueued;
        }
        _count = 0;
        return Ecn && IsEcnCapable(packet) ? QueueVerdict.Marked : QueueVerdict.Dropped;
    }

    private void UpdateAverage(long now)
    {
        if (Length == 0 && _idleSince >= 0)
        {
            // The queue was idle: decay the average as if m packets had been sent meanwhile.
            long slot = Math.Max(IdleSlot.Nanoseconds, 1);
            double m = (now - _idleSince) / (double)slot;
            _avg *= Math.Pow(1 - Weight, m);
            _idleSince = -1;
        }
        _avg = (1 - Weight) * _avg + Weight * Length;
    }

    protected override void OnEmpty(long now) => _idleSince = now;
}
