namespace BpfSim.Tcp.Net;

/// <summary>
/// CoDel (Nichols and Jacobson, "Controlling Queue Delay", 2012) as Linux implements it in include/net/codel.h and
/// include/net/codel_impl.h, shared by <see cref="CodelQueue"/> (sch_codel.c) and <see cref="FqCodelQueue"/>
/// (sch_fq_codel.c): time in codel_time_t (ns &gt;&gt; 10, 32 bits, compared with wrap-around), the control law
/// next = t + interval/sqrt(count) with 1/sqrt(count) kept in 16 bits by one Newton step per count change, and the
/// re-entry rule that resumes near the previous drop rate.
/// </summary>
internal static class CodelAlgorithm
{
    /// <summary>CODEL_SHIFT: codel_time_t is ns &gt;&gt; 10.</summary>
    public const int Shift = 10;

    /// <summary>REC_INV_SQRT_SHIFT: rec_inv_sqrt keeps the top 16 of 32 bits.</summary>
    private const int RecInvSqrtShift = 16;

    /// <summary>Nanoseconds to codel_time_t (codel_get_time, MS2TIME).</summary>
    public static uint FromNs(long ns) => (uint)(ns >> Shift);

    /// <summary>codel_time_t to nanoseconds.</summary>
    public static long ToNs(uint t) => (long)t << Shift;

    /// <summary>codel_time_before(a, b): (s32)(a − b) &lt; 0.</summary>
    private static bool Before(uint a, uint b) => (int)(a - b) < 0;

    /// <summary>codel_time_after(a, b).</summary>
    private static bool After(uint a, uint b) => (int)(a - b) > 0;

    /// <summary>codel_Newton_step: one Newton iteration of 1/sqrt(count) in fixed point.</summary>
    public static void NewtonStep(ref CodelVars vars)
    {
        uint invsqrt = (uint)vars.RecInvSqrt << RecInvSqrtShift;
        uint invsqrt2 = (uint)(((ulong)invsqrt * invsqrt) >> 32);
        ulong val = (3UL << 32) - (ulong)vars.Count * invsqrt2;
        val >>= 2; // avoid overflow in the multiply
        val = (val * invsqrt) >> (32 - 2 + 1);
        vars.RecInvSqrt = (ushort)(val >> RecInvSqrtShift);
    }

    /// <summary>codel_control_law: t + interval × rec_inv_sqrt (reciprocal_scale).</summary>
    public static uint ControlLaw(uint t, uint interval, ushort recInvSqrt) =>
        t + (uint)(((ulong)interval * ((uint)recInvSqrt << RecInvSqrtShift)) >> 32);

    /// <summary>
    /// codel_should_drop: the packet's sojourn is noted; below target, or with no more than an MTU queued, the
    /// above-target clock stops; otherwise a drop is allowed once it has stayed above target for an interval.
    /// </summary>
    private static bool ShouldDrop<T>(T backend, int packet, ref CodelVars vars, in CodelParams p, uint now) where T : ICodelBackend
    {
        if (packet < 0)
        {
            vars.FirstAboveTime = 0;
            return false;
        }
        vars.Ldelay = now - FromNs(backend.CodelEnqueueTime(packet));
        if (Before(vars.Ldelay, p.Target) || backend.CodelBacklog <= p.Mtu)
        {
            vars.FirstAboveTime = 0; // went below: stay below for at least an interval
            return false;
        }
        if (vars.FirstAboveTime == 0)
        {
            // Just went above from below: if it stays above for an interval, a drop is allowed then.
            vars.FirstAboveTime = now + p.Interval;
            return false;
        }
        return After(now, vars.FirstAboveTime);
    }

    /// <summary>
    /// codel_dequeue: takes the head of <paramref name="flow"/>, dropping (or, with ECN, marking) as the state
    /// machine says; then marks CE above ce_threshold.
    /// </summary>
    /// <returns>The packet to send, or -1 if the queue is (or was emptied) empty.</returns>
    public static int Dequeue<T>(T backend, int flow, ref CodelVars vars, in CodelParams p, long nowNs) where T : ICodelBackend
    {
        int packet = backend.CodelDequeue(flow);
        if (packet < 0)
        {
            vars.FirstAboveTime = 0;
            vars.Dropping = false;
            return packet;
        }
        uint now = FromNs(nowNs);
        bool drop = ShouldDrop(backend, packet, ref vars, p, now);
        if (vars.Dropping)
        {
            if (!drop)
            {
                vars.Dropping = false; // sojourn below target: leave the dropping state
            }
            else if (!Before(now, vars.DropNext))
            {
                // Time for the next drop: drop this packet, dequeue the next; the control law sets the next drop
                // time from the count, so drops come closer together while the queue stays above target.
                while (vars.Dropping && !Before(now, vars.DropNext))
                {
                    vars.Count++;
                    NewtonStep(ref vars);
                    if (p.Ecn && backend.CodelSetCe(packet, ceThreshold: false))
                    {
                        vars.DropNext = ControlLaw(vars.DropNext, p.Interval, vars.RecInvSqrt);
                        goto end;
                    }
                    backend.CodelDrop(packet, flow);
                    packet = backend.CodelDequeue(flow);
                    if (!ShouldDrop(backend, packet, ref vars, p, now))
                    {
                        vars.Dropping = false;
                    }
                    else
                    {
                        vars.DropNext = ControlLaw(vars.DropNext, p.Interval, vars.RecInvSqrt);
                    }
                }
            }
        }
        else if (drop)
        {
            if (!(p.Ecn && backend.CodelSetCe(packet, ceThreshold: false)))
            {
                backend.CodelDrop(packet, flow);
                packet = backend.CodelDequeue(flow);
                ShouldDrop(backend, packet, ref vars, p, now);
            }
            vars.Dropping = true;
            // If the delay went above target soon after it last went below, resume near the previous drop rate:
            // count starts at the drops of the last cycle rather than at 1.
            uint delta = vars.Count - vars.LastCount;
            if (delta > 1 && Before(now - vars.DropNext, 16 * p.Interval))
            {
                vars.Count = delta;
                NewtonStep(ref vars);
            }
            else
            {
                vars.Count = 1;
                vars.RecInvSqrt = ushort.MaxValue; // ~0U >> REC_INV_SQRT_SHIFT
            }
            vars.LastCount = vars.Count;
            vars.DropNext = ControlLaw(now, p.Interval, vars.RecInvSqrt);
        }
    end:
        if (packet >= 0 && After(vars.Ldelay, p.CeThreshold))
        {
            backend.CodelSetCe(packet, ceThreshold: true);
        }
        return packet;
    }
}
