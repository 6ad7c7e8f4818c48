using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack
{
    // The connection and timestamp a receive-side hook's tcp_send_ack answers for (set around those hooks only).
    private TcpConnection? _ackConn;
    private uint _ackTsEcr;

    /// <summary>
    /// The receiving socket got an skb: the SYN, or data (tcp_rcv_established / tcp_data_queue) — with GRO, the
    /// <paramref name="segs"/> consecutive segments of <paramref name="payload"/> bytes merged from <paramref name="p"/>
    /// on, whose header is <paramref name="p"/>'s; TCP handles it, and decides on an ACK, once.
    /// </summary>
    private void ReceiverReceive(TcpConnection conn, int p, int segs, int payload)
    {
        ref var packet = ref _net.Packets[p];
        var segment = packet.Segment;
        var ecn = packet.Ecn;
        int gsoSize = packet.PayloadBytes; // the first segment's: a GRO skb's gso_size
        _net.Packets.Free(p);
        ref var rsk = ref _rcvSocks[conn.Id];
        if ((segment.Flags & TcpFlags.Syn) != 0)
        {
            ReceiverSyn(conn, segment, ecn);
            return;
        }
        if (payload == 0)
        {
            return;
        }
        if (!conn.ReceiverReady)
        {
            ReceiverEstablished(conn);
        }
        // Located by its end: a start before rcv_nxt only says "old" (SegmentsBelow), but a merged skb may run past it.
        ulong end = SegmentsBelow(conn, segment.Seq + (uint)payload, conn.RcvNxt);
        ulong seg = end >= (ulong)segs ? end - (ulong)segs : 0;
        bool immediate = false;
        _ackTsEcr = segment.TsVal;

        // tcp_ecn_accept_cwr: the sender reduced; stop demanding it, and ACK at once (its window may be tiny).
        if ((segment.Flags & TcpFlags.Cwr) != 0)
        {
            rsk.EcnFlags &= unchecked((byte)~TcpEcnFlags.DemandCwr);
            rsk.IcskAckPending |= IcskAck.Now;
        }

        if (end <= conn.RcvNxt)
        {
            // tcp_data_queue: old data (a retransmission the sender thought lost) forces an immediate ACK and
            // tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS): the following segments are ACKed one by one too; the ACK
            // reports the duplicate (tcp_dsack_set).
            ulong dup = SegmentAt(conn, segment.Seq, conn.RcvNxt); // seg is clamped below rcv_nxt; this is exact
            DsackSet(conn, dup, dup + (ulong)segs); // a GRO-merged run of duplicates is reported whole
            EnterQuickAckMode(conn, _options.QuickAcks);
            immediate = true;
        }
        else if (seg <= conn.RcvNxt)
        {
            // In order; a merged skb that starts below rcv_nxt (a retransmission run on into new data) is the
            // partial packet of tcp_data_queue, queued from rcv_nxt on.
            if (seg < conn.RcvNxt)
            {
                DsackSet(conn, seg, conn.RcvNxt); // tcp_data_queue: partial packet, D-SACK its old head
            }
            bool hadHole = conn.RcvHighest > conn.RcvNxt;
            // tcp_ofo_queue: queued out-of-order data below the new rcv_nxt (dsack_high) was duplicated by this skb, a
            // GRO-merged run filling the hole and running on over it: D-SACKed (tcp_dsack_extend).
            DsackCoveredRuns(conn, conn.RcvNxt, end);
            for (ulong s = conn.RcvNxt; s < Math.Min(end, conn.RcvHighest); s++)
            {
                conn.ReceivedAt(s) = false; // already queued out of order: tcp_ofo_queue drops the copy
            }
            conn.RcvNxt = end;
            rsk.RcvNxt = EndSeqOf(conn, end - 1);
            MeasureRcvMss(conn, gsoSize, segment.Flags); // tcp_event_data_recv
            EventDataRecv(conn);
            conn.RcvUnread = true; // for the application's next read (ReceiverRead)
            conn.RcvUnreadTsVal = segment.TsVal;
            DataEcnCheck(conn, ecn); // tcp_event_data_recv, before the out-of-order queue drains
            while (conn.RcvNxt < conn.RcvHighest && conn.ReceivedAt(conn.RcvNxt))
            {
                conn.ReceivedAt(conn.RcvNxt) = false;
                conn.RcvNxt++;
            }
            rsk.RcvNxt = EndSeqOf(conn, conn.RcvNxt - 1);
            conn.RcvHighest = Math.Max(conn.RcvHighest, conn.RcvNxt);
            if (conn.NumSacks > 0)
            {
                SackRemove(conn);
            }
            immediate |= hadHole; // data that fills a hole is ACKed at once
        }
        else
        {
            DataEcnCheck(conn, ecn); // tcp_data_queue_ofo
            MeasureRcvMss(conn, gsoSize, segment.Flags);
            conn.EnsureReceiveWindow(end - 1);
            if (conn.RcvHighest <= conn.RcvNxt)
            {
                // The first out-of-order skb: one SACK block, whatever was remembered before.
                conn.NumSacks = 1;
                conn.SackStart[0] = seg;
                conn.SackEnd[0] = end;
            }
            else
            {
                if (conn.ReceivedAt(seg))
                {
                    // tcp_data_queue_ofo: an skb whose start is already queued is D-SACKed over the part present
                    // (all of it: dropped; a partial overlap: tcp_dsack_set up to the queued skb's end).
                    DsackSet(conn, seg, ReceivedRunEnd(conn, seg, end));
                }
                else if (seg == 0 || !conn.ReceivedAt(seg - 1))
                {
                    // Inserted in a hole (not appended to a queued skb by tcp_ooo_try_coalesce, which skips
                    // merge_right): merge_right drops the queued data this skb covers and D-SACKs it.
                    DsackCoveredRuns(conn, seg + 1, end);
                }
                SackNewOfo(conn, seg, end); // also for a duplicate of queued data (add_sack after the drop)
            }
            for (ulong s = seg; s < end; s++)
            {
                conn.ReceivedAt(s) = true;
            }
            conn.RcvHighest = Math.Max(conn.RcvHighest, end);
            immediate = true; // out of order: a duplicate ACK with SACK
        }

        // __tcp_ack_snd_check: more than one full frame (rcv_mss, the GRO skb's gso_size) unacknowledged, quick-ACK
        // mode or ICSK_ACK_NOW send at once: one ACK for a merged skb of two segments or more (a stretch ACK). A
        // delayed ACK may still go out when the application reads (ReceiverRead).
        conn.UnackedSegments += segs;
        if (immediate || (rsk.IcskAckPending & IcskAck.Now) != 0 || conn.QuickAcksLeft > 0 || conn.UnackedSegments >= 2)
        {
            SendAck(conn, segment.TsVal);
        }
        else
        {
            SendDelayedAck(conn, segment.TsVal);
        }
    }

    /// <summary>TCP_ATO_MIN = TCP_DELACK_MIN (HZ/25, 40 ms) in jiffies: <see cref="TcpStackOptions.DelayedAck"/> rounded up.</summary>
    private uint AtoMinJiffies => (uint)Jiffies.NsecsToJiffiesUp((ulong)_options.DelayedAck.Nanoseconds, _hz);

    /// <summary>TCP_DELACK_MAX (HZ/5).</summary>
    private uint DelackMaxJiffies => _hz / 5;

    /// <summary>
    /// tcp_event_data_recv (net/ipv4/tcp_input.c), for in-order data: the first segment starts the delayed-ACK engine
    /// (ato = TCP_ATO_MIN; the initial quick ACKs are set at connect); later, ato follows the inter-arrival time m —
    /// m ≤ ATO_MIN/2 pulls it toward ATO_MIN, m &lt; ato sets ato/2 + m (at most icsk_rto and TCP_DELACK_MAX), and a
    /// gap over icsk_rto (the sender idled) turns quick ACKs back on (tcp_incr_quickack).
    /// </summary>
    private void EventDataRecv(TcpConnection conn)
    {
        uint now = NowJiffies;
        uint atoMin = AtoMinJiffies;
        if (conn.AtoJiffies == 0)
        {
            conn.AtoJiffies = atoMin;
        }
        else
        {
            int m = (int)(now - conn.LrcvTimeJiffies);
            if (m <= atoMin / 2)
            {
                conn.AtoJiffies = (conn.AtoJiffies >> 1) + atoMin / 2;
            }
            else if (m < conn.AtoJiffies)
            {
                conn.AtoJiffies = Math.Min(Math.Min((conn.AtoJiffies >> 1) + (uint)m, conn.RcvRtoJiffies), DelackMaxJiffies);
            }
            else if (m > conn.RcvRtoJiffies)
            {
                conn.QuickAcksLeft = Math.Max(conn.QuickAcksLeft, _options.QuickAcks);
            }
        }
        conn.LrcvTimeJiffies = now;
    }

    /// <summary>
    /// tcp_send_delayed_ack (net/ipv4/tcp_output.c): wait ato, bounded above TCP_DELACK_MIN by half a second and by
    /// the measured RTT (at least TCP_DELACK_MIN), and by TCP_DELACK_MAX; an earlier pending timeout is kept, and one
    /// due within ato/4 sends the ACK now. The timer fires on the tick jiffies reaches.
    /// </summary>
    private void SendDelayedAck(TcpConnection conn, uint tsEcr)
    {
        ref var rsk = ref _rcvSocks[conn.Id];
        uint ato = conn.AtoJiffies;
        uint delackMin = AtoMinJiffies;
        if (ato > delackMin)
        {
            // HZ/2, or TCP_DELACK_MAX after a pushed segment (pingpong mode, the other case, is never entered here).
            uint maxAto = (rsk.IcskAckPending & IcskAck.Pushed) != 0 ? DelackMaxJiffies : _hz / 2;
            if (conn.RcvSrttUs != 0)
            {
                uint rtt = Math.Max((uint)Jiffies.UsecsToJiffies(conn.RcvSrttUs, _hz), delackMin);
                maxAto = Math.Min(maxAto, rtt);
            }
            ato = Math.Min(ato, maxAto);
        }
        ato = Math.Min(ato, DelackMaxJiffies);
        uint now = NowJiffies;
        uint timeout = now + ato;
        if ((rsk.IcskAckPending & IcskAck.Timer) != 0)
        {
            if (!TcpTime.After(conn.DelackTimeoutJiffies, now + (ato >> 2)))
            {
                SendAck(conn, tsEcr);
                return;
            }
            if (!TcpTime.Before(timeout, conn.DelackTimeoutJiffies))
            {
                timeout = conn.DelackTimeoutJiffies;
            }
        }
        rsk.IcskAckPending |= IcskAck.Sched | IcskAck.Timer;
        conn.DelackTimeoutJiffies = timeout;
        long at = Jiffies.TickNsecs(Jiffies.JiffiesAtNsecs((ulong)_sim.Now.Nanoseconds, _hz) + (ulong)(long)(int)(timeout - now), _hz);
        _sim.Arm(conn.DelackTimer, new Core.Simulation.SimTime(at), conn.Id);
    }

    /// <summary>
    /// tcp_delack_timer_handler: the delayed ACK was not piggybacked in time, so ato doubles (at most icsk_rto and
    /// TCP_DELACK_MAX; the interactive pingpong case is not modelled) and the ACK goes out.
    /// </summary>
    private void DelackTimer(TcpConnection conn)
    {
        conn.AtoJiffies = Math.Min(Math.Min(conn.AtoJiffies << 1, conn.RcvRtoJiffies), DelackMaxJiffies);
        SendAck(conn, tsEcr: 0);
    }

    /// <summary>
    /// tcp_init_transfer on the receiving side, when the handshake's last ACK arrives (with the first data): the
    /// receiving host's algorithm is initialised on its socket (dctcp without ECN falls back to dctcp-reno).
    /// </summary>
    private void ReceiverEstablished(TcpConnection conn)
    {
        ref var rsk = ref _rcvSocks[conn.Id];
        rsk.RcvNxt = 1;
        conn.RcvMss = InitialRcvMss(conn); // tcp_create_openreq_child → tcp_initialize_rcv_mss
        // tcp_synack_rtt_meas: the handshake's RTT is the receiving socket's first sample (tcp_rtt_estimator: srtt = m,
        // rttvar = max(2m, TCP_RTO_MIN)), which sets its icsk_rto (__tcp_set_rto) for the delayed-ACK engine.
        // A SYN-ACK sent more than once gives no sample of its own (req->num_retrans), so the ACK's TSecr — the
        // TSval of the SYN-ACK the sender accepted — does (tcp_ack_update_rtt, in whole ms).
        CloseRequest(conn);
        long m = conn.ReqNumRetrans == 0 ? Math.Max((_sim.Now.Nanoseconds - conn.SynAckSentNs) / 1000, 1) : TsRttUs(conn.SynAckTsVal);
        long rttvar = Math.Max(2 * m, _options.MinRto.Nanoseconds / 1000);
        conn.RcvSrttUs = (uint)m;
        conn.RcvRtoJiffies = (uint)Math.Min(Jiffies.UsecsToJiffies((uint)Math.Min(m + rttvar, uint.MaxValue), _hz), MaxRtoJiffies);
        if (conn.ReceiverOps == Dctcp.Ops && Dctcp.NeedsRenoFallback(rsk))
        {
            conn.ReceiverOps = Dctcp.RenoFallbackOps;
        }
        CaVoid(conn.ReceiverOps.Init, ref rsk, TcpCaMember.Init);
        conn.ReceiverReady = true;
    }

    /// <summary>
    /// tcp_data_ecn_check (__tcp_ecn_check_ce): on an ECN connection, CE and ECT data reach an algorithm that needs
    /// ECN as CA_EVENT_ECN_IS_CE / ECN_NO_CE; CE demands CWR (ECE on ACKs until the sender's CWR) and, the first time,
    /// quick ACKs; a non-ECT segment after ECT ones is probably a retransmission, ACKed quickly.
    /// </summary>
    private void DataEcnCheck(TcpConnection conn, EcnCodepoint ecn)
    {
        ref var rsk = ref _rcvSocks[conn.Id];
        if ((rsk.EcnFlags & TcpEcnFlags.Ok) == 0)
        {
            return;
        }
        bool needsEcn = conn.ReceiverOps.NeedsEcn;
        switch (ecn)
        {
            case EcnCodepoint.NotEct:
                if ((rsk.EcnFlags & TcpEcnFlags.Seen) != 0)
                {
                    EnterQuickAckMode(conn, 2);
                }
                break;
            case EcnCodepoint.Ce:
                if (needsEcn)
                {
                    ReceiverCaEvent(conn, TcpCaEvent.EcnIsCe);
                }
                if ((rsk.EcnFlags & TcpEcnFlags.DemandCwr) == 0)
                {
                    EnterQuickAckMode(conn, 2);
                    rsk.EcnFlags |= TcpEcnFlags.DemandCwr;
                }
                rsk.EcnFlags |= TcpEcnFlags.Seen;
                break;
            default:
                if (needsEcn)
                {
                    ReceiverCaEvent(conn, TcpCaEvent.EcnNoCe);
                }
                rsk.EcnFlags |= TcpEcnFlags.Seen;
                break;
        }
    }

    /// <summary>
    /// tcp_enter_quickack_mode / tcp_incr_quickack: the next <paramref name="max"/> ACKs go out at once (the kernel's
    /// bound of rcv_wnd / (2 × rcv_mss) is not modelled: receive windows are taken as large).
    /// </summary>
    private void EnterQuickAckMode(TcpConnection conn, int max)
    {
        conn.QuickAcksLeft = Math.Max(conn.QuickAcksLeft, max);
        conn.AtoJiffies = AtoMinJiffies;
    }

    /// <summary>tcp_ca_event on the receiving socket, with tcp_send_ack available to the hook.</summary>
    private void ReceiverCaEvent(TcpConnection conn, TcpCaEvent ev)
    {
        var previous = TcpCongKfuncs.AckOutput;
        TcpCongKfuncs.AckOutput = _ackOutput;
        _ackConn = conn;
        try
        {
            CaCwndEvent(conn.ReceiverOps, ref _rcvSocks[conn.Id], ev);
        }
        finally
        {
            TcpCongKfuncs.AckOutput = previous;
            _ackConn = null;
        }
    }

    /// <summary>
    /// The stack's side of tcp_send_ack from a receive-side hook: an ACK of <paramref name="rcvNxt"/> now. Like
    /// __tcp_send_ack with a rcv_nxt other than the socket's, it leaves the delayed-ACK state alone (tcp_event_ack_sent
    /// only clears it for an ACK of everything received).
    /// </summary>
    private void SendAckKfunc(ref TcpSock tp, uint rcvNxt)
    {
        var conn = _ackConn ?? throw new InvalidOperationException("tcp_send_ack outside a receive-side hook");
        if (!System.Runtime.CompilerServices.Unsafe.AreSame(ref tp, ref _rcvSocks[conn.Id]))
        {
            throw new InvalidOperationException("tcp_send_ack on a socket other than the one whose hook is running");
        }
        // An ACK of everything received is an ordinary ACK (tcp_event_ack_sent does its bookkeeping).
        SendAck(conn, _ackTsEcr, rcvNxt == tp.RcvNxt ? null : rcvNxt);
    }

    /// <summary>
    /// An ACK with up to three SACK blocks, most recent first (of the four the socket remembers); ECE while the
    /// receiving socket demands CWR. <paramref name="ackSeq"/> (a receive-side hook's tcp_send_ack) acknowledges
    /// less than everything received and leaves the delayed-ACK state as it is.
    /// </summary>
    private void SendAck(TcpConnection conn, uint tsEcr, uint? ackSeq = null)
    {
        ref var rsk = ref _rcvSocks[conn.Id];
        if (ackSeq is null)
        {
            _sim.Cancel(conn.DelackTimer);
            rsk.IcskAckPending = 0;
            conn.UnackedSegments = 0;
            if (conn.QuickAcksLeft > 0 && --conn.QuickAcksLeft == 0)
            {
                conn.AtoJiffies = AtoMinJiffies; // tcp_dec_quickack_mode: leaving quick-ACK mode deflates ato
            }
        }
        ref var packet = ref NewSegment(conn, conn.Path.Reverse, TcpFlags.Ack, payload: 0, out int p);
        // tcp_ecn_send: pure ACKs are not ECT, except from a socket whose algorithm needs ECN.
        if ((rsk.EcnFlags & TcpEcnFlags.Ok) != 0 && conn.ReceiverOps.NeedsEcn)
        {
            packet.Ecn = EcnCodepoint.Ect0;
        }
        packet.Segment.Ack = ackSeq ?? (conn.RcvNxt == 0 ? 1 : EndSeqOf(conn, conn.RcvNxt - 1));
        packet.Segment.TsEcr = tsEcr;
        if ((rsk.EcnFlags & TcpEcnFlags.DemandCwr) != 0)
        {
            packet.Segment.Flags |= TcpFlags.Ece;
        }
        // tcp_options_write: the remembered blocks in their order (most recent first), as many as the option space
        // left by timestamps holds.
        int blocks = WriteSackBlocks(conn, ref _net.Packets.SacksOf(p));
        packet.Segment.SackCount = (byte)blocks;
        packet.SizeBytes += blocks > 0 ? 4 + 8 * blocks : 0;
        _net.Send(p);
    }

    /// <summary>TCP_NUM_SACKS (include/linux/tcp.h): SACK blocks a socket remembers.</summary>
    internal const int NumSacks = 4;

    /// <summary>tcp_sack_extend: grow block <paramref name="i"/> by [start, end) if they overlap or touch.</summary>
    private static bool SackExtend(TcpConnection conn, int i, ulong start, ulong end)
    {
        if (start > conn.SackEnd[i] || conn.SackStart[i] > end)
        {
            return false;
        }
        conn.SackStart[i] = Math.Min(conn.SackStart[i], start);
        conn.SackEnd[i] = Math.Max(conn.SackEnd[i], end);
        return true;
    }

    /// <summary>
    /// tcp_sack_new_ofo_skb (net/ipv4/tcp_input.c): the block the new data extends moves to the front and absorbs any
    /// block it now reaches (tcp_sack_maybe_coalesce); otherwise a new block goes in front, the others shift down, and
    /// with TCP_NUM_SACKS already remembered the oldest is forgotten.
    /// </summary>
    private static void SackNewOfo(TcpConnection conn, ulong start, ulong end)
    {
        int n = conn.NumSacks;
        for (int i = 0; i < n; i++)
        {
            if (!SackExtend(conn, i, start, end))
            {
                continue;
            }
            for (; i > 0; i--)
            {
                (conn.SackStart[i], conn.SackStart[i - 1]) = (conn.SackStart[i - 1], conn.SackStart[i]);
                (conn.SackEnd[i], conn.SackEnd[i - 1]) = (conn.SackEnd[i - 1], conn.SackEnd[i]);
            }
            for (int j = 1; j < conn.NumSacks;)
            {
                if (SackExtend(conn, 0, conn.SackStart[j], conn.SackEnd[j]))
                {
                    conn.NumSacks--;
                    for (int k = j; k < conn.NumSacks; k++)
                    {
                        conn.SackStart[k] = conn.SackStart[k + 1];
                        conn.SackEnd[k] = conn.SackEnd[k + 1];
                    }
                    continue;
                }
                j++;
            }
            return;
        }
        if (n >= NumSacks)
        {
            n = NumSacks - 1;
        }
        for (int i = n; i > 0; i--)
        {
            conn.SackStart[i] = conn.SackStart[i - 1];
            conn.SackEnd[i] = conn.SackEnd[i - 1];
        }
        conn.SackStart[0] = start;
        conn.SackEnd[0] = end;
        conn.NumSacks = n + 1;
    }

    /// <summary>tcp_sack_remove: rcv_nxt advanced; forget the blocks it covers, or all of them once nothing is out of order.</summary>
    private static void SackRemove(TcpConnection conn)
    {
        if (conn.RcvHighest <= conn.RcvNxt)
        {
            conn.NumSacks = 0;
            return;
        }
        for (int i = 0; i < conn.NumSacks;)
        {
            if (conn.RcvNxt >= conn.SackStart[i])
            {
                conn.NumSacks--;
                for (int k = i; k < conn.NumSacks; k++)
                {
                    conn.SackStart[k] = conn.SackStart[k + 1];
                    conn.SackEnd[k] = conn.SackEnd[k + 1];
                }
                continue;
            }
            i++;
        }
    }

    private static void SetBlock(ref SackBlocks s, int i, uint start, uint end)
    {
        switch (i)
        {
            case 0: s.Sack0Start = start; s.Sack0End = end; break;
            case 1: s.Sack1Start = start; s.Sack1End = end; break;
            case 2: s.Sack2Start = start; s.Sack2End = end; break;
            default: throw new ArgumentOutOfRangeException(nameof(i), i, $"at most {TcpSegment.MaxSackBlocks} SACK blocks");
        }
    }
}
