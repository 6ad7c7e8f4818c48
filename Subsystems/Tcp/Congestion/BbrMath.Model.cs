using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

// bbr_update_model and what it calls (net/ipv4/tcp_bbr.c): the bandwidth and min_rtt filters, ACK aggregation, and
// the STARTUP → DRAIN → PROBE_BW ⇄ PROBE_RTT state machine with its gains.
internal static partial class BbrMath
{
    /// <summary>
    /// bbr_update_model, in the kernel's order: bandwidth, ACK aggregation, gain cycle, full pipe, drain, min_rtt
    /// (and PROBE_RTT), gains.
    /// </summary>
    public static void UpdateModel(ref TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        UpdateBw(ref sk, ref bbr, rs);
        UpdateAckAggregation(sk, ref bbr, rs);
        UpdateCyclePhase(sk, ref bbr, rs);
        CheckFullBwReached(ref bbr, rs);
        CheckDrain(ref sk, ref bbr);
        UpdateMinRtt(ref sk, ref bbr, rs);
        UpdateGains(ref bbr);
    }

    /// <summary>tcp_stamp_us_delta: t1 − t0 in µs, never negative.</summary>
    private static ulong StampUsDelta(ulong t1, ulong t0) => (ulong)Math.Max((long)(t1 - t0), 0);

    /// <summary>
    /// bbr_update_bw: count packet-timed rounds (a round ends when a packet sent after the previous end is
    /// delivered), run the long-term sampler, and feed delivered/interval into the 10-round max filter unless the
    /// sample is app-limited and below the current estimate.
    /// </summary>
    public static void UpdateBw(ref TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        bbr.RoundStart = false;
        if (rs.Delivered < 0 || rs.IntervalUs <= 0)
        {
            return; // not a valid observation
        }

        if (!TcpTime.Before(rs.PriorDelivered, bbr.NextRttDelivered))
        {
            bbr.NextRttDelivered = sk.Delivered;
            bbr.RttCnt++;
            bbr.RoundStart = true;
            bbr.PacketConservation = false;
        }

        LtBwSampling(ref sk, ref bbr, rs);

        ulong bw = (ulong)rs.Delivered * BwUnit / (ulong)rs.IntervalUs;
        if (!rs.IsAppLimited || bw >= MaxBw(bbr))
        {
            bbr.Bw.RunningMax(BwRtts, bbr.RttCnt, (uint)bw);
        }
    }

    /// <summary>
    /// bbr_update_ack_aggregation: track, over two alternating 5-round windows, the most data ACKed in an epoch
    /// beyond what the estimated bandwidth would have delivered in it (capped at cwnd).
    /// </summary>
    public static void UpdateAckAggregation(in TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        if (ExtraAckedGain == 0 || rs.AckedSacked == 0 || rs.Delivered < 0 || rs.IntervalUs <= 0)
        {
            return;
        }

        if (bbr.RoundStart)
        {
            bbr.ExtraAckedWinRtts = Math.Min(0x1Fu, bbr.ExtraAckedWinRtts + 1);
            if (bbr.ExtraAckedWinRtts >= ExtraAckedWinRtts)
            {
                bbr.ExtraAckedWinRtts = 0;
                bbr.ExtraAckedWinIdx = bbr.ExtraAckedWinIdx != 0 ? 0u : 1u;
                bbr.SetExtraAcked(bbr.ExtraAckedWinIdx, 0);
            }
        }

        uint epochUs = (uint)StampUsDelta(sk.DeliveredMstamp, bbr.AckEpochMstamp);
        uint expectedAcked = (uint)((ulong)Bw(bbr) * epochUs / BwUnit);

        // A new epoch if ACKs came slower than expected, or so many came that the epoch is probably stale.
        if (bbr.AckEpochAcked <= expectedAcked || bbr.AckEpochAcked + rs.AckedSacked >= AckEpochAckedResetThresh)
        {
            bbr.AckEpochAcked = 0;
            bbr.AckEpochMstamp = sk.DeliveredMstamp;
            expectedAcked = 0;
        }

        bbr.AckEpochAcked = Math.Min(0xFFFFFu, bbr.AckEpochAcked + rs.AckedSacked);
        uint extraAcked = bbr.AckEpochAcked - expectedAcked;
        extraAcked = Math.Min(extraAcked, sk.SndCwnd);
        if (extraAcked > bbr.ExtraAcked(bbr.ExtraAckedWinIdx))
        {
            bbr.SetExtraAcked(bbr.ExtraAckedWinIdx, (ushort)extraAcked);
        }
    }

    /// <summary>
    /// bbr_is_next_cycle_phase: a gain-1 phase lasts one min_rtt; the 5/4 phase also waits until inflight reaches
    /// 5/4 × BDP (unless packets are lost); the 3/4 phase ends early once inflight is down to the BDP.
    /// </summary>
    public static bool IsNextCyclePhase(in TcpSock sk, in BbrState bbr, in RateSample rs)
    {
        bool isFullLength = StampUsDelta(sk.DeliveredMstamp, bbr.CycleMstamp) > bbr.MinRttUs;
        if (bbr.PacingGain == BbrUnit)
        {
            return isFullLength;
        }

        uint inflight = PacketsInNetAtEdt(sk, bbr, rs.PriorInFlight);
        uint bw = MaxBw(bbr);
        if (bbr.PacingGain > BbrUnit)
        {
            return isFullLength && (rs.Losses != 0 || inflight >= Inflight(sk, bbr, bw, bbr.PacingGain));
        }
        return isFullLength || inflight <= Inflight(sk, bbr, bw, BbrUnit);
    }

    /// <summary>bbr_advance_cycle_phase: the next of the 8 gain phases, timed from delivered_mstamp.</summary>
    public static void AdvanceCyclePhase(in TcpSock sk, ref BbrState bbr)
    {
        bbr.CycleIdx = (bbr.CycleIdx + 1) & (CycleLen - 1);
        bbr.CycleMstamp = sk.DeliveredMstamp;
    }

    /// <summary>bbr_update_cycle_phase: gain cycling, in PROBE_BW only.</summary>
    public static void UpdateCyclePhase(in TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        if (bbr.Mode == BbrMode.ProbeBw && IsNextCyclePhase(sk, bbr, rs))
        {
            AdvanceCyclePhase(sk, ref bbr);
        }
    }

    /// <summary>
    /// bbr_reset_probe_bw_mode: enter PROBE_BW at a random phase other than the 3/4 one — cycle_idx = 7 −
    /// get_random_u32_below(7), then advance — so competing flows do not probe in lockstep.
    /// </summary>
    public static void ResetProbeBwMode(ref TcpSock sk, ref BbrState bbr)
    {
        bbr.Mode = BbrMode.ProbeBw;
        bbr.CycleIdx = CycleLen - 1 - sk.GetRandomU32Below(CycleRand);
        AdvanceCyclePhase(sk, ref bbr);
    }

    /// <summary>bbr_reset_mode: back to STARTUP if the pipe was never filled, else PROBE_BW.</summary>
    public static void ResetMode(ref TcpSock sk, ref BbrState bbr)
    {
        if (!bbr.FullBwReached)
        {
            bbr.Mode = BbrMode.Startup; // bbr_reset_startup_mode
        }
        else
        {
            ResetProbeBwMode(ref sk, ref bbr);
        }
    }

    /// <summary>
    /// bbr_check_full_bw_reached: at each non-app-limited round start, growth of 25 % resets the count; three
    /// rounds without it mean STARTUP filled the pipe.
    /// </summary>
    public static void CheckFullBwReached(ref BbrState bbr, in RateSample rs)
    {
        if (bbr.FullBwReached || !bbr.RoundStart || rs.IsAppLimited)
        {
            return;
        }
        uint bwThresh = (uint)((ulong)bbr.FullBw * FullBwThresh >> BbrScale);
        if (MaxBw(bbr) >= bwThresh)
        {
            bbr.FullBw = MaxBw(bbr);
            bbr.FullBwCnt = 0;
            return;
        }
        bbr.FullBwCnt++;
        bbr.FullBwReached = bbr.FullBwCnt >= FullBwCnt;
    }

    /// <summary>
    /// bbr_check_drain: a full pipe ends STARTUP (ssthresh becomes the BDP-based inflight); DRAIN ends once the
    /// packets in the network at the next departure are down to one BDP.
    /// </summary>
    public static void CheckDrain(ref TcpSock sk, ref BbrState bbr)
    {
        if (bbr.Mode == BbrMode.Startup && bbr.FullBwReached)
        {
            bbr.Mode = BbrMode.Drain;
            sk.SndSsthresh = Inflight(sk, bbr, MaxBw(bbr), BbrUnit);
        }
        if (bbr.Mode == BbrMode.Drain && PacketsInNetAtEdt(sk, bbr, sk.PacketsInFlight) <= Inflight(sk, bbr, MaxBw(bbr), BbrUnit))
        {
            ResetProbeBwMode(ref sk, ref bbr);
        }
    }

    /// <summary>
    /// bbr_check_probe_rtt_done: once probe_rtt_done_stamp has passed, restart the min_rtt window, restore cwnd and
    /// return to STARTUP or PROBE_BW.
    /// </summary>
    public static void CheckProbeRttDone(ref TcpSock sk, ref BbrState bbr)
    {
        if (!(bbr.ProbeRttDoneStamp != 0 && TcpTime.After(sk.TcpJiffies32, bbr.ProbeRttDoneStamp)))
        {
            return;
        }
        bbr.MinRttStamp = sk.TcpJiffies32; // wait a while until the next PROBE_RTT
        sk.SndCwnd = Math.Max(sk.SndCwnd, bbr.PriorCwnd);
        ResetMode(ref sk, ref bbr);
    }

    /// <summary>
    /// bbr_update_min_rtt: a 10 s windowed min of RTT samples. When it expires without a new min (and the flow is not
    /// restarting from idle), enter PROBE_RTT: cwnd 4, samples marked app-limited, for 200 ms and one round after
    /// inflight reached 4.
    /// </summary>
    public static void UpdateMinRtt(ref TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        bool filterExpired = TcpTime.After(sk.TcpJiffies32, bbr.MinRttStamp + MinRttWinSec * sk.Hz);
        // Strictly lower (tcp_bbr.c): an equal sample does not restart the window, so PROBE_RTT recurs every 10 s on a
        // steady path whose RTT never drops below the minimum.
        if (rs.RttUs >= 0 && (rs.RttUs < bbr.MinRttUs || (filterExpired && !rs.IsAckDelayed)))
        {
            bbr.MinRttUs = (uint)rs.RttUs;
            bbr.MinRttStamp = sk.TcpJiffies32;
        }

        if (ProbeRttModeMs > 0 && filterExpired && !bbr.IdleRestart && bbr.Mode != BbrMode.ProbeRtt)
        {
            bbr.Mode = BbrMode.ProbeRtt; // dip, drain the queue
            SaveCwnd(sk, ref bbr);
            bbr.ProbeRttDoneStamp = 0;
        }

        if (bbr.Mode == BbrMode.ProbeRtt)
        {
            // Low-rate samples of this mode must not lower the estimates.
            uint appLimited = sk.Delivered + sk.PacketsInFlight;
            sk.AppLimited = appLimited != 0 ? appLimited : 1;
            if (bbr.ProbeRttDoneStamp == 0 && sk.PacketsInFlight <= CwndMinTarget)
            {
                bbr.ProbeRttDoneStamp = sk.TcpJiffies32 + (uint)Jiffies.MsecsToJiffies(ProbeRttModeMs, sk.Hz);
                bbr.ProbeRttRoundDone = false;
                bbr.NextRttDelivered = sk.Delivered;
            }
            else if (bbr.ProbeRttDoneStamp != 0)
            {
                if (bbr.RoundStart)
                {
                    bbr.ProbeRttRoundDone = true;
                }
                if (bbr.ProbeRttRoundDone)
                {
                    CheckProbeRttDone(ref sk, ref bbr);
                }
            }
        }
        if (rs.Delivered > 0)
        {
            bbr.IdleRestart = false; // the restart ends with the first ACK of new data
        }
    }

    /// <summary>bbr_update_gains: pacing and cwnd gains for the mode (and gain-cycle phase).</summary>
    public static void UpdateGains(ref BbrState bbr)
    {
        switch (bbr.Mode)
        {
            case BbrMode.Startup:
                bbr.PacingGain = HighGain;
                bbr.CwndGain = HighGain;
                break;
            case BbrMode.Drain:
                bbr.PacingGain = DrainGain; // slow, to drain
                bbr.CwndGain = HighGain;    // keep cwnd
                break;
            case BbrMode.ProbeBw:
                bbr.PacingGain = bbr.LtUseBw ? BbrUnit : PacingGainCycle[(int)bbr.CycleIdx];
                bbr.CwndGain = CwndGain;
                break;
            case BbrMode.ProbeRtt:
                bbr.PacingGain = BbrUnit;
                bbr.CwndGain = BbrUnit;
                break;
        }
    }
}
