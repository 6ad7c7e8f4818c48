using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// RACK: time-based loss detection (RFC 8985), as net/ipv4/tcp_recovery.c does it. A segment is lost once a segment
/// sent after it was delivered and more than rack.rtt_us + reo_wnd has passed since it was (re)sent.
/// </summary>
/// <remarks>
/// The kernel walks tsorted_sent_queue, its list of skbs in transmit order. The scoreboard here is in sequence order,
/// and needs no second list: never-retransmitted segments were sent in sequence order, and a retransmission always
/// leaves after the original of every later segment, so a walk from snd_una can stop at the first never-retransmitted
/// segment not sent before rack.mstamp — everything above it was (re)sent later. The walk allocates nothing and adds
/// no per-segment state (SegmentState.SentNs is the skb's transmit time).
/// </remarks>
public sealed partial class TcpStack
{
    /// <summary>TCP_RACK_RECOVERY_THRESH: recoveries a DSACK-widened reordering window persists for.</summary>
    private const uint RackRecoveryThresh = 16;

    /// <summary>
    /// TCP_TIMEOUT_MIN_US (include/net/tcp.h: 2·USEC_PER_MSEC, 2 ms whatever HZ is): added to RACK's and TLP's timers
    /// before usecs_to_jiffies rounds the sum up to whole jiffies (tcp_recovery.c, tcp_output.c).
    /// </summary>
    private const uint TimeoutMinUs = 2000;

    /// <summary>sysctl_tcp_max_reordering (300).</summary>
    private const uint MaxReordering = 300;

    private const int RackStaticReoWnd = 2; // TCP_RACK_STATIC_REO_WND
    private const int RackNoDupthresh = 4;  // TCP_RACK_NO_DUPTHRESH

    /// <summary>tcp_skb_sent_after: sent later, or at the same time with a higher end sequence.</summary>
    private static bool SentAfter(long t1, long t2, ulong end1, ulong end2) => t1 > t2 || (t1 == t2 && end1 > end2);

    /// <summary>
    /// tcp_rack_advance (tcp_recovery.c): a (S)ACKed segment that was sent at <paramref name="xmitUs"/> gives RACK its
    /// RTT and, if sent later than the current one, its new reference. A retransmitted segment whose RTT is below
    /// min_rtt may have been delivered by its original transmission: that sample is ambiguous and ignored.
    /// </summary>
    private void RackAdvance(TcpConnection conn, SegmentFlags sacked, ulong endSeg, long xmitUs)
    {
        ref var sk = ref _socks[conn.Id];
        uint rttUs = (uint)Math.Max(0, (long)sk.TcpMstamp - xmitUs);
        if (rttUs < sk.MinRttUs && (sacked & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) != 0)
        {
            return;
        }
        conn.RackAdvanced = true;
        conn.RackRttUs = rttUs;
        if (SentAfter(xmitUs, conn.RackMstampUs, endSeg, conn.RackEndSeg))
        {
            conn.RackMstampUs = xmitUs;
            conn.RackEndSeg = endSeg;
        }
    }

    /// <summary>
    /// tcp_rack_reo_wnd: no settling time before reordering was seen while in recovery, or while sacked_out reaches
    /// the dupthresh (unless TCP_RACK_NO_DUPTHRESH); otherwise min_rtt/4 per step, at most srtt.
    /// </summary>
    private uint RackReoWnd(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        if (conn.ReordSeen == 0)
        {
            if (sk.IcskCaState >= TcpCaState.Recovery)
            {
                return 0;
            }
            if (sk.SackedOut >= conn.Reordering && (_options.Recovery & RackNoDupthresh) == 0)
            {
                return 0;
            }
        }
        return (uint)Math.Min((ulong)(sk.MinRttUs >> 2) * conn.RackReoWndSteps, sk.SrttUs >> 3);
    }

    /// <summary>tcp_rack_skb_timeout: how long (µs) until the segment sent at <paramref name="xmitUs"/> counts as lost.</summary>
    private long RackSegmentTimeout(TcpConnection conn, long xmitUs, uint reoWnd) =>
        (long)conn.RackRttUs + reoWnd - ((long)_socks[conn.Id].TcpMstamp - xmitUs);

    /// <summary>
    /// tcp_rack_detect_loss: marks lost every segment (a retransmission included: a lost retransmission) sent before
    /// the RACK reference whose time is up; returns the longest wait (µs) of those not yet due, 0 if none.
    /// </summary>
    private uint RackDetectLoss(TcpConnection conn)
    {
        uint reoWnd = RackReoWnd(conn);
        uint reoTimeout = 0;
        for (ulong s = conn.SndUna; s < conn.SndNxt; s++)
        {
            ref var st = ref conn.Segment(s);
            var f = st.Flags;
            if ((f & SegmentFlags.Sacked) != 0)
            {
                continue; // SACKed: not in the kernel's list any more
            }
            if ((f & SegmentFlags.Lost) != 0 && (f & SegmentFlags.Retrans) == 0)
            {
                continue; // marked lost, not yet retransmitted
            }
            long xmitUs = st.SentNs / 1000;
            if (!SentAfter(conn.RackMstampUs, xmitUs, conn.RackEndSeg, s + 1))
            {
                if ((f & SegmentFlags.EverRetrans) == 0)
                {
                    break; // sent in sequence order: every later segment went later still (see remarks)
                }
                continue;
            }
            long remaining = RackSegmentTimeout(conn, xmitUs, reoWnd);
            if (remaining <= 0)
            {
                MarkSegmentLost(conn, ref st);
            }
            else
            {
                reoTimeout = Math.Max(reoTimeout, (uint)remaining);
            }
        }
        return reoTimeout;
    }

    /// <summary>
    /// tcp_mark_skb_lost (tcp_input.c): a lost retransmission gives up its retransmission mark (it is lost again); any
    /// other segment joins lost_out. tp->lost counts both.
    /// </summary>
    private void MarkSegmentLost(TcpConnection conn, ref SegmentState st)
    {
        ref var sk = ref _socks[conn.Id];
        if ((st.Flags & SegmentFlags.Sacked) != 0)
        {
            return;
        }
        if ((st.Flags & SegmentFlags.Lost) != 0)
        {
            if ((st.Flags & SegmentFlags.Retrans) != 0)
            {
                st.Flags &= ~SegmentFlags.Retrans;
                sk.RetransOut--;
                conn.Stats.LostRetransmits++;
                sk.Lost++;
            }
        }
        else
        {
            st.Flags |= SegmentFlags.Lost;
            sk.LostOut++;
            sk.Lost++;
        }
    }

    /// <summary>
    /// tcp_rack_mark_lost: after an ACK that advanced RACK, detect losses; segments not yet due arm the REO timer
    /// (their wait plus TCP_TIMEOUT_MIN, at most the RTO). Returns whether it was armed.
    /// </summary>
    private bool RackMarkLost(TcpConnection conn)
    {
        if (!conn.RackAdvanced)
        {
            return false;
        }
        conn.RackAdvanced = false;
        uint timeout = RackDetectLoss(conn);
        if (timeout != 0)
        {
            uint jiffies = (uint)Jiffies.UsecsToJiffies(timeout + TimeoutMinUs, _hz);
            InetCskResetXmitTimer(conn, XmitTimer.ReoTimeout, jiffies, (uint)RtoJiffies(conn)); // no tcp_pacing_delay
        }
        return timeout != 0;
    }

    /// <summary>
    /// tcp_rack_reo_timeout: the reordering window passed; what is now lost starts Recovery (with one PRR step for
    /// non-cong_control algorithms) and is retransmitted; then the RTO is re-armed for what remains.
    /// </summary>
    private void RackReoTimeout(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        conn.Stats.RackReoTimeouts++;
        MstampRefresh(ref sk);
        uint lost = sk.Lost;
        uint priorInflight = sk.PacketsInFlight;
        bool newlyLost;
        using (EnterCa(conn))
        {
            RackDetectLoss(conn);
            newlyLost = priorInflight != sk.PacketsInFlight;
            if (newlyLost && sk.IcskCaState != TcpCaState.Recovery)
            {
                EnterRecovery(conn, ece: false);
                if (conn.Ops.CongControl is null)
                {
                    CwndReduction(conn, 1, 0, newlyLost: sk.Lost != lost);
                }
            }
        }
        if (newlyLost)
        {
            // tcp_rack_reo_timeout calls tcp_xmit_retransmit_queue, not tcp_write_xmit: retransmissions only.
            conn.RetransOnly = true;
            WriteXmit(conn); // (it enters the CA program scope itself)
            conn.RetransOnly = false;
        }
        if (conn.Pending != XmitTimer.Retrans)
        {
            RearmRto(conn);
        }
        Updated?.Invoke(conn);
    }

    /// <summary>
    /// tcp_rack_update_reo_wnd: a DSACK seen at least a round after the last change widens the window by a step and
    /// keeps it for TCP_RACK_RECOVERY_THRESH recoveries; once that runs out it returns to one step.
    /// </summary>
    private void RackUpdateReoWnd(TcpConnection conn, uint priorDelivered)
    {
        if ((_options.Recovery & RackStaticReoWnd) != 0 || priorDelivered == 0)
        {
            return;
        }
        if (TcpTime.Before(priorDelivered, conn.RackLastDelivered))
        {
            conn.RackDsackSeen = false; // a round has not passed since the window was adjusted
        }
        if (conn.RackDsackSeen)
        {
            conn.RackReoWndSteps = Math.Min(0xFF, conn.RackReoWndSteps + 1);
            conn.RackDsackSeen = false;
            conn.RackLastDelivered = _socks[conn.Id].Delivered;
            conn.RackReoWndPersist = RackRecoveryThresh;
        }
        else if (conn.RackReoWndPersist == 0)
        {
            conn.RackReoWndSteps = 1;
        }
    }

    /// <summary>
    /// tcp_check_sack_reordering: a never-retransmitted segment at <paramref name="lowSeg"/> was delivered after data
    /// above it; the distance to the highest SACKed segment raises tp->reordering, and reord_seen counts the event.
    /// </summary>
    private void CheckSackReordering(TcpConnection conn, ulong lowSeg)
    {
        ulong fack = HighestSackSeq(conn);
        if (lowSeg >= fack)
        {
            return;
        }
        ulong metric = fack - lowSeg;
        if (metric > conn.Reordering)
        {
            conn.Reordering = (uint)Math.Min(metric, MaxReordering);
        }
        conn.ReordSeen++;
    }

    /// <summary>tcp_highest_sack_seq: one past the highest SACKed segment, snd_una when nothing is SACKed.</summary>
    private ulong HighestSackSeq(TcpConnection conn) => _socks[conn.Id].SackedOut == 0 ? conn.SndUna : conn.HighestSackEnd;
}
