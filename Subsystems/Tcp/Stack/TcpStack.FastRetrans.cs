using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The congestion state machine with RACK-TLP and F-RTO (tcp_recovery = 1): tcp_fastretrans_alert,
/// tcp_process_loss, tcp_identify_packet_loss, tcp_enter_loss and their helpers in net/ipv4/tcp_input.c. Losses are
/// found by RACK only (tcp_time_to_recover has no dupthresh rule and tcp_update_scoreboard is not called).
/// </summary>
public sealed partial class TcpStack
{
    // More tcp_ack flag bits (FLAG_* in tcp_input.c).
    private const int FlagRetransDataAcked = 0x08;
    private const int FlagLostRetrans = 0x80;
    private const int FlagOrigSackAcked = 0x200;
    private const int FlagDsackingAck = 0x800;
    private const int FlagSetXmitTimer = 0x1000;
    private const int FlagDsackTlp = 0x20000;
    /// <summary>FLAG_NOT_DUP = DATA | WIN_UPDATE | ACKED: ACKs carry no data and the receive window is not modelled.</summary>
    private const int FlagNotDup = FlagDataAcked;

    // What tcp_xmit_recovery sends (REXMIT_*).
    private const int RexmitNone = 0;
    private const int RexmitLost = 1;
    private const int RexmitNew = 2;

    /// <summary>Whether the write queue holds data not sent yet (!tcp_write_queue_empty; the receive window is open).</summary>
    private bool HasNewData(TcpConnection conn) =>
        !conn.Stopping && (long)conn.SndNxt < conn.WrittenSegments && SndbufHasRoom(conn);

    /// <summary>tcp_fastretrans_alert with RACK (SACK is always on).</summary>
    private void FastRetransAlertRack(TcpConnection conn, ulong priorUna, int numDupack, ref int flag, ref int rexmit, uint tsEcr)
    {
        ref var sk = ref _socks[conn.Id];
        bool ece = (flag & FlagEce) != 0;
        if (sk.PacketsOut == 0 && sk.SackedOut != 0)
        {
            sk.SackedOut = 0;
        }
        if (ece)
        {
            sk.PriorSsthresh = 0; // A. congestion is proven: no undo
        }
        // B. SACK reneging is not modelled: receivers keep out-of-order data.
        // D. Exit a state once high_seq is ACKed.
        if (sk.IcskCaState == TcpCaState.Open)
        {
            conn.RetransStampUs = 0;
        }
        else if (conn.SndUna >= conn.HighSeq)
        {
            switch (sk.IcskCaState)
            {
                case TcpCaState.CWR when conn.SndUna != conn.HighSeq:
                    EndCwndReduction(conn);
                    SetCaState(conn, TcpCaState.Open);
                    break;
                case TcpCaState.Recovery:
                    TryUndoRecovery(conn, tsEcr);
                    EndCwndReduction(conn);
                    break;
            }
        }

        // E. Process the state.
        bool reopen = false;
        switch (sk.IcskCaState)
        {
            case TcpCaState.Recovery:
                if ((flag & FlagSndUnaAdvanced) != 0 && TryUndoPartial(conn, priorUna, tsEcr))
                {
                    return;
                }
                if (TryUndoDsack(conn))
                {
                    TryToOpen(conn, flag);
                }
                IdentifyPacketLoss(conn, ref flag);
                if (sk.IcskCaState != TcpCaState.Recovery)
                {
                    if (!TimeToRecover(conn))
                    {
                        return;
                    }
                    EnterRecovery(conn, ece); // undone, but loss is evident: a new recovery
                }
                break;
            case TcpCaState.Loss:
                ProcessLoss(conn, flag, numDupack, ref rexmit, tsEcr);
                IdentifyPacketLoss(conn, ref flag);
                if (!(sk.IcskCaState == TcpCaState.Open || (flag & FlagLostRetrans) != 0))
                {
                    return;
                }
                reopen = true; // cwnd undone or retransmissions lost: change state as below
                break;
            default:
                reopen = true;
                break;
        }
        if (reopen)
        {
            if (sk.IcskCaState <= TcpCaState.Disorder)
            {
                TryUndoDsack(conn);
            }
            IdentifyPacketLoss(conn, ref flag);
            if (!TimeToRecover(conn))
            {
                TryToOpen(conn, flag);
                return;
            }
            EnterRecovery(conn, ece);
        }
        rexmit = RexmitLost;
    }

    /// <summary>tcp_time_to_recover with RACK: only proven loss (lost_out) starts recovery.</summary>
    private bool TimeToRecover(TcpConnection conn) => _socks[conn.Id].LostOut > 0;

    /// <summary>
    /// tcp_identify_packet_loss: RACK marks what is lost; arming the REO timer replaces this ACK's TLP/RTO timer, and
    /// a retransmission marked lost again is reported (FLAG_LOST_RETRANS).
    /// </summary>
    private void IdentifyPacketLoss(TcpConnection conn, ref int flag)
    {
        if (conn.SndUna == conn.SndNxt)
        {
            return;
        }
        ref var sk = ref _socks[conn.Id];
        uint priorRetrans = sk.RetransOut;
        if (RackMarkLost(conn))
        {
            flag &= ~FlagSetXmitTimer;
        }
        if (priorRetrans > sk.RetransOut)
        {
            flag |= FlagLostRetrans;
        }
    }

    /// <summary>tcp_try_to_open: leave the reduction states when nothing is left out; ECE enters CWR.</summary>
    private void TryToOpen(TcpConnection conn, int flag)
    {
        if (!AnyRetransDone(conn))
        {
            conn.RetransStampUs = 0;
        }
        if ((flag & FlagEce) != 0)
        {
            EnterCwr(conn);
        }
        if (_socks[conn.Id].IcskCaState != TcpCaState.CWR)
        {
            TryKeepOpen(conn);
        }
    }

    /// <summary>tcp_try_keep_open: Disorder while segments are SACKed, lost or retransmitted, else Open.</summary>
    private void TryKeepOpen(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        var state = sk.SackedOut + sk.LostOut > 0 || AnyRetransDone(conn) ? TcpCaState.Disorder : TcpCaState.Open;
        if (sk.IcskCaState != state)
        {
            SetCaState(conn, state);
            conn.HighSeq = conn.SndNxt;
        }
    }

    /// <summary>
    /// tcp_process_loss: after an RTO, an ACK of snd_una may undo it (timestamps or DSACKs); with F-RTO (RFC 5682
    /// §3.1, SACK-enhanced) never-retransmitted data (S)ACKed proves it spurious, and the first ACK that advances
    /// snd_una sends new data instead of retransmissions (step 2.b); a SACK or duplicate ACK after that shows the loss
    /// was real (step 3.a). Once high_seq is ACKed the episode ends (tcp_try_undo_recovery).
    /// </summary>
    private void ProcessLoss(TcpConnection conn, int flag, int numDupack, ref int rexmit, uint tsEcr)
    {
        bool recovered = conn.SndUna >= conn.HighSeq;
        if ((flag & FlagSndUnaAdvanced) != 0 && TryUndoLoss(conn, frtoUndo: false, tsEcr))
        {
            return;
        }
        if (conn.Frto)
        {
            if ((flag & FlagOrigSackAcked) != 0 && TryUndoLoss(conn, frtoUndo: true, tsEcr))
            {
                return;
            }
            if (conn.SndNxt > conn.HighSeq)
            {
                if ((flag & FlagDataSacked) != 0 || numDupack > 0)
                {
                    conn.Frto = false; // step 3.a: the loss was real
                }
            }
            else if ((flag & FlagSndUnaAdvanced) != 0 && !recovered)
            {
                conn.HighSeq = conn.SndNxt;
                if (HasNewData(conn))
                {
                    rexmit = RexmitNew; // step 2.b
                    return;
                }
                conn.Frto = false;
            }
        }
        if (recovered)
        {
            TryUndoRecovery(conn, tsEcr); // step 2.a and the first part of 3.a
            return;
        }
        rexmit = RexmitLost;
    }

    /// <summary>
    /// tcp_enter_loss's window: when this loss opens a new reduction (<paramref name="reduce"/>), prior_ssthresh and
    /// prior_cwnd are saved, the algorithm's ssthresh taken, CA_EVENT_LOSS raised and an undo episode opened
    /// (tcp_init_undo); then cwnd = packets in flight + 1.
    /// </summary>
    private void LossWindow(TcpConnection conn, ref TcpSock sk, bool reduce)
    {
        if (reduce)
        {
            sk.PriorSsthresh = CurrentSsthresh(ref sk);
            sk.PriorCwnd = sk.SndCwnd;
            sk.SndSsthresh = CaU32(conn.Ops.Ssthresh!, ref sk, TcpCaMember.Ssthresh);
            CaCwndEvent(conn.Ops, ref sk, TcpCaEvent.Loss);
            InitUndo(conn);
        }
        sk.SndCwnd = sk.PacketsInFlight + 1;
        sk.SndCwndCnt = 0;
        sk.SndCwndStamp = NowJiffies;
    }

    /// <summary>
    /// tcp_enter_loss with RACK: tcp_timeout_mark_lost marks the head and every segment whose RACK time is up (not
    /// the ones sent within rack.rtt_us), the reduction as without RACK, reordering trusted no more than the sysctl
    /// after a timeout in Disorder, no probe outstanding, and F-RTO armed unless a recovery was already under way
    /// (repeated timeouts of one snd_una excepted).
    /// </summary>
    private void EnterLossRack(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        var state = sk.IcskCaState;
        bool newRecovery = state < TcpCaState.Recovery;
        for (ulong s = conn.SndUna; s < conn.SndNxt; s++)
        {
            ref var st = ref conn.Segment(s);
            if (s != conn.SndUna && RackSegmentTimeout(conn, st.SentNs / 1000, 0) > 0)
            {
                continue; // sent too recently to be called lost yet
            }
            MarkSegmentLost(conn, ref st);
        }
        LossWindow(conn, ref sk, reduce: state <= TcpCaState.Disorder || conn.SndUna >= conn.HighSeq || (state == TcpCaState.Loss && conn.Retransmits == 0));
        if (state <= TcpCaState.Disorder && sk.SackedOut >= _options.Reordering)
        {
            conn.Reordering = Math.Min(conn.Reordering, (uint)_options.Reordering);
        }
        SetCaState(conn, TcpCaState.Loss);
        conn.HighSeq = conn.SndNxt;
        conn.TlpHighSeg = 0;
        QueueCwr(conn);
        conn.Frto = _options.Frto != 0 && (newRecovery || conn.Retransmits > 0); // icsk_retransmits
        // tcp_wstamp_ns is left alone (tcp_enter_loss does not touch it): the pacing clock runs on.
    }
}
