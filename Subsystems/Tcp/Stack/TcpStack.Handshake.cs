using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The sending side of the three-way handshake: the SYN (tcp_connect in net/ipv4/tcp_output.c), its timeouts
/// (tcp_retransmit_timer and tcp_write_timeout in net/ipv4/tcp_timer.c) and the SYN-ACK that establishes the
/// connection (tcp_rcv_synsent_state_process, tcp_finish_connect and tcp_init_transfer in net/ipv4/tcp_input.c).
/// </summary>
/// <remarks>
/// The handshake's final ACK travels with the first data segment (no pure ACK of its own), and the SYN-ACK's tcp_ack
/// is reduced to what it changes for a socket whose only outstanding segment is the SYN: an RTT sample, the SYN
/// delivered, the algorithm's pkts_acked, in_ack_event and cong_control (or the pacing rate) before its init, and after
/// a SYN timeout the end of the loss episode (tcp_process_loss → tcp_try_undo_recovery: CA_Open, no undo).
/// </remarks>
public sealed partial class TcpStack
{
    // tcp_ack's flags for the SYN-ACK: FLAG_WIN_UPDATE | FLAG_SYN_ACKED | FLAG_SLOWPATH | FLAG_SND_UNA_ADVANCED |
    // FLAG_SET_XMIT_TIMER (net/ipv4/tcp_input.c).
    private const int SynAckFlags = 0x02 | 0x10 | 0x100 | FlagSndUnaAdvanced | FlagSetXmitTimer;

    /// <summary>
    /// tcp_connect with tcp_ecn_send_syn: an ECN-setup SYN (ECE|CWR) when ECN is wanted, itself ECT when the
    /// algorithm needs ECN; retrans_stamp is the first SYN's time, from which tcp_write_timeout measures.
    /// </summary>
    private void Start(TcpConnection conn)
    {
        conn.State = TcpConnectionState.SynSent;
        conn.FirstSynUs = _sim.Now.Nanoseconds / 1000;
        SendSyn(conn);
        SetRto(conn, CurrentRtoNs(conn));
    }

    private void SendSyn(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        MstampRefresh(ref sk); // tcp_connect
        StampDeparture(ref sk); // the SYN goes through __tcp_transmit_skb too: tcp_wstamp_ns starts at its departure
        var ect = conn.Ops.NeedsEcn ? EcnCodepoint.Ect0 : EcnCodepoint.NotEct;
        SendControl(conn, TcpFlags.Syn | (conn.RequestEcn ? TcpFlags.Ece | TcpFlags.Cwr : TcpFlags.None), conn.Path.Forward, ack: 0, tsEcr: 0, ect);
    }

    /// <summary>
    /// tcp_retransmit_timer in SYN_SENT: tcp_write_timeout gives up once tcp_syn_retries + tcp_syn_linear_timeouts
    /// SYNs were retransmitted (or tcp_model_timeout's time has passed since the first); otherwise tcp_enter_loss,
    /// tcp_update_rto_stats and the SYN again, the timeout doubling (icsk_backoff++, icsk_rto &lt;&lt;= 1, at most
    /// TCP_RTO_MAX) only after the first tcp_syn_linear_timeouts timeouts.
    /// </summary>
    private void SynTimeout(TcpConnection conn)
    {
        if (conn.Retransmits >= _options.SynRetries + _options.SynLinearTimeouts || SynTimedOut(conn))
        {
            // tcp_write_err: ETIMEDOUT, tcp_done. The flow never connected.
            conn.ConnectFailed = true;
            Close(conn);
            return;
        }
        using (EnterCa(conn))
        {
            EnterLossSynSent(conn);
        }
        conn.Retransmits = Math.Min(conn.Retransmits + 1, byte.MaxValue);
        conn.TotalRto++;
        // tcp_retransmit_skb: the SYN counts in total_retrans and undo_retrans (which tcp_init_undo left at -1).
        conn.Stats.SynRetransmits++;
        conn.UndoRetrans = Math.Max(conn.UndoRetrans, 0) + 1;
        SendSyn(conn);
        if (conn.TotalRto > _options.SynLinearTimeouts)
        {
            conn.Backoff = Math.Min(conn.Backoff + 1, 16);
        }
        SetRto(conn, CurrentRtoNs(conn));
        Updated?.Invoke(conn);
    }

    /// <summary>
    /// retransmits_timed_out(sk, tcp_syn_retries, 0) for SYN_SENT: the milliseconds since retrans_stamp reach
    /// tcp_model_timeout with TCP_TIMEOUT_INIT as the base — (2^(n+1) − 1) × 1 s while that stays under
    /// TCP_RTO_MAX's doublings, then TCP_RTO_MAX per further retry.
    /// </summary>
    private bool SynTimedOut(TcpConnection conn)
    {
        if (conn.Retransmits == 0)
        {
            return false;
        }
        long baseMs = _options.InitialRto.Nanoseconds / 1_000_000;
        long maxMs = _options.MaxRto.Nanoseconds / 1_000_000;
        int thresh = (int)Math.Log2(Math.Max(1, maxMs / Math.Max(1, baseMs))); // ilog2(TCP_RTO_MAX / rto_base)
        int boundary = _options.SynRetries;
        long timeoutMs = boundary <= thresh
            ? ((2L << boundary) - 1) * baseMs
            : ((2L << thresh) - 1) * baseMs + (boundary - thresh) * maxMs;
        long elapsedMs = _sim.Now.Nanoseconds / 1_000_000 - conn.FirstSynUs / 1000; // tcp_time_stamp_ts − retrans_stamp
        return elapsedMs - timeoutMs >= 0;
    }

    /// <summary>
    /// tcp_enter_loss on a SYN_SENT socket, whose only outstanding segment is the SYN: the first timeout (CA_Open)
    /// saves prior_ssthresh, asks the not yet initialised algorithm for ssthresh, raises CA_EVENT_LOSS and opens an
    /// undo episode (tcp_init_undo); later ones find CA_Loss with icsk_retransmits set and high_seq past snd_una, and
    /// only reset cwnd. The ssthresh lasts only until the handshake completes: tcp_init_metrics restores it.
    /// </summary>
    private void EnterLossSynSent(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        LossWindow(conn, ref sk, reduce: sk.IcskCaState != TcpCaState.Loss);
        SetCaState(conn, TcpCaState.Loss);
        conn.HighSeq = conn.SndNxt;
    }

    /// <summary>
    /// tcp_rcv_synsent_state_process, tcp_finish_connect and tcp_init_transfer: ECN, the SYN-ACK's tcp_ack (the first
    /// RTT sample and the algorithm's calls), ssthresh back to infinity (tcp_init_metrics), the initial window, then CA
    /// init.
    /// </summary>
    private void Established(TcpConnection conn, in TcpSegment synAck)
    {
        conn.State = TcpConnectionState.Established;
        conn.ConnectTime = _sim.Now;
        conn.SynAckTsVal = synAck.TsVal; // ts_recent: what the first ACK (with the first data) echoes
        ref var sk = ref _socks[conn.Id];
        if (conn.RequestEcn && (synAck.Flags & TcpFlags.Ece) != 0)
        {
            sk.EcnFlags |= TcpEcnFlags.Ok;
        }
        MstampRefresh(ref sk);
        long synRtt = SynRttUs(conn, synAck.TsEcr);
        UpdateRtt(conn, synRtt, synRtt, ackMaybeDelayed: false);
        StopRto(conn);
        conn.Backoff = 0;
        conn.Retransmits = 0;
        using (EnterCa(conn))
        {
            SynAckCongestionHooks(conn, ref sk, synAck.Ack, synRtt);
        }
        // tcp_init_transfer → tcp_init_metrics (net/ipv4/tcp_metrics.c), first: a SYN timeout's ssthresh goes back to
        // TCP_INFINITE_SSTHRESH (since 6.6). No destination metrics are cached here, and with the default
        // tcp_no_ssthresh_metrics_save = 1 a cached ssthresh would not be used anyway.
        sk.SndSsthresh = TcpSock.InfiniteSsthresh;
        // tcp_init_transfer (net/ipv4/tcp_input.c): "only reset cwnd when more than 1 SYN/SYN-ACK retransmission has
        // occurred" — total_retrans counts the SYN's, and undo_marker is still the one the first SYN timeout set.
        sk.SndCwnd = conn.Stats.SynRetransmits > 1 && conn.UndoMarker ? 1 : _options.InitialCwnd;
        sk.SndCwndStamp = NowJiffies;
        sk.Lsndtime = NowJiffies; // tcp_finish_connect: no spurious restart on the first data
        if (conn.Ops == Dctcp.Ops && Dctcp.NeedsRenoFallback(sk))
        {
            conn.Ops = Dctcp.RenoFallbackOps; // dctcp_init without ECN: dctcp_reno (a built-in, so no reference changes)
        }
        else
        {
            using (EnterCa(conn))
            {
                CaVoid(conn.Ops.Init, ref sk, TcpCaMember.Init);
            }
        }
        SndbufExpand(conn); // tcp_init_buffer_space, after the CA's init
        if (conn.TotalSegments == 0)
        {
            Close(conn); // nothing to send
            return;
        }
        WriteXmit(conn);
    }

    /// <summary>
    /// What tcp_ack does for the SYN-ACK (tcp_rcv_synsent_state_process calls it with FLAG_SLOWPATH) before
    /// tcp_finish_connect initialises the algorithm, so its members see the SYN acked before their init, as in Linux:
    /// the SYN counts as delivered (tcp_clean_rtx_queue → tcp_count_delivered, or tcp_remove_reno_sacks without SACK);
    /// pkts_acked gets one packet with the SYN's RTT (tcp_ack_update_rtt passes the timestamp sample on when the SYN
    /// was retransmitted); in_ack_event SLOWPATH | WIN_UPDATE (tcp_ack_update_window: the ACK advanced snd_una; no
    /// ECE on a SYN, tcp_ecn_rcv_ecn_echo); after a SYN timeout the loss episode ends (tcp_fastretrans_alert →
    /// tcp_process_loss → tcp_try_undo_recovery: CA_Open, no undo); then tcp_rate_gen (a sample without timing) and
    /// tcp_cong_control: cong_control, or — no data was acked, so no cong_avoid (tcp_may_raise_cwnd) —
    /// tcp_update_pacing_rate, which gives the first flight a pacing rate (2 × cwnd / SYN RTT) before any data is acked.
    /// </summary>
    private void SynAckCongestionHooks(TcpConnection conn, ref TcpSock sk, uint ack, long synRttUs)
    {
        uint priorDelivered = sk.Delivered; // the SYN's tx.delivered: nothing was delivered before it
        sk.Delivered++;
        CaPktsAcked(conn.Ops, ref sk, new AckSample(1, (int)Math.Min(synRttUs, int.MaxValue), sk.MssCache * (sk.Delivered - priorDelivered)));
        CaInAckEvent(conn.Ops, ref sk, CaAckSlowpath | CaAckWinUpdate);
        if (sk.IcskCaState == TcpCaState.Loss)
        {
            // tcp_process_loss: snd_una reached high_seq; the SYN's TSecr is not before retrans_stamp and undo_retrans
            // is positive, so tcp_try_undo_recovery cannot undo and just returns to CA_Open (undo_marker stays set).
            SetCaState(conn, TcpCaState.Open);
        }
        // tcp_rate_gen: no timing for the SYN. tcp_connect queues it (packets_out 1) before transmitting it, so
        // tcp_rate_skb_sent did not stamp the idle pipe's start and its tx.delivered_mstamp is the fresh socket's 0;
        // tcp_rate_skb_delivered returns early, and with prior_mstamp 0 the sample is delivered = interval = -1 and
        // not recorded as the delivery rate. delivered_mstamp starts here.
        var rs = new RateSample
        {
            RttUs = synRttUs,
            AckedSacked = sk.Delivered - priorDelivered,
            PriorInFlight = 1, // the SYN
            Delivered = -1,
            IntervalUs = -1,
        };
        sk.DeliveredMstamp = sk.TcpMstamp;
        conn.DeliveredTimeNs = _sim.Now.Nanoseconds;
        if (conn.Ops.CongControl is { } congControl)
        {
            CaCongControl(congControl, ref sk, ack, SynAckFlags, in rs);
        }
        else
        {
            UpdatePacingRate(ref sk);
        }
    }

    /// <summary>
    /// The handshake's RTT sample (tcp_clean_rtx_queue, tcp_ack_update_rtt): a SYN never retransmitted gives the
    /// µs-exact time since it left; a retransmitted one none (Karn), so tcp_rtt_tsopt_us takes it from the SYN-ACK's
    /// TSecr in whole milliseconds (at least 1). That TSecr is the request's ts_recent, the TSval of the SYN that made
    /// it, which retransmitted SYNs do not update (tcp_check_req): after a lost SYN the sample spans the timeout too.
    /// </summary>
    private long SynRttUs(TcpConnection conn, uint tsEcr)
    {
        if (conn.Stats.SynRetransmits == 0)
        {
            return (long)NowUs - tsEcr;
        }
        return TsRttUs(tsEcr);
    }

    /// <summary>tcp_rtt_tsopt_us(tp, 1) with millisecond timestamps: (now − TSecr) in ms, at least 1, in µs.</summary>
    private long TsRttUs(uint tsEcrUs)
    {
        long deltaMs = (long)(NowUs / 1000) - tsEcrUs / 1000;
        return Math.Max(deltaMs, 1) * 1000;
    }
}
