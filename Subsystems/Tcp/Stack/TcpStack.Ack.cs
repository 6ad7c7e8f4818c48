using BpfSim.Tcp.Net;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack
{
    // in_ack_event flags (enum tcp_ca_ack_event_flags).
    private const uint CaAckSlowpath = 1;
    private const uint CaAckWinUpdate = 2;
    private const uint CaAckEce = 4;

    // tcp_ack flag bits used by cong_control (a subset of FLAG_* in tcp_input.c).
    private const int FlagDataAcked = 0x04;
    private const int FlagDataSacked = 0x20;
    private const int FlagEce = 0x40;
    private const int FlagSndUnaAdvanced = 0x400;

    /// <summary>
    /// tcp_ack, in the kernel's order: snd_una update → SACK tagging → clean the retransmit queue (pkts_acked) →
    /// tcp_rack_update_reo_wnd → in_ack_event → TLP ACK → tcp_fastretrans_alert for a dubious ACK → rate sample →
    /// cong_control, or PRR / cong_avoid → pacing rate → transmit. With nothing outstanding (no_queue) only
    /// in_ack_event, a D-SACK undo check and the TLP check run. ACKs older than snd_una or beyond snd_nxt skip every
    /// congestion-control hook. <paramref name="sacks"/> holds the segment's <see cref="TcpSegment.SackCount"/> SACK
    /// blocks.
    /// </summary>
    private void OnAck(TcpConnection conn, in TcpSegment segment, in SackBlocks sacks)
    {
        ref var sk = ref _socks[conn.Id];
        ulong ackSeg = SegmentsBelow(conn, segment.Ack, conn.SndUna);
        if (ackSeg < conn.SndUna || ackSeg > conn.SndNxt)
        {
            return;
        }
        long now = _sim.Now.Nanoseconds;
        MstampRefresh(ref sk);
        bool ece = (sk.EcnFlags & TcpEcnFlags.Ok) != 0 && (segment.Flags & TcpFlags.Ece) != 0;
        uint priorDelivered = sk.Delivered;
        uint priorLost = sk.Lost;
        uint priorInFlight = sk.PacketsInFlight;
        uint priorPackets = sk.PacketsOut; // tcp_ack: prior_packets
        int flag = ece ? FlagEce : 0;
        var rs = new RateSample { PriorDelivered = 0, RttUs = -1 };
        long rsPriorTime = -1;
        bool rsAppLimited = false;
        long rsSentNs = 0, rsFirstTxNs = 0;
        bool rack = _options.IsRack;
        int rexmit = RexmitNone;
        if (ece)
        {
            conn.Stats.EcnEchoes++;
        }

        using (EnterCa(conn))
        {
            // tcp_snd_una_update: snd_una moves before anything else looks at the socket.
            ulong priorUna = conn.SndUna;
            uint priorSndUna = sk.SndUna;
            uint acked = (uint)(ackSeg - priorUna);
            if (acked > 0)
            {
                sk.SndUna = EndSeqOf(conn, ackSeg - 1);
            }

            // tcp_sacktag_write_queue: with RACK, D-SACK first (tcp_check_dsack), then the blocks in sequence order, as
            // the kernel sorts them, so a hole SACKed late is seen as reordering.
            ulong priorFack = rack ? HighestSackSeq(conn) : 0;
            ulong reord = conn.SndNxt;
            uint dsackSegs = rack ? CheckDsack(conn, segment, sacks, priorUna, ackSeg, ref flag, ref reord) : 0;
            Span<ulong> froms = stackalloc ulong[TcpSegment.MaxSackBlocks];
            Span<ulong> tos = stackalloc ulong[TcpSegment.MaxSackBlocks];
            int blocks = 0;
            for (int b = 0; b < segment.SackCount; b++)
            {
                var (start, end) = SackBlock(sacks, b);
                ulong from = Math.Max(SegmentsBelow(conn, start, priorUna), ackSeg);
                ulong to = Math.Min(SegmentsBelow(conn, end, priorUna), conn.SndNxt);
                int at = blocks++;
                while (rack && at > 0 && froms[at - 1] > from)
                {
                    froms[at] = froms[at - 1];
                    tos[at] = tos[at - 1];
                    at--;
                }
                froms[at] = from;
                tos[at] = to;
            }
            uint newlySacked = 0;
            long firstSackt = -1, lastSackt = -1;
            for (int b = 0; b < blocks; b++)
            {
                for (ulong s = froms[b]; s < tos[b]; s++)
                {
                    ref var st = ref conn.Segment(s);
                    if ((st.Flags & SegmentFlags.Sacked) != 0)
                    {
                        continue;
                    }
                    if (rack)
                    {
                        RackAdvance(conn, st.Flags, s + 1, st.SentNs / 1000);
                    }
                    if ((st.Flags & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) == 0)
                    {
                        if (firstSackt < 0 || st.SentNs < firstSackt)
                        {
                            firstSackt = st.SentNs;
                        }
                        lastSackt = Math.Max(lastSackt, st.SentNs);
                        if (rack)
                        {
                            // tcp_sacktag_one: a never-retransmitted segment in a hole below the highest SACK: reordering.
                            if (s < HighestSackSeq(conn) && s < reord)
                            {
                                reord = s;
                            }
                            if (s + 1 <= conn.HighSeq)
                            {
                                flag |= FlagOrigSackAcked;
                            }
                        }
                    }
                    RateDelivered(conn, ref st, ref rs, ref rsPriorTime, ref rsAppLimited, ref rsSentNs, ref rsFirstTxNs);
                    if (sk.SackedOut == 0 || s + 1 > conn.HighestSackEnd)
                    {
                        conn.HighestSackEnd = s + 1; // tcp_advance_highest_sack
                    }
                    st.Flags |= SegmentFlags.Sacked;
                    sk.SackedOut++;
                    if (rack && (st.Flags & SegmentFlags.Retrans) != 0 && (st.Flags & SegmentFlags.Lost) == 0)
                    {
                        // tcp_sacktag_one: a retransmission not marked lost is believed still in flight; RETRANS stays
                        // until the cumulative ACK.
                        newlySacked++;
                        continue;
                    }
                    if ((st.Flags & SegmentFlags.Lost) != 0)
                    {
                        st.Flags &= ~SegmentFlags.Lost;
                        sk.LostOut--;
                    }
                    if ((st.Flags & SegmentFlags.Retrans) != 0)
                    {
                        st.Flags &= ~SegmentFlags.Retrans;
                        sk.RetransOut--;
                    }
                    newlySacked++;
                }
            }
            if (rack && reord < priorFack && (sk.IcskCaState != TcpCaState.Loss || conn.UndoMarker))
            {
                CheckSackReordering(conn, reord);
            }
            if (newlySacked > 0)
            {
                flag |= FlagDataSacked;
            }
            if (ece && newlySacked + dsackSegs > 0)
            {
                sk.DeliveredCe += newlySacked + dsackSegs; // tcp_count_delivered for SACKed data, before in_ack_event
            }

            // tcp_in_ack_event's flags: the fast path reports a window update; the slow path SLOWPATH, plus WIN_UPDATE
            // (tcp_ack_update_window: the ACK advanced) and ECE (only with SLOWPATH).
            uint ackEvent = acked > 0 && segment.SackCount == 0 && !ece
                ? CaAckWinUpdate
                : CaAckSlowpath | (acked > 0 ? CaAckWinUpdate : 0) | (ece ? CaAckEce : 0);

            if (priorPackets == 0)
            {
                // tcp_ack, no_queue: nothing was outstanding, so no tcp_clean_rtx_queue, rate sample or cong_control;
                // in_ack_event, a D-SACK's undo check (tcp_fastretrans_alert, its rexmit unused: no tcp_xmit_recovery)
                // and the TLP ACK check.
                CaInAckEvent(conn.Ops, ref sk, ackEvent);
                if (rack && (flag & FlagDsackingAck) != 0)
                {
                    int ignored = RexmitNone;
                    FastRetransAlertRack(conn, priorUna, 0, ref flag, ref ignored, segment.TsEcr);
                }
                if (conn.TlpHighSeg != 0)
                {
                    ProcessTlpAck(conn, ackSeg, flag);
                }
                goto NoQueue;
            }

            // tcp_clean_rtx_queue
            uint priorSacked = sk.SackedOut;
            long firstAckt = -1, lastAckt = -1;
            bool retransAcked = false;
            uint cumulativeDelivered = 0;
            reord = conn.SndNxt;
            for (ulong s = priorUna; s < ackSeg; s++)
            {
                ref var st = ref conn.Segment(s);
                if ((st.Flags & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) != 0)
                {
                    retransAcked = true; // FLAG_RETRANS_DATA_ACKED: no sequence RTT from this ACK (Karn)
                }
                else if ((st.Flags & SegmentFlags.Sacked) == 0)
                {
                    lastAckt = st.SentNs;
                    if (firstAckt < 0)
                    {
                        firstAckt = st.SentNs;
                    }
                    if (rack)
                    {
                        reord = Math.Min(reord, s);
                        if (s + 1 <= conn.HighSeq)
                        {
                            flag |= FlagOrigSackAcked;
                        }
                    }
                }
                if ((st.Flags & SegmentFlags.Sacked) != 0)
                {
                    sk.SackedOut--;
                }
                else
                {
                    RateDelivered(conn, ref st, ref rs, ref rsPriorTime, ref rsAppLimited, ref rsSentNs, ref rsFirstTxNs);
                    cumulativeDelivered++;
                    // tcp_clean_rtx_queue: RACK advances unless the ACK echoes a time before this retransmission
                    // (tcp_skb_spurious_retrans: the original was delivered).
                    if (rack && !((st.Flags & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) != 0 &&
                                  segment.TsEcr != 0 && (int)(segment.TsEcr - (uint)(st.SentNs / 1000)) < 0))
                    {
                        RackAdvance(conn, st.Flags, s + 1, st.SentNs / 1000);
                    }
                }
                if ((st.Flags & SegmentFlags.Lost) != 0)
                {
                    sk.LostOut--;
                }
                if ((st.Flags & SegmentFlags.Retrans) != 0)
                {
                    sk.RetransOut--;
                }
                sk.PacketsOut--;
            }
            if (ece)
            {
                sk.DeliveredCe += cumulativeDelivered;
            }
            long seqRttUs = -1, caRttUs = -1;
            bool ackMaybeDelayed = false;
            if (firstAckt >= 0 && !retransAcked)
            {
                seqRttUs = (now - firstAckt) / 1000;
                caRttUs = (now - lastAckt) / 1000;
                // tcp_input.c tcp_clean_rtx_queue, FLAG_ACK_MAYBE_DELAYED: one whole segment, less than an MSS, cumulatively
                // ACKed with nothing SACKed before, the only delivery since it was sent, and no CA alert (SACK, ECE).
                ackMaybeDelayed = acked == 1 && priorSacked == 0 && sk.SndUna - priorSndUna < sk.MssCache &&
                    rs.PriorDelivered + 1 == sk.Delivered && (flag & (FlagDataSacked | FlagEce)) == 0;
            }
            if (firstSackt >= 0)
            {
                if (seqRttUs < 0)
                {
                    seqRttUs = (now - firstSackt) / 1000;
                }
                caRttUs = (now - lastSackt) / 1000;
            }
            if (acked > 0)
            {
                flag |= FlagDataAcked | FlagSndUnaAdvanced;
                conn.Counters.BytesAcked += (long)(EndSeqOf(conn, ackSeg - 1) - SeqOf(conn, priorUna));
                conn.SndUna = ackSeg;
                conn.Retransmits = 0; // tcp_ack: icsk_retransmits = 0 once snd_una advances (icsk_backoff waits for an RTT)
            }
            if (seqRttUs < 0 && acked > 0 && segment.TsEcr != 0)
            {
                // tcp_ack_update_rtt: no sequence RTT (Karn), but the echoed timestamp gives one (tcp_rtt_tsopt_us;
                // the timestamps here are in µs, as with usec_ts).
                seqRttUs = caRttUs = Math.Max((int)(NowUs - segment.TsEcr), 0);
            }
            UpdateRtt(conn, seqRttUs, caRttUs, ackMaybeDelayed);
            if (rack)
            {
                if (retransAcked)
                {
                    flag |= FlagRetransDataAcked;
                }
                if (acked > 0)
                {
                    flag |= FlagSetXmitTimer; // set TLP or RTO timer
                    if (reord < priorFack)
                    {
                        CheckSackReordering(conn, reord); // a never-retransmitted hole filled late
                    }
                }
                else if (firstSackt >= 0 && seqRttUs >= 0 && conn.SndUna < conn.SndNxt &&
                         seqRttUs > ((long)sk.TcpMstamp - conn.Segment(conn.SndUna).SentNs / 1000))
                {
                    flag |= FlagSetXmitTimer; // not when the SACK RTT comes from data sent after the head
                }
            }
            else if (acked > 0)
            {
                if (sk.PacketsOut == 0)
                {
                    StopRto(conn);
                }
                else
                {
                    SetRto(conn, CurrentRtoNs(conn));
                }
            }
            uint delivered = sk.Delivered - priorDelivered;
            rs.RttUs = caRttUs;
            CaPktsAcked(conn.Ops, ref sk, new AckSample(acked, (int)Math.Min(caRttUs, int.MaxValue), sk.MssCache * (sk.Delivered - rs.PriorDelivered)));

            if (rack)
            {
                RackUpdateReoWnd(conn, rs.PriorDelivered);
            }
            // tcp_ack: tcp_in_ack_event after tcp_clean_rtx_queue and tcp_rack_update_reo_wnd, so in_ack_event (DCTCP's
            // dctcp_update_alpha) sees delivered/delivered_ce with this ACK's cumulatively ACKed segments counted.
            CaInAckEvent(conn.Ops, ref sk, ackEvent);

            if (rack)
            {
                if (conn.TlpHighSeg != 0)
                {
                    ProcessTlpAck(conn, ackSeg, flag);
                }
                if (IsDubious(ref sk, flag, acked) || (flag & FlagDsackingAck) != 0)
                {
                    int numDupack = (flag & (FlagSndUnaAdvanced | FlagNotDup | FlagDsackingAck)) == 0 ? 1 : 0;
                    FastRetransAlertRack(conn, priorUna, numDupack, ref flag, ref rexmit, segment.TsEcr);
                }
                if ((flag & FlagSetXmitTimer) != 0)
                {
                    SetXmitTimer(conn);
                }
            }
            else
            {
                if (newlySacked > 0)
                {
                    MarkLostBySackedAbove(conn, conn.SndNxt);
                }
                if (IsDubious(ref sk, flag, acked))
                {
                    FastRetransAlert(conn, flag, ece, segment.TsEcr);
                }
            }

            // tcp_rate_gen
            if (sk.AppLimited != 0 && TcpTime.After(sk.Delivered, sk.AppLimited))
            {
                sk.AppLimited = 0;
            }
            if (delivered > 0)
            {
                sk.DeliveredMstamp = sk.TcpMstamp;
            }
            rs.AckedSacked = delivered;
            rs.Losses = (int)(sk.Lost - priorLost); // freshly marked lost on this ACK
            rs.PriorInFlight = priorInFlight;
            rs.IsAckDelayed = ackMaybeDelayed; // tcp_ack: rs.is_ack_delayed = !!(flag & FLAG_ACK_MAYBE_DELAYED)
            if (rsPriorTime >= 0)
            {
                rs.Delivered = (int)(sk.Delivered - rs.PriorDelivered);
                rs.DeliveredCe = (int)(sk.DeliveredCe - rs.PriorDeliveredCe);
                long sndInterval = rsSentNs - rsFirstTxNs;
                long ackInterval = now - rsPriorTime;
                rs.SndIntervalUs = (uint)(sndInterval / 1000);
                rs.RcvIntervalUs = (uint)(ackInterval / 1000);
                rs.IntervalUs = Math.Max(sndInterval, ackInterval) / 1000;
                rs.IsAppLimited = rsAppLimited;
                conn.DeliveredTimeNs = now;
                if (rs.IntervalUs < sk.MinRttUs)
                {
                    rs.IntervalUs = -1; // shorter than min_rtt: ACK compression or a spurious retransmit, not a rate
                }
                else if (!rs.IsAppLimited || (long)rs.Delivered * conn.RateIntervalUs >= (long)conn.RateDelivered * rs.IntervalUs)
                {
                    // tcp_rate.c: record the last non-app-limited sample, or the highest app-limited one.
                    conn.RateDelivered = rs.Delivered;
                    conn.RateIntervalUs = rs.IntervalUs;
                    conn.RateAppLimited = rs.IsAppLimited;
                }
            }
            else
            {
                rs.Delivered = -1; // no timing information
                rs.IntervalUs = -1;
            }

            // tcp_cong_control
            if (conn.Ops.CongControl is { } congControl)
            {
                CaCongControl(congControl, ref sk, segment.Ack, flag, in rs);
            }
            else
            {
                if (sk.IcskCaState is TcpCaState.CWR or TcpCaState.Recovery)
                {
                    CwndReduction(conn, delivered, flag, newlyLost: sk.Lost != priorLost);
                }
                else if (MayRaiseCwnd(conn, flag))
                {
                    CaCongAvoid(conn.Ops, ref sk, segment.Ack, delivered);
                    sk.SndCwndStamp = NowJiffies;
                }
                UpdatePacingRate(ref sk);
            }
        NoQueue:;
        }
        TraceAck(conn, segment.Ack, in rs);

        if ((long)conn.SndUna >= conn.TotalSegments || (conn.Stopping && sk.PacketsOut == 0))
        {
            Close(conn);
            return;
        }
        if (rexmit == RexmitNew)
        {
            // tcp_xmit_recovery, F-RTO step 2.b: new data instead of retransmissions; with none sent, give up F-RTO.
            conn.NewDataOnly = true;
            WriteXmit(conn);
            conn.NewDataOnly = false;
            if (conn.SndNxt <= conn.HighSeq)
            {
                conn.Frto = false;
            }
            else
            {
                conn.NewDataOnly = true; // tcp_data_snd_check below also sends only new data
            }
        }
        else if (rack && rexmit == RexmitNone)
        {
            // tcp_xmit_recovery(REXMIT_NONE) retransmits nothing, and tcp_data_snd_check's tcp_write_xmit sends only new
            // data: e.g. tcp_fastretrans_alert returning on tcp_try_undo_partial (the original arrived, retransmissions
            // are still out) clocks out new packets but no more retransmissions.
            conn.NewDataOnly = true;
        }
        // tcp_data_snd_check: push what may go now, then tcp_check_space.
        WriteXmit(conn);
        conn.NewDataOnly = false;
        CheckSpace(conn);
        Updated?.Invoke(conn);
    }

    private static (uint Start, uint End) SackBlock(in SackBlocks s, int i) => i switch
    {
        0 => (s.Sack0Start, s.Sack0End),
        1 => (s.Sack1Start, s.Sack1End),
        2 => (s.Sack2Start, s.Sack2End),
        _ => throw new ArgumentOutOfRangeException(nameof(i), i, $"at most {TcpSegment.MaxSackBlocks} SACK blocks"),
    };

    /// <summary>tcp_rate_skb_delivered: the most recently sent delivered segment defines the sample's start.</summary>
    private void RateDelivered(TcpConnection conn, ref SegmentState st, ref RateSample rs, ref long priorTime, ref bool appLimited,
        ref long sentNs, ref long firstTxNs)
    {
        ref var sk = ref _socks[conn.Id];
        sk.Delivered++;
        // The most recently sent of the newly delivered segments wins (tcp_skb_sent_after).
        if (priorTime < 0 || st.DeliveredAtSend > rs.PriorDelivered || (st.DeliveredAtSend == rs.PriorDelivered && st.SentNs >= sentNs))
        {
            rs.PriorDelivered = st.DeliveredAtSend;
            rs.PriorDeliveredCe = st.DeliveredCeAtSend;
            rs.PriorMstamp = (ulong)(st.DeliveredTimeNs / 1000); // scb->tx.delivered_mstamp, µs like tcp_mstamp
            priorTime = st.DeliveredTimeNs;
            appLimited = st.IsAppLimited;
            sentNs = st.SentNs;
            firstTxNs = st.FirstTxNs;
            rs.IsRetrans = (st.Flags & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) != 0; // TCPCB_RETRANS
            conn.FirstTxNs = st.SentNs;
        }
    }

    /// <summary>
    /// Loss detection by SACK: a segment with at least <see cref="TcpStackOptions.Reordering"/> SACKed segments above
    /// it is lost (the dupthresh rule of tcp_mark_head_lost; RACK is not modelled).
    /// </summary>
    private void MarkLostBySackedAbove(TcpConnection conn, ulong highestSacked)
    {
        ref var sk = ref _socks[conn.Id];
        int sackedAbove = 0;
        for (ulong s = highestSacked; s > conn.SndUna; s--)
        {
            ref var st = ref conn.Segment(s - 1);
            if ((st.Flags & SegmentFlags.Sacked) != 0)
            {
                sackedAbove++;
            }
            else if (sackedAbove >= _options.Reordering && (st.Flags & (SegmentFlags.Lost | SegmentFlags.Retrans)) == 0)
            {
                st.Flags |= SegmentFlags.Lost;
                sk.LostOut++;
                sk.Lost++;
            }
        }
    }

    /// <summary>
    /// tcp_may_raise_cwnd: grow only on in-order delivery (FLAG_DATA_ACKED), unless reordering was measured above the
    /// sysctl — then any forward progress (FLAG_FORWARD_PROGRESS: ACKED or DATA_SACKED) does.
    /// </summary>
    private bool MayRaiseCwnd(TcpConnection conn, int flag) =>
        conn.Reordering > (uint)_options.Reordering
            ? (flag & (FlagDataAcked | FlagDataSacked)) != 0
            : (flag & FlagDataAcked) != 0;

    /// <summary>tcp_ack_is_dubious: no progress, SACK or ECE news, or not in Open.</summary>
    private static bool IsDubious(ref TcpSock sk, int flag, uint acked) =>
        acked == 0 || (flag & (FlagDataSacked | FlagEce)) != 0 || sk.IcskCaState != TcpCaState.Open;

    /// <summary>tcp_update_pacing_rate: cwnd/srtt scaled by 200 % in slow start, 120 % after, capped at sk_max_pacing_rate, for non-cong_control algorithms.</summary>
    private void UpdatePacingRate(ref TcpSock sk)
    {
        if (sk.SrttUs == 0)
        {
            return;
        }
        ulong rate = (ulong)sk.MssCache * 1_000_000UL * 8; // srtt_us is scaled by 8
        rate *= sk.SndCwnd < sk.SndSsthresh / 2 ? (ulong)_options.PacingSsRatio : (ulong)_options.PacingCaRatio;
        rate *= Math.Max(sk.SndCwnd, sk.PacketsOut);
        rate /= 100;
        rate /= sk.SrttUs;
        sk.SkPacingRate = Math.Min(rate, sk.SkMaxPacingRate); // WRITE_ONCE(sk->sk_pacing_rate, min_t(u64, rate, sk->sk_max_pacing_rate))
    }
}
