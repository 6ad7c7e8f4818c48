using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack
{
    /// <summary>Sequence number (bytes) of the start of segment <paramref name="seg"/>: ISN 0, the SYN takes one.</summary>
    private static uint SeqOf(TcpConnection conn, ulong seg) => (uint)(1 + seg * (ulong)conn.Mss);

    /// <summary>The byte just past segment <paramref name="seg"/> (the last one may be short).</summary>
    private static uint EndSeqOf(TcpConnection conn, ulong seg) =>
        conn.BytesToSend >= 0 && (long)seg == conn.TotalSegments - 1
            ? (uint)(1 + (ulong)conn.BytesToSend)
            : SeqOf(conn, seg + 1);

    private static int PayloadOf(TcpConnection conn, ulong seg) => (int)(EndSeqOf(conn, seg) - SeqOf(conn, seg));

    /// <summary>
    /// How many whole segments lie below byte <paramref name="seq"/>, unwrapping the 32-bit sequence around segment
    /// <paramref name="reference"/> (one the sender knows is close, such as snd_una). A sequence before the
    /// reference gives a count below it.
    /// </summary>
    private static ulong SegmentsBelow(TcpConnection conn, uint seq, ulong reference)
    {
        if (conn.BytesToSend >= 0 && seq == EndSeqOf(conn, (ulong)conn.TotalSegments - 1))
        {
            return (ulong)conn.TotalSegments;
        }
        long offset = (int)(seq - SeqOf(conn, reference));
        if (offset < 0)
        {
            return reference == 0 ? 0 : reference - 1;
        }
        return reference + (uint)offset / (uint)conn.Mss; // 0 ≤ offset < 2^31: a 32-bit division, once per ACK
    }

    private void SendControl(TcpConnection conn, TcpFlags flags, int route, uint ack, uint tsEcr, EcnCodepoint ecn = EcnCodepoint.NotEct)
    {
        ref var packet = ref NewSegment(conn, route, flags, payload: 0, out int p);
        packet.Ecn = ecn;
        packet.Segment.Ack = ack;
        packet.Segment.TsEcr = tsEcr;
        _net.Send(p);
    }

    /// <summary>
    /// A pooled packet of <paramref name="conn"/> on <paramref name="route"/>: headers (with the timestamp option,
    /// TSval now) plus <paramref name="payload"/> bytes. The caller fills in the rest and sends it.
    /// </summary>
    private ref Packet NewSegment(TcpConnection conn, int route, TcpFlags flags, int payload, out int index)
    {
        index = _net.Packets.Allocate();
        ref var packet = ref _net.Packets[index];
        packet.Flow = conn.Id;
        packet.Route = route;
        packet.PayloadBytes = payload;
        packet.SizeBytes = payload + _options.HeaderBytes;
        packet.Segment.Flags = flags;
        packet.Segment.TsVal = NowUs;
        return ref packet;
    }

    /// <summary>The sender side got a packet: the SYN-ACK, or an ACK.</summary>
    private void SenderReceive(TcpConnection conn, int p)
    {
        ref var packet = ref _net.Packets[p];
        var segment = packet.Segment;
        var sacks = segment.SackCount > 0 ? _net.Packets.SacksOf(p) : default;
        _net.Packets.Free(p);
        if (conn.State == TcpConnectionState.SynSent && (segment.Flags & TcpFlags.Syn) != 0)
        {
            Established(conn, segment);
            return;
        }
        if (conn.State == TcpConnectionState.Established && (segment.Flags & TcpFlags.Syn) == 0)
        {
            OnAck(conn, segment, sacks); // a SYN-ACK sent again after the handshake is tcp_validate_incoming's: not an ACK
        }
    }

    /// <summary>
    /// tcp_ack_update_rtt: the sequence RTT (oldest newly acknowledged, never retransmitted segment; else the SACK
    /// RTT) drives srtt and the RTO; the newest such segment's RTT (ca_rtt) is what the algorithm and min_rtt see.
    /// </summary>
    private void UpdateRtt(TcpConnection conn, long seqRttUs, long caRttUs, bool ackMaybeDelayed)
    {
        if (seqRttUs < 0)
        {
            return;
        }
        ref var sk = ref _socks[conn.Id];
        conn.Counters.AddRtt(Math.Max(seqRttUs, 1));
        // tcp_update_rtt_min: windowed over sysctl_tcp_min_rtt_wlen = 300 s, timed in jiffies; a suspected delayed ACK
        // above the current minimum is skipped (FLAG_ACK_MAYBE_DELAYED).
        if (!(ackMaybeDelayed && caRttUs > sk.MinRttUs))
        {
            sk.RttMin.RunningMin(300 * _hz, sk.TcpJiffies32, (uint)Math.Clamp(caRttUs, 1, uint.MaxValue));
        }
        RttEstimator(conn, Math.Max(seqRttUs, 1));
        // __tcp_set_rto: srtt + rttvar, where rttvar is kept at least TCP_RTO_MIN; then TCP_RTO_MAX.
        // icsk_rto is in jiffies: usecs_to_jiffies rounds the sum up to the next whole jiffy (include/net/tcp.h).
        ulong rtoJiffies = Jiffies.UsecsToJiffies((uint)Math.Min((sk.SrttUs >> 3) + (long)conn.RttvarUs, uint.MaxValue), _hz);
        conn.RtoNs = Math.Min((long)Jiffies.JiffiesToUsecs(rtoJiffies, _hz) * 1000L, _options.MaxRto.Nanoseconds);
        conn.Backoff = 0; // tcp_ack_update_rtt: "RFC6298: only reset backoff on valid RTT measurement"
    }

    /// <summary>
    /// tcp_rtt_estimator (net/ipv4/tcp_input.c): srtt_us keeps 8 × SRTT and mdev_us 4 × the mean deviation; a falling
    /// RTT moves mdev with the finer gain (Eifel-like); rttvar tracks the largest mdev of the last RTT, decaying
    /// by a quarter per RTT, never below TCP_RTO_MIN.
    /// </summary>
    private void RttEstimator(TcpConnection conn, long mrttUs)
    {
        ref var sk = ref _socks[conn.Id];
        long m = mrttUs;
        long srtt = sk.SrttUs;
        uint rtoMinUs = (uint)(_options.MinRto.Nanoseconds / 1000);
        if (srtt != 0)
        {
            m -= srtt >> 3;
            srtt += m;
            long mdev = sk.MdevUs;
            if (m < 0)
            {
                m = -m;
                m -= mdev >> 2;
                if (m > 0)
                {
                    m >>= 3;
                }
            }
            else
            {
                m -= mdev >> 2;
            }
            sk.MdevUs = (uint)Math.Max(0, mdev + m);
            if (sk.MdevUs > conn.MdevMaxUs)
            {
                conn.MdevMaxUs = sk.MdevUs;
                if (conn.MdevMaxUs > conn.RttvarUs)
                {
                    conn.RttvarUs = conn.MdevMaxUs;
                }
            }
            if (conn.SndUna > conn.RttSeq)
            {
                if (conn.MdevMaxUs < conn.RttvarUs)
                {
                    conn.RttvarUs -= (conn.RttvarUs - conn.MdevMaxUs) >> 2;
                }
                conn.RttSeq = conn.SndNxt;
                conn.MdevMaxUs = rtoMinUs;
            }
        }
        else
        {
            srtt = m << 3;
            sk.MdevUs = (uint)(m << 1);
            conn.RttvarUs = Math.Max(sk.MdevUs, rtoMinUs);
            conn.MdevMaxUs = conn.RttvarUs;
            conn.RttSeq = conn.SndNxt;
        }
        sk.SrttUs = (uint)Math.Max(1, srtt);
    }

    private long CurrentRtoNs(TcpConnection conn) => Math.Min(conn.RtoNs << conn.Backoff, _options.MaxRto.Nanoseconds);

    /// <summary>
    /// tcp_write_xmit with tcp_xmit_retransmit_queue first: lost segments one by one, then new data in skbs of up to
    /// tcp_tso_segs segments, while the window allows, pacing (if the algorithm asked for it) permits and TSO
    /// deferral does not hold the skb back.
    /// </summary>
    /// <param name="lossProbe">
    /// push_one = 2, from tcp_send_loss_probe: new data only, one skb, the cwnd test forced to one segment when the
    /// window is full (else its quota, up to tcp_tso_segs), no TSO deferral, and no loss probe scheduled after it.
    /// </param>
    private void WriteXmit(TcpConnection conn, bool lossProbe = false)
    {
        if (conn.State != TcpConnectionState.Established)
        {
            return;
        }
        ref var sk = ref _socks[conn.Id];
        MstampRefresh(ref sk);
        bool sent = false;
        bool deferredCwndLimited = false;
        uint maxSegs;
        using (EnterCa(conn))
        {
            maxSegs = TsoSegs(conn);
        }
        while (true)
        {
            ulong seg = NextToSend(conn, out bool retransmit);
            if (seg == ulong.MaxValue || PacingCheck(conn))
            {
                break;
            }
            uint inFlight = sk.PacketsInFlight;
            if (inFlight >= sk.SndCwnd && !lossProbe)
            {
                break;
            }
            if (retransmit)
            {
                TransmitSkb(conn, seg, 1, retransmit: true);
                sent = true;
                continue;
            }
            // tcp_cwnd_test: at most half of cwnd per skb, so that at least two skbs are in flight; a loss probe
            // (push_one == 2) goes out as one segment when the window is full.
            uint quota = inFlight >= sk.SndCwnd ? 1 : Math.Min(Math.Max(sk.SndCwnd >> 1, 1), sk.SndCwnd - inFlight);
            quota = Math.Min(quota, maxSegs);
            ulong queueEnd = WriteQueueEnd(conn);
            uint skbSegs = HeadSkbSegs(conn, seg, queueEnd, quota);
            if (skbSegs > 1 && !lossProbe && TsoShouldDefer(conn, seg, skbSegs, queueEnd, maxSegs, ref deferredCwndLimited))
            {
                break;
            }
            TransmitSkb(conn, seg, Math.Min(skbSegs, quota), retransmit: false); // tcp_mss_split_point, tso_fragment
            sent = true;
            if (lossProbe)
            {
                break; // push_one: one skb
            }
        }
        if (conn.RetransOnly)
        {
            return; // tcp_xmit_retransmit_queue: none of tcp_write_xmit's cwnd validation, loss probe or app-limited check
        }
        bool moreData = !conn.Stopping && (long)conn.SndNxt < conn.WrittenSegments && SndbufHasRoom(conn);
        bool isCwndLimited = deferredCwndLimited || sk.PacketsInFlight >= sk.SndCwnd;
        if (sent || isCwndLimited)
        {
            CwndValidate(conn, isCwndLimited);
        }
        if (sent && !lossProbe)
        {
            ScheduleLossProbe(conn, advancingRto: false); // one loss probe per tail loss episode (tcp_write_xmit)
        }
        if (!moreData && !sent && sk.AppLimited == 0 && sk.PacketsOut < sk.SndCwnd)
        {
            // tcp_rate_check_app_limited: the application, not the network, limits delivery from here on.
            sk.AppLimited = Math.Max(sk.Delivered + sk.PacketsInFlight, 1);
        }
    }

    /// <summary>
    /// __tcp_transmit_skb for an skb of <paramref name="segs"/> segments from <paramref name="seg"/>: one departure
    /// time (EDT) for all of them, handed to the device back to back, then data_segs_out and the pacing clock
    /// (tcp_update_skb_after_send) move on once for the whole skb. With RACK the retransmission timer is then armed
    /// once for the skb, as tcp_event_new_data_sent and tcp_xmit_retransmit_queue do after tcp_transmit_skb returned:
    /// its tcp_pacing_delay includes this skb's own pacing step. The last segment carries PSH if the skb has more than
    /// one, or ends a pushed write (TcpStack.Psh.cs); a retransmission if its segment did.
    /// </summary>
    private void TransmitSkb(TcpConnection conn, ulong seg, uint segs, bool retransmit, bool lossProbe = false, bool armTimer = true)
    {
        ref var sk = ref _socks[conn.Id];
        ulong priorWstamp = StampDeparture(ref sk);
        uint priorPacketsOut = sk.PacketsOut; // tcp_event_new_data_sent: prior_packets, for the whole skb
        bool pushed = retransmit ? (conn.Segment(seg).Flags & SegmentFlags.Pushed) != 0 : HoldsPushedWriteEnd(conn, seg, segs);
        long bytes = 0;
        for (uint i = 0; i < segs; i++)
        {
            bool last = i == segs - 1;
            SendSegment(conn, seg + i, retransmit, lossProbe, psh: last && (pushed || segs > 1), pushed: last && pushed);
            bytes += PayloadOf(conn, seg + i);
        }
        conn.DataSegsOut += segs;
        UpdateSkbAfterSend(conn, bytes, priorWstamp);
        if (_options.IsRack && !lossProbe && armTimer) // tcp_send_loss_probe, tcp_retransmit_timer re-arm it themselves
        {
            ArmAfterSendRack(conn, seg, retransmit, priorPacketsOut);
        }
    }

    /// <summary>
    /// tcp_sndbuf_expand: room for max(TCP_INIT_CWND, cwnd, reordering + 1) worst-case skbs, times the algorithm's
    /// sndbuf_expand (2 when it has none), capped at tcp_wmem[2] (4 MiB). The result limits how much new data is
    /// queued (<see cref="SndbufHasRoom"/>).
    /// </summary>
    private const uint TcpWmemMax = 4u << 20; // net.ipv4.tcp_wmem[2]

    /// <summary>net.ipv4.tcp_wmem[1]: sk_sndbuf as tcp_init_sock sets it, before tcp_init_buffer_space grows it.</summary>
    internal const uint TcpWmemDefault = 16384;

    /// <summary>
    /// tcp_check_space → tcp_new_space (net/ipv4/tcp_input.c), after an ACK was processed: an application blocked on a
    /// full send buffer (SOCK_NOSPACE: it has more to write and the write queue is at sk_sndbuf) gets a bigger buffer
    /// when the window is not full (tcp_should_expand_sndbuf), which also stamps snd_cwnd_stamp; it then writes into
    /// the new room at once.
    /// </summary>
    private void CheckSpace(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        // The application keeps the write queue (sent and unsent) full while it has more to write than fits.
        bool noSpace = !conn.Stopping && conn.WrittenSegments - (long)conn.SndUna > SndbufSegments(conn);
        if (!noSpace || sk.PacketsInFlight >= sk.SndCwnd)
        {
            return;
        }
        uint before = sk.SkSndbuf;
        using (EnterCa(conn))
        {
            SndbufExpand(conn);
        }
        sk.SndCwndStamp = NowJiffies;
        if (sk.SkSndbuf != before)
        {
            WriteXmit(conn);
        }
    }

    private void SndbufExpand(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        // per_mss = roundup_pow_of_two(mss + MAX_TCP_HEADER (320) + skb_shared_info (320)) + sizeof(sk_buff) (256), x86-64.
        uint perMss = System.Numerics.BitOperations.RoundUpToPowerOf2(sk.MssCache + 320 + 320) + 256;
        uint segs = Math.Max(Math.Max(TcpSock.InitCwnd, sk.SndCwnd), (uint)_options.Reordering + 1);
        // 128-bit: a consumer's factor times its cwnd must saturate at tcp_wmem[2], not wrap.
        UInt128 mem = (UInt128)(CaU32Optional(conn.Ops.SndbufExpand, ref sk, TcpCaMember.SndbufExpand) ?? 2) * segs * perMss;
        if (sk.SkSndbuf < mem)
        {
            sk.SkSndbuf = (uint)UInt128.Min(mem, TcpWmemMax);
        }
    }

    /// <summary>
    /// tcp_cwnd_validate (net/ipv4/tcp_output.c): remember for a whole window whether the flow was cwnd-limited, and
    /// otherwise the most it had out, so tcp_is_cwnd_limited does not flicker with pacing or ACK timing.
    /// </summary>
    /// <remarks>
    /// Its second half, tcp_cwnd_application_limited (RFC 2861's decay of a window unused for an RTO), is not
    /// modelled: it needs snd_cwnd_stamp to age an RTO while sending in Open, but every data ACK refreshes the stamp
    /// (tcp_cong_avoid) and an idle socket restarts its window first (<see cref="SlowStartAfterIdleCheck"/>); only
    /// receive-window or send-buffer limits, which are not modelled, leave it to act.
    /// </remarks>
    private void CwndValidate(TcpConnection conn, bool isCwndLimited)
    {
        ref var sk = ref _socks[conn.Id];
        if (conn.SndUna >= conn.CwndUsageSeq || isCwndLimited || (!sk.IsCwndLimited && sk.PacketsOut > sk.MaxPacketsOut))
        {
            sk.IsCwndLimited = isCwndLimited;
            sk.MaxPacketsOut = sk.PacketsOut;
            conn.CwndUsageSeq = conn.SndNxt;
        }
        if (sk.CwndLimited)
        {
            sk.SndCwndStamp = NowJiffies;
        }
    }

    /// <summary>icsk_rto in jiffies (the current RTO, backoff included).</summary>
    private int RtoJiffies(TcpConnection conn) => (int)Jiffies.UsecsToJiffies((uint)(CurrentRtoNs(conn) / 1000), _hz);

    /// <summary>
    /// The application queued new data (tcp_sendmsg → tcp_skb_entail → tcp_push): the idle check of
    /// tcp_slow_start_after_idle_check, then the burst joins the write queue and is pushed.
    /// </summary>
    private void AppWrite(TcpConnection conn)
    {
        if (conn.State == TcpConnectionState.Closed || conn.Stopping)
        {
            return;
        }
        var writes = conn.Writes!;
        if (conn.State == TcpConnectionState.Established)
        {
            SlowStartAfterIdleCheck(conn);
        }
        long segments = BurstSegments(conn);
        if ((long)conn.SndNxt >= conn.WrittenSegments)
        {
            conn.SkbCutBase = (ulong)conn.WrittenSegments; // tcp_sendmsg: nothing unsent to append to, a new skb begins
        }
        conn.WrittenSegments = Math.Min(conn.WrittenSegments + segments, conn.TotalSegments);
        if (conn.WrittenSegments < conn.TotalSegments)
        {
            _sim.ScheduleIn(writes.Interval, _handler, KindWrite, conn.Id);
        }
        WriteXmit(conn);
    }

    /// <summary>
    /// tcp_slow_start_after_idle_check (include/net/tcp.h): with the sysctl on, nothing in flight and no
    /// cong_control, an idle time since the last data sent longer than the RTO restarts the window.
    /// </summary>
    private void SlowStartAfterIdleCheck(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        if (!_options.SlowStartAfterIdle || sk.PacketsOut > 0 || conn.Ops.CongControl is not null)
        {
            return;
        }
        int delta = (int)(NowJiffies - sk.Lsndtime);
        if (delta > RtoJiffies(conn))
        {
            CwndRestart(conn, delta);
        }
    }

    /// <summary>
    /// tcp_cwnd_restart (net/ipv4/tcp_output.c, RFC 2861): CA_EVENT_CWND_RESTART, ssthresh keeps ¾ of the old
    /// window, and cwnd halves once per RTO of idle time, down to the restart window min(TCP_INIT_CWND, cwnd).
    /// </summary>
    private void CwndRestart(TcpConnection conn, int delta)
    {
        ref var sk = ref _socks[conn.Id];
        uint cwnd = sk.SndCwnd;
        using (EnterCa(conn))
        {
            CaCwndEvent(conn.Ops, ref sk, TcpCaEvent.CwndRestart);
        }
        sk.SndSsthresh = CurrentSsthresh(ref sk);
        uint restartCwnd = Math.Min(_options.InitialCwnd, cwnd);
        int rto = RtoJiffies(conn);
        while ((delta -= rto) > 0 && cwnd > restartCwnd)
        {
            cwnd >>= 1;
        }
        sk.SndCwnd = Math.Max(cwnd, restartCwnd);
        sk.SndCwndStamp = NowJiffies;
        conn.Stats.CwndRestarts++;
    }

    /// <summary>The first lost segment not yet retransmitted, else the next new one, else ulong.MaxValue.</summary>
    private ulong NextToSend(TcpConnection conn, out bool retransmit)
    {
        ref var sk = ref _socks[conn.Id];
        if (sk.LostOut > sk.RetransOut && !conn.NewDataOnly)
        {
            for (ulong s = conn.SndUna; s < conn.SndNxt; s++)
            {
                var flags = conn.Segment(s).Flags;
                if ((flags & SegmentFlags.Lost) != 0 && (flags & (SegmentFlags.Retrans | SegmentFlags.Sacked)) == 0)
                {
                    retransmit = true;
                    return s;
                }
            }
        }
        retransmit = false;
        return !conn.RetransOnly && !conn.Stopping && (long)conn.SndNxt < conn.WrittenSegments && SndbufHasRoom(conn) ? conn.SndNxt : ulong.MaxValue;
    }

    /// <summary>
    /// sk_stream_memory_free: the application queues data (sent and unsent, counted in payload bytes as TSO-sized
    /// skbs nearly are) while the write queue is below sk_sndbuf, so the next new segment can be sent only if it is
    /// in the queue, and no window, however large, puts more than tcp_wmem[2] (4 MiB) in flight. Retransmissions are
    /// already queued and need no room.
    /// </summary>
    private bool SndbufHasRoom(TcpConnection conn) => (long)(conn.SndNxt - conn.SndUna) < SndbufSegments(conn);

    /// <summary>How many segments the write queue holds: the last skb queued may cross sk_sndbuf.</summary>
    /// <remarks>Read several times per ACK: a 32-bit division where the sum fits (always, below a 4 GiB sk_sndbuf).</remarks>
    private long SndbufSegments(TcpConnection conn)
    {
        uint mss = (uint)conn.Mss;
        ulong bytes = (ulong)_socks[conn.Id].SkSndbuf + mss - 1;
        return bytes <= uint.MaxValue ? (uint)bytes / mss : (long)(bytes / mss);
    }

    /// <param name="psh">Whether the segment leaves with PSH.</param>
    /// <param name="pushed">Whether it ends a pushed write: its retransmissions carry PSH too.</param>
    private void SendSegment(TcpConnection conn, ulong seg, bool retransmit, bool lossProbe, bool psh, bool pushed)
    {
        ref var sk = ref _socks[conn.Id];
        long now = _sim.Now.Nanoseconds;
        MstampRefresh(ref sk);
        // tcp_event_data_sent: any data sent with nothing in flight starts a transmission burst.
        if (sk.PacketsInFlight == 0)
        {
            using (EnterCa(conn))
            {
                CaCwndEvent(conn.Ops, ref sk, TcpCaEvent.TxStart);
            }
        }
        sk.Lsndtime = sk.TcpJiffies32;
        if (!retransmit)
        {
            conn.EnsureBoard(seg + 1);
            conn.Segment(seg) = new SegmentState { Flags = pushed ? SegmentFlags.Pushed : SegmentFlags.None };
            conn.SndNxt = seg + 1;
            sk.SndNxt = EndSeqOf(conn, seg);
            sk.PacketsOut++;
        }
        ref var state = ref conn.Segment(seg);
        if (lossProbe)
        {
            state.Flags |= SegmentFlags.EverRetrans; // tcp_send_loss_probe → __tcp_retransmit_skb
            conn.Stats.Retransmits++;                 // tp->total_retrans
        }
        else if (retransmit)
        {
            if (conn.RetransStampUs == 0)
            {
                conn.RetransStampUs = Math.Max(NowUs, 1u); // tcp_retransmit_skb
            }
            state.Flags |= SegmentFlags.Retrans | SegmentFlags.EverRetrans;
            sk.RetransOut++;
            conn.Stats.Retransmits++;
            conn.UndoRetrans = Math.Max(conn.UndoRetrans, 0) + 1; // tcp_retransmit_skb
        }
        // tcp_rate_skb_sent: snapshot the delivery state this segment will be measured against.
        if (sk.PacketsOut == 1 && !retransmit || sk.PacketsInFlight == 0)
        {
            conn.FirstTxNs = now;
            conn.DeliveredTimeNs = now;
            sk.DeliveredMstamp = sk.TcpMstamp;
        }
        state.SentNs = now;
        state.FirstTxNs = conn.FirstTxNs;
        state.DeliveredAtSend = sk.Delivered;
        state.DeliveredCeAtSend = sk.DeliveredCe;
        state.DeliveredTimeNs = conn.DeliveredTimeNs;
        state.IsAppLimited = sk.AppLimited != 0;
        if (!lossProbe && sk.IcskCaState is TcpCaState.CWR or TcpCaState.Recovery)
        {
            conn.PrrOut++; // tcp_write_xmit / tcp_xmit_retransmit_queue; not __tcp_retransmit_skb of a probe
        }

        ref var packet = ref NewSegment(conn, conn.Path.Forward, TcpFlags.Ack, PayloadOf(conn, seg), out int p);
        // tcp_ecn_send: new data is ECT; a retransmission is not, unless the algorithm needs ECN (DCTCP marks all).
        packet.Ecn = (sk.EcnFlags & TcpEcnFlags.Ok) != 0 && (!retransmit || conn.Ops.NeedsEcn)
            ? EcnCodepoint.Ect0
            : EcnCodepoint.NotEct;
        packet.Segment.Seq = SeqOf(conn, seg);
        if (psh)
        {
            packet.Segment.Flags |= TcpFlags.Psh;
        }
        packet.Tstamp = (long)sk.TcpWstampNs; // skb->skb_mstamp_ns: the skb's departure time (__tcp_transmit_skb)
        if ((sk.EcnFlags & TcpEcnFlags.QueueCwr) != 0 && !retransmit)
        {
            packet.Segment.Flags |= TcpFlags.Cwr;
            sk.EcnFlags &= unchecked((byte)~TcpEcnFlags.QueueCwr);
        }
        conn.Counters.SegmentsSent++;
        if (_tracer is not null)
        {
            TraceSend(conn, seg, retransmit, lossProbe);
        }
        _net.Send(p);
        if (!_options.IsRack && !_sim.IsArmed(conn.RtoTimer)) // with RACK: TransmitSkb, once per skb
        {
            SetRto(conn, CurrentRtoNs(conn));
        }
    }

    /// <summary>tcp_ecn_queue_cwr: tell the receiver (CWR on the next data) that we reduced.</summary>
    private void QueueCwr(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        if ((sk.EcnFlags & TcpEcnFlags.Ok) != 0)
        {
            sk.EcnFlags |= TcpEcnFlags.QueueCwr;
        }
    }
}
