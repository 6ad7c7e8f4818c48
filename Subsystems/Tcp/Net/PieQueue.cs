using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// PIE, Proportional Integral controller Enhanced (RFC 8033), as net/sched/sch_pie.c implements it: a FIFO whose
/// arrivals are dropped early with a probability that a timer recomputes every <c>tupdate</c> from the queueing
/// delay's distance to <c>target</c> (alpha) and its trend (beta), both scaled down while the probability is small;
/// no early drop during the 150 ms burst allowance, below half the target at a low probability, or with less than
/// two MTUs queued; drops are de-randomised by an accumulated probability. The delay comes from each departing
/// packet's timestamp, or with <c>dq_rate_estimator</c> from the measured departure rate.
/// </summary>
/// <remarks>
/// Time is in psched ticks (ns &gt;&gt; 6) and probabilities in the kernel's fixed point (MAX_PROB = 2^56 − 1), so
/// the arithmetic, its truncations included, is the kernel's. The kernel's timer (pie_timer) runs on its own;
/// between packets nothing it reads changes, so here the updates due are run, in order, before each enqueue and
/// dequeue, which gives the same probabilities without an event per tupdate. The first update is HZ/2 after the
/// qdisc is created (pie_init), as in the kernel.
/// </remarks>
public sealed class PieQueue : QueueDiscipline
{
    /// <summary>MAX_PROB: U64_MAX &gt;&gt; BITS_PER_BYTE.</summary>
    public const ulong MaxProb = ulong.MaxValue >> 8;

    private const int PschedShift = 6;
    private const ulong PschedTicksPerSec = 1_000_000_000UL >> PschedShift;
    private const ulong DtimeInvalid = ulong.MaxValue;
    private const long DqCountInvalid = -1;
    private const int QueueThreshold = 16384;
    private const int PieScale = 8;
    private const uint Mtu = 1514;

    private readonly PieOptions _options;
    private readonly ulong _target;
    private readonly SimRandom _random;
    private long _nextUpdateNs;
    private PacketPool? _pool;

    // struct pie_vars
    private ulong _qdelay, _qdelayOld, _burstTime, _dqTstamp, _prob, _accuProb;
    private long _dqCount;
    private uint _avgDqRate;

    /// <param name="random">The queue's random stream (get_random_bytes in pie_drop_early).</param>
    /// <param name="createdNs">When the qdisc is set up: its first probability update is 500 ms later.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PieQueue(PieOptions options, SimRandom random, long createdNs = 0)
    {
        options.Validate();
        _options = options;
        LinkHeaderBytes = EthernetHeaderBytes;
        _target = (ulong)options.TargetNs >> PschedShift;
        _random = random;
        VarsInit();
        _nextUpdateNs = createdNs + 500_000_000; // mod_timer(&q->adapt_timer, jiffies + HZ / 2)
    }

    public PieOptions Options => _options;

    /// <summary>The drop probability in MAX_PROB units.</summary>
    public ulong Probability => _prob;

    /// <summary>The queueing delay PIE last computed (ns).</summary>
    public long QueueDelayNs => (long)(_qdelay << PschedShift);

    /// <summary>The remaining burst allowance (ns).</summary>
    public long BurstAllowanceNs => (long)(_burstTime << PschedShift);

    /// <summary>The departure-rate estimate (bytes per psched tick, scaled by 2^8), dq_rate_estimator only.</summary>
    public uint AverageDqRate => _avgDqRate;

    /// <summary>Arrivals refused because the queue held <c>limit</c> packets (overlimit).</summary>
    public long Overlimit { get; private set; }

    /// <summary>Runs the probability updates due by <paramref name="now"/>; the queue does this itself at every packet.</summary>
    public void AdvanceTo(long now)
    {
        while (_nextUpdateNs <= now)
        {
            CalculateProbability((ulong)Bytes);
            _nextUpdateNs += _options.TupdateNs;
            if (Bytes == 0 && _prob == 0 && _qdelay == 0 && _qdelayOld == 0 && _burstTime == ((150_000_000UL) >> PschedShift) && _nextUpdateNs < now)
            {
                // Idle and reset: further updates change nothing until a packet comes; skip them in one step.
                long missed = (now - _nextUpdateNs) / _options.TupdateNs;
                _nextUpdateNs += missed * _options.TupdateNs;
            }
        }
    }

    /// <summary>pie_qdisc_enqueue's decision.</summary>
    protected override QueueVerdict Admit(ref Packet packet, long now)
    {
        AdvanceTo(now);
        if (Length >= _options.Limit)
        {
            Overlimit++;
            _accuProb = 0;
            return QueueVerdict.Dropped;
        }
        if (!DropEarly((ulong)Bytes, (uint)PktLen(packet)))
        {
            return QueueVerdict.Enqueued;
        }
        if (_options.Ecn && _prob <= MaxProb / 10 && IsEcnCapable(packet))
        {
            return QueueVerdict.Marked; // ECN-capable and the probability is at most 10 %: mark rather than drop
        }
        _accuProb = 0;
        return QueueVerdict.Dropped;
    }

    /// <summary>pie_qdisc_dequeue: the head, then pie_process_dequeue with the backlog left behind it.</summary>
    public override int Dequeue(PacketPool pool, long now)
    {
        _pool = pool;
        AdvanceTo(now);
        int p = DequeueHead(pool, now);
        if (p >= 0)
        {
            ProcessDequeue(pool[p], (ulong)Bytes, now);
        }
        return p;
    }

    private void VarsInit()
    {
        _burstTime = 150_000_000UL >> PschedShift;
        _dqTstamp = DtimeInvalid;
        _accuProb = 0;
        _dqCount = DqCountInvalid;
        _avgDqRate = 0;
    }

    /// <summary>pie_drop_early.</summary>
    private bool DropEarly(ulong backlog, uint packetSize)
    {
        ulong localProb = _prob;
        if (_burstTime > 0)
        {
            return false;
        }
        if (_qdelay < _target / 2 && _prob < MaxProb / 5)
        {
            return false; // delay below half the target and a low probability: no drop
        }
        if (backlog < 2 * Mtu)
        {
            return false; // fewer than two packets' worth queued
        }
        if (_options.Bytemode && packetSize <= Mtu)
        {
            localProb = packetSize * (localProb / Mtu);
        }
        if (localProb == 0)
        {
            _accuProb = 0;
        }
        else
        {
            _accuProb += localProb;
        }
        // De-randomisation: never below 0.85 accumulated, always at 8.5.
        if (_accuProb < MaxProb / 100 * 85)
        {
            return false;
        }
        if (_accuProb >= MaxProb / 2 * 17)
        {
            return true;
        }
        ulong rnd = _random.NextUInt64();
        if ((rnd >> 8) < localProb)
        {
            _accuProb = 0;
            return true;
        }
        return false;
    }

    /// <summary>pie_process_dequeue: the delay sample (timestamps) or the departure-rate estimate, and the burst allowance.</summary>
    private void ProcessDequeue(in Packet packet, ulong backlog, long nowNs)
    {
        ulong now = (ulong)nowNs >> PschedShift;
        ulong dtime = 0;
        if (!_options.DqRateEstimator)
        {
            _qdelay = backlog != 0 ? now - ((ulong)packet.EnqueuedNs >> PschedShift) : 0;
            if (_dqTstamp != DtimeInvalid)
            {
                dtime = now - _dqTstamp;
            }
            _dqTstamp = now;
            if (dtime == 0)
            {
                return;
            }
        }
        else
        {
            if (backlog >= QueueThreshold && _dqCount == DqCountInvalid)
            {
                _dqTstamp = now;
                _dqCount = 0;
            }
            if (_dqCount == DqCountInvalid)
            {
                return;
            }
            _dqCount += PktLen(packet);
            if (_dqCount < QueueThreshold)
            {
                return;
            }
            uint count = (uint)(_dqCount << PieScale);
            dtime = now - _dqTstamp;
            if (dtime == 0)
            {
                return;
            }
            count = (uint)(count / (uint)dtime);
            _avgDqRate = _avgDqRate == 0 ? count : _avgDqRate - (_avgDqRate >> 3) + (count >> 3);
            if (backlog < QueueThreshold)
            {
                _dqCount = DqCountInvalid;
            }
            else
            {
                _dqCount = 0;
                _dqTstamp = now;
            }
        }
        if (_burstTime > 0)
        {
            _burstTime = _burstTime > dtime ? _burstTime - dtime : 0;
        }
    }

    /// <summary>pie_calculate_probability, run by the timer every tupdate.</summary>
    private void CalculateProbability(ulong backlog)
    {
        ulong qdelay, qdelayOld;
        bool updateProb = true;
        if (_options.DqRateEstimator)
        {
            qdelayOld = _qdelay;
            _qdelayOld = _qdelay;
            qdelay = _avgDqRate > 0 ? (uint)((uint)backlog << PieScale) / _avgDqRate : 0;
        }
        else
        {
            qdelay = _qdelay;
            qdelayOld = _qdelayOld;
        }
        if (qdelay == 0 && backlog != 0)
        {
            updateProb = false; // a delay of 0 with packets queued is no reason to decay
        }
        // alpha and beta are in 1/16 units, turned into probability per psched tick of delay.
        ulong alpha = ((ulong)_options.Alpha * (MaxProb / PschedTicksPerSec)) >> 4;
        ulong beta = ((ulong)_options.Beta * (MaxProb / PschedTicksPerSec)) >> 4;
        // Scale them down while the probability is small, so that it starts slowly: by 2 below 10 %, then by 4
        // more per decade below 1 %, 0.1 %, ... down to 0.0001 %.
        if (_prob < MaxProb / 10)
        {
            alpha >>= 1;
            beta >>= 1;
            ulong power = 100;
            while (_prob < MaxProb / power && power <= 1_000_000)
            {
                alpha >>= 2;
                beta >>= 2;
                power *= 10;
            }
        }
        long delta = 0;
        unchecked
        {
            delta += (long)(alpha * (qdelay - _target));
            delta += (long)(beta * (qdelay - qdelayOld));
        }
        ulong oldProb = _prob;
        // Above 10 %, at most 2 % more per update; above 250 ms of delay, 2 % more regardless.
        if (delta > (long)(MaxProb / (100 / 2)) && _prob >= MaxProb / 10)
        {
            delta = (long)(MaxProb / 100 * 2);
        }
        if (qdelay > 250_000_000UL >> PschedShift)
        {
            delta += (long)(MaxProb / (100 / 2));
        }
        _prob = unchecked(_prob + (ulong)delta);
        if (delta > 0)
        {
            if (_prob < oldProb)
            {
                _prob = MaxProb; // overflow: saturate
                updateProb = false;
            }
        }
        else if (_prob > oldProb)
        {
            _prob = 0; // underflow
        }
        // Without congestion the probability decays by 1/64 per update (pie_calculate_probability).
        if (qdelay == 0 && qdelayOld == 0 && updateProb)
        {
            _prob -= _prob / 64;
        }
        _qdelay = qdelay;
        if (_qdelay < _target / 2 && _qdelayOld < _target / 2 && _prob == 0
            && (!_options.DqRateEstimator || _avgDqRate > 0))
        {
            VarsInit(); // the queue is quiet again: a new burst allowance
        }
        if (!_options.DqRateEstimator)
        {
            _qdelayOld = qdelay;
        }
    }
}
