using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// tcp_cubic (net/ipv4/tcp_cubic.c, mainline 6.13+): the usual default. Cubic window growth around the last
/// maximum, fast convergence, TCP friendliness, and HyStart (ACK train and delay) to leave slow start early.
/// State is <see cref="CubicState"/> in icsk_ca_priv; time is tcp_jiffies32 with HZ=1000 and tcp_mstamp in µs.
/// </summary>
public static class Cubic
{
    /// <summary>The cubictcp ops table: init, ssthresh, cong_avoid, set_state, undo_cwnd (reno), cwnd_event, pkts_acked.</summary>
    public static TcpCongestionOps Ops { get; } = new()
    {
        Name = "cubic",
        Init = CubicMath.Init,
        Ssthresh = CubicMath.RecalcSsthresh,
        CongAvoid = CongAvoid,
        SetState = CubicMath.SetState,
        UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
        CwndEvent = CubicMath.CwndEvent,
        PktsAcked = PktsAcked,
    };

    /// <summary>Grow cwnd: slow start below ssthresh, then one packet per <c>cnt</c> packets acked.</summary>
    /// <remarks>Mirrors <c>cubictcp_cong_avoid()</c>; the HyStart round reset lives in hystart_update since 5.16.</remarks>
    public static void CongAvoid(ref TcpSock sk, uint ack, uint acked)
    {
        if (!sk.CwndLimited)
        {
            return;
        }
        if (sk.InSlowStart)
        {
            acked = TcpCongKfuncs.SlowStart(ref sk, acked);
            if (acked == 0)
            {
                return;
            }
        }
        ref var ca = ref CubicMath.Ca(ref sk);
        Update(ref ca, sk.TcpJiffies32, sk.Hz, sk.SndCwnd, acked);
        TcpCongKfuncs.CongAvoidAi(ref sk, ca.Cnt, acked);
    }

    /// <summary>
    /// Recompute <c>cnt</c>: follow W(t) = C(t − K)³ + W_max one RTT (delay_min) ahead, at most once per jiffy,
    /// never slower than the Reno estimate, never faster than 1.5× per RTT.
    /// </summary>
    /// <remarks>Mirrors <c>bictcp_update()</c> in net/ipv4/tcp_cubic.c.</remarks>
    internal static void Update(ref CubicState ca, uint now, uint hz, uint cwnd, uint acked)
    {
        ca.AckCnt += acked;

        if (ca.LastCwnd == cwnd && (int)(now - ca.LastTime) <= (int)hz / 32) // HZ/32: 7 jiffies (28 ms) at HZ 250
        {
            return;
        }

        // cnt changes at most once per jiffy; every reduction zeroes epoch_start, which forces a recompute.
        if (ca.EpochStart == 0 || now != ca.LastTime)
        {
            ca.LastCwnd = cwnd;
            ca.LastTime = now;
            if (ca.EpochStart == 0)
            {
                CubicMath.StartEpoch(ref ca, now, cwnd, acked);
            }

            // t in jiffies (delay_min rounded up to jiffies), then in BICTCP_HZ units. The s32 difference widens
            // to u64 as in C; cwnd_event keeps epoch_start from passing now.
            ulong t = (ulong)(long)(int)(now - ca.EpochStart);
            t += Jiffies.UsecsToJiffies(ca.DelayMin, hz);
            t <<= CubicMath.BicHz;
            t /= hz;

            CubicMath.CntFromTarget(ref ca, cwnd, CubicMath.BicTarget(in ca, t));
        }

        if (CubicMath.TcpFriendliness)
        {
            // Reno grows by one per cwnd·15/8 packets acked (beta_scale, scaled by 8). The kernel's loop
            // `while (ack_cnt > delta) { ack_cnt -= delta; tcp_cwnd++; }` runs (ack_cnt − 1) / delta times.
            uint delta = (cwnd * CubicMath.BetaScaleFriendly) >> 3;
            if (ca.AckCnt > delta && delta != 0)
            {
                uint n = (ca.AckCnt - 1) / delta;
                ca.AckCnt -= n * delta;
                ca.TcpCwnd += n;
            }
            CubicMath.ClampToReno(ref ca, cwnd);
        }

        // At most one packet per two acked: 1.5× per RTT.
        ca.Cnt = Math.Max(ca.Cnt, 2u);
    }

    /// <summary>
    /// Per-ACK RTT sample: track delay_min (skipping the first second of an epoch, after recovery) and run
    /// HyStart in slow start until it has found the exit.
    /// </summary>
    /// <remarks>Mirrors <c>cubictcp_acked()</c> in net/ipv4/tcp_cubic.c.</remarks>
    public static void PktsAcked(ref TcpSock sk, in AckSample sample)
    {
        ref var ca = ref CubicMath.Ca(ref sk);

        // Duplicates without timestamps.
        if (sample.RttUs < 0)
        {
            return;
        }
        // Delay samples right after fast recovery are discarded.
        if (ca.EpochStart != 0 && (int)(sk.TcpJiffies32 - ca.EpochStart) < (int)sk.Hz)
        {
            return;
        }

        uint delay = (uint)sample.RttUs;
        if (delay == 0)
        {
            delay = 1;
        }
        if (ca.DelayMin == 0 || ca.DelayMin > delay)
        {
            ca.DelayMin = delay;
        }

        if (ca.Found == 0 && sk.InSlowStart && CubicMath.Hystart)
        {
            HystartUpdate(ref sk, delay);
        }
    }

    /// <summary>
    /// HyStart: end the round once end_seq is acked; from cwnd 16 up, set ssthresh = cwnd (leave slow start) when an
    /// ACK train has lasted past delay_min/2, or when the round's minimum RTT (after 8 samples) exceeds delay_min by
    /// clamp(delay_min/8, 4 ms, 16 ms).
    /// </summary>
    /// <remarks>
    /// Mirrors <c>hystart_update()</c> in net/ipv4/tcp_cubic.c as of 6.13 ("tcp_cubic: fix incorrect HyStart round
    /// start detection"): the round resets before the low-window check.
    /// </remarks>
    internal static void HystartUpdate(ref TcpSock sk, uint delay)
    {
        ref var ca = ref CubicMath.Ca(ref sk);

        if (TcpTime.After(sk.SndUna, ca.EndSeq))
        {
            CubicMath.HystartReset(ref sk);
        }
        if (sk.SndCwnd < CubicMath.HystartLowWindow)
        {
            return;
        }
        HystartDetect(ref sk, ref ca, delay);
    }

    /// <summary>The two detectors of hystart_update, shared with bpf_cubic.</summary>
    internal static void HystartDetect(ref TcpSock sk, ref CubicState ca, uint delay)
    {
        if ((CubicMath.HystartDetect & CubicMath.HystartAckTrain) != 0)
        {
            uint now = CubicMath.ClockUs(in sk);
            if ((int)(now - ca.LastAck) <= CubicMath.HystartAckDeltaUs)
            {
                ca.LastAck = now;
                uint threshold = ca.DelayMin + CubicMath.HystartAckDelay(in sk);
                // Pacing may have delayed packets by up to RTT/2 during slow start; without it, half delay_min.
                if (sk.SkPacingStatus == 0)
                {
                    threshold >>= 1;
                }
                // C compares the s32 difference with a u32 threshold: unsigned.
                if (now - ca.RoundStart > threshold)
                {
                    ca.Found = 1;
                    sk.SndSsthresh = sk.SndCwnd;
                }
            }
        }

        if ((CubicMath.HystartDetect & CubicMath.HystartDelay) != 0)
        {
            if (ca.CurrRtt > delay)
            {
                ca.CurrRtt = delay;
            }
            if (ca.SampleCnt < CubicMath.HystartMinSamples)
            {
                ca.SampleCnt++;
            }
            else if (ca.CurrRtt > ca.DelayMin + CubicMath.HystartDelayThresh(ca.DelayMin >> 3))
            {
                ca.Found = 1;
                sk.SndSsthresh = sk.SndCwnd;
            }
        }
    }
}
