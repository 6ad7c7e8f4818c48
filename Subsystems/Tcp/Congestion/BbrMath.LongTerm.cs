using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

// BBR's long-term ("LT") bandwidth estimator (net/ipv4/tcp_bbr.c): token-bucket policers are common, and BBR
// detects one as two consecutive lossy sampling intervals with consistent throughput; it then paces at their average
// delivery rate (lt_bw) for 48 rounds instead of probing into the policer's drops.
internal static partial class BbrMath
{
    /// <summary>bbr_lt_intvl_min_rtts: least rounds in a sampling interval.</summary>
    public const uint LtIntvlMinRtts = 4;
    /// <summary>bbr_lt_loss_thresh: an interval is lossy at lost/delivered ≥ 50/256 (about 20 %).</summary>
    public const uint LtLossThresh = 50;
    /// <summary>bbr_lt_bw_ratio: two intervals are consistent if their rates differ by at most 1/8 …</summary>
    public const uint LtBwRatio = BbrUnit / 8;
    /// <summary>bbr_lt_bw_diff: … or by at most 4 kbit/s (in bytes/s).</summary>
    public const uint LtBwDiff = 4000 / 8;
    /// <summary>bbr_lt_bw_max_rtts: rounds to use lt_bw once policing is detected.</summary>
    public const uint LtBwMaxRtts = 48;

    /// <summary>bbr_reset_lt_bw_sampling_interval: a new interval from now (delivered_mstamp in ms, delivered, lost).</summary>
    public static void ResetLtBwSamplingInterval(in TcpSock sk, ref BbrState bbr)
    {
        bbr.LtLastStamp = (uint)(sk.DeliveredMstamp / TcpTime.UsecPerMsec);
        bbr.LtLastDelivered = sk.Delivered;
        bbr.LtLastLost = sk.Lost;
        bbr.LtRttCnt = 0;
    }

    /// <summary>bbr_reset_lt_bw_sampling: forget lt_bw and stop using and sampling it.</summary>
    public static void ResetLtBwSampling(in TcpSock sk, ref BbrState bbr)
    {
        bbr.LtBw = 0;
        bbr.LtUseBw = false;
        bbr.LtIsSampling = false;
        ResetLtBwSamplingInterval(sk, ref bbr);
    }

    /// <summary>
    /// bbr_lt_bw_interval_done: if this interval's rate is close to the previous one's, we are policed: use their
    /// average at gain 1. Otherwise remember this rate and start another interval.
    /// </summary>
    public static void LtBwIntervalDone(in TcpSock sk, ref BbrState bbr, uint bw)
    {
        if (bbr.LtBw != 0)
        {
            // abs() of the u32 difference as the kernel's macro takes it: through a signed int.
            int d = unchecked((int)(bw - bbr.LtBw));
            uint diff = d < 0 ? unchecked((uint)-(long)d) : (uint)d;
            if (unchecked(diff * BbrUnit <= LtBwRatio * bbr.LtBw) || RateBytesPerSec(sk.MssCache, diff, BbrUnit) <= LtBwDiff)
            {
                bbr.LtBw = unchecked(bw + bbr.LtBw) >> 1;
                bbr.LtUseBw = true;
                bbr.PacingGain = BbrUnit; // try to avoid drops
                bbr.LtRttCnt = 0;
                return;
            }
        }
        bbr.LtBw = bw;
        ResetLtBwSamplingInterval(sk, ref bbr);
    }

    /// <summary>
    /// bbr_lt_bw_sampling: while lt_bw is in use, count rounds in PROBE_BW and give up after 48. Otherwise start
    /// sampling at the first loss (the policer's tokens are gone), abandon app-limited or overlong intervals, and
    /// close an interval of 4–16 rounds at a loss if it lost at least 20 %.
    /// </summary>
    public static void LtBwSampling(ref TcpSock sk, ref BbrState bbr, in RateSample rs)
    {
        if (bbr.LtUseBw)
        {
            if (bbr.Mode == BbrMode.ProbeBw && bbr.RoundStart)
            {
                bbr.LtRttCnt++;
                if (bbr.LtRttCnt >= LtBwMaxRtts)
                {
                    ResetLtBwSampling(sk, ref bbr);
                    ResetProbeBwMode(ref sk, ref bbr);
                }
            }
            return;
        }

        if (!bbr.LtIsSampling)
        {
            if (rs.Losses == 0)
            {
                return;
            }
            ResetLtBwSamplingInterval(sk, ref bbr);
            bbr.LtIsSampling = true;
        }

        if (rs.IsAppLimited)
        {
            ResetLtBwSampling(sk, ref bbr); // running out of data would underestimate
            return;
        }

        if (bbr.RoundStart)
        {
            bbr.LtRttCnt++;
        }
        if (bbr.LtRttCnt < LtIntvlMinRtts)
        {
            return;
        }
        if (bbr.LtRttCnt > 4 * LtIntvlMinRtts)
        {
            ResetLtBwSampling(sk, ref bbr);
            return;
        }

        // End the interval at a loss, when the tokens are exhausted; ending earlier underestimates the rate.
        if (rs.Losses == 0)
        {
            return;
        }

        uint lost = sk.Lost - bbr.LtLastLost;
        uint delivered = sk.Delivered - bbr.LtLastDelivered;
        if (delivered == 0 || unchecked(lost << BbrScale) < unchecked(LtLossThresh * delivered))
        {
            return;
        }

        uint t = (uint)(sk.DeliveredMstamp / TcpTime.UsecPerMsec) - bbr.LtLastStamp;
        if ((int)t < 1)
        {
            return; // under a millisecond: wait
        }
        if (t >= ~0u / TcpTime.UsecPerMsec)
        {
            ResetLtBwSampling(sk, ref bbr); // too long to multiply safely
            return;
        }
        t *= TcpTime.UsecPerMsec;
        ulong bw = (ulong)delivered * BwUnit / t;
        LtBwIntervalDone(sk, ref bbr, (uint)bw);
    }
}
