using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack
{
    /// <summary>
    /// tcp_fastretrans_alert with tcp_recovery = 0 (the pre-RACK model, kept as it was), reduced to what a SACK sender
    /// without RACK does: leave CWR, Recovery or Loss once
    /// snd_una passes high_seq; enter Recovery when the scoreboard holds lost segments; otherwise react to ECE by
    /// entering CWR and move between Open and Disorder.
    /// </summary>
    private void FastRetransAlert(TcpConnection conn, int flag, bool ece, uint tsEcr)
    {
        ref var sk = ref _socks[conn.Id];
        bool pastHigh = conn.SndUna >= conn.HighSeq;
        // tcp_process_loss / tcp_try_undo_loss: the RTO was spurious if this ACK echoes a transmission older than
        // the first retransmission (the originals were only delayed).
        if (sk.IcskCaState == TcpCaState.Loss && (flag & FlagSndUnaAdvanced) != 0 && MayUndo(conn, tsEcr))
        {
            UndoCwndReduction(conn, unmarkLoss: true);
            SetCaState(conn, TcpCaState.Open);
            return;
        }
        switch (sk.IcskCaState)
        {
            case TcpCaState.CWR when pastHigh && conn.SndUna != conn.HighSeq:
                // CWR is held until something above high_seq is ACKed, so the CWR bit reached the receiver.
                EndCwndReduction(conn);
                SetCaState(conn, TcpCaState.Open);
                break;
            case TcpCaState.Recovery when pastHigh:
                // tcp_try_undo_recovery: undo if the retransmissions were unnecessary; Open; then end the reduction
                // (cwnd = ssthresh unless undone) and COMPLETE_CWR.
                if (MayUndo(conn, tsEcr))
                {
                    UndoCwndReduction(conn, unmarkLoss: false);
                }
                SetCaState(conn, TcpCaState.Open);
                EndCwndReduction(conn);
                break;
            case TcpCaState.Loss when pastHigh:
                SetCaState(conn, TcpCaState.Open);
                break;
        }
        switch (sk.IcskCaState)
        {
            case TcpCaState.Recovery:
            case TcpCaState.Loss:
                return;
        }
        if (sk.LostOut > 0)
        {
            EnterRecovery(conn, ece);
            return;
        }
        // tcp_try_to_open
        if (ece)
        {
            EnterCwr(conn);
        }
        if (sk.RetransOut == 0)
        {
            conn.RetransStampUs = 0; // tcp_try_to_open: no retransmission outstanding
        }
        if (sk.IcskCaState != TcpCaState.CWR)
        {
            var state = sk.SackedOut + sk.LostOut > 0 || sk.RetransOut > 0 ? TcpCaState.Disorder : TcpCaState.Open;
            if (sk.IcskCaState != state)
            {
                SetCaState(conn, state);
                conn.HighSeq = conn.SndNxt;
            }
        }
    }

    /// <summary>
    /// tcp_may_undo: a reduction is undone when it is still marked undoable and its retransmissions turn out to have
    /// been unnecessary — here by timestamps (tcp_packet_delayed: the ACK echoes a TSval older than the first
    /// retransmission). With tcp_recovery = 0 DSACKs are not used (see <see cref="MayUndoRack"/> for RACK).
    /// </summary>
    private static bool MayUndo(TcpConnection conn, uint tsEcr) =>
        conn.UndoMarker && conn.RetransStampUs != 0 && tsEcr != 0 && (int)(tsEcr - conn.RetransStampUs) < 0;

    /// <summary>
    /// tcp_undo_cwnd_reduction: the algorithm's undo_cwnd gives cwnd back, ssthresh returns to prior_ssthresh if that is
    /// larger (withdrawing a CWR not yet sent, tcp_ecn_withdraw_cwr), and (after an RTO) the loss marks are withdrawn.
    /// </summary>
    private void UndoCwndReduction(TcpConnection conn, bool unmarkLoss)
    {
        ref var sk = ref _socks[conn.Id];
        if (unmarkLoss)
        {
            for (ulong s = conn.SndUna; s < conn.SndNxt; s++)
            {
                conn.Segment(s).Flags &= ~SegmentFlags.Lost;
            }
            sk.LostOut = 0;
        }
        if (sk.PriorSsthresh != 0)
        {
            sk.SndCwnd = CaU32(conn.Ops.UndoCwnd!, ref sk, TcpCaMember.UndoCwnd);
            if (sk.PriorSsthresh > sk.SndSsthresh)
            {
                sk.SndSsthresh = sk.PriorSsthresh;
                sk.EcnFlags &= unchecked((byte)~TcpEcnFlags.QueueCwr); // tcp_ecn_withdraw_cwr: the reduction is undone
            }
        }
        sk.SndCwndStamp = NowJiffies;
        conn.UndoMarker = false;
        conn.Stats.Undos++;
    }

    /// <summary>
    /// tcp_enter_recovery: prior_ssthresh is cleared and the undo state re-initialised (tcp_init_undo) on every entry;
    /// then reduce (unless already reducing), remembering tcp_current_ssthresh for undo only when the ACK did not carry
    /// ECE; then state Recovery.
    /// </summary>
    private void EnterRecovery(TcpConnection conn, bool ece)
    {
        ref var sk = ref _socks[conn.Id];
        conn.Stats.FastRecoveries++;
        if (_options.IsRack)
        {
            // tcp_retrans_stamp_cleanup: start the undo clock with this episode's first retransmission.
            if (!AnyRetransDone(conn))
            {
                conn.RetransStampUs = 0;
            }
        }
        // tcp_input.c tcp_enter_recovery: a value left from an earlier episode must not be restored by this one's undo.
        sk.PriorSsthresh = 0;
        if (_options.IsRack)
        {
            InitUndo(conn);
        }
        else
        {
            conn.UndoMarker = true;
        }
        if (sk.IcskCaState is not (TcpCaState.CWR or TcpCaState.Recovery))
        {
            if (!ece)
            {
                sk.PriorSsthresh = CurrentSsthresh(ref sk);
            }
            InitCwndReduction(conn);
        }
        SetCaState(conn, TcpCaState.Recovery);
    }

    /// <summary>tcp_enter_cwr: a congestion signal without loss (ECE): reduce once per window.</summary>
    private void EnterCwr(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        sk.PriorSsthresh = 0;
        if (sk.IcskCaState < TcpCaState.CWR)
        {
            conn.UndoMarker = false;
            InitCwndReduction(conn);
            SetCaState(conn, TcpCaState.CWR);
        }
    }

    /// <summary>tcp_init_cwnd_reduction: remember where we were, ask the algorithm for ssthresh, queue CWR.</summary>
    private void InitCwndReduction(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        conn.HighSeq = conn.SndNxt;
        conn.TlpHighSeg = 0;
        sk.SndCwndCnt = 0;
        sk.PriorCwnd = sk.SndCwnd;
        conn.PrrDelivered = 0;
        conn.PrrOut = 0;
        sk.SndSsthresh = CaU32(conn.Ops.Ssthresh!, ref sk, TcpCaMember.Ssthresh);
        QueueCwr(conn);
    }

    /// <summary>
    /// tcp_cwnd_reduction: Proportional Rate Reduction (RFC 6937) — send in proportion to what is delivered while
    /// above ssthresh, then slow-start back up to it; always allow one segment at the start (the fast retransmit).
    /// </summary>
    private void CwndReduction(TcpConnection conn, uint newlyAckedSacked, int flag, bool newlyLost)
    {
        ref var sk = ref _socks[conn.Id];
        if (newlyAckedSacked == 0 || sk.PriorCwnd == 0)
        {
            return;
        }
        conn.PrrDelivered += newlyAckedSacked;
        long delta = (long)sk.SndSsthresh - sk.PacketsInFlight;
        long sndcnt;
        if (delta < 0)
        {
            ulong dividend = (ulong)sk.SndSsthresh * conn.PrrDelivered + sk.PriorCwnd - 1;
            sndcnt = (long)(dividend / sk.PriorCwnd) - conn.PrrOut;
        }
        else
        {
            sndcnt = Math.Max((long)conn.PrrDelivered - conn.PrrOut, newlyAckedSacked);
            if ((flag & FlagSndUnaAdvanced) != 0 && !newlyLost)
            {
                sndcnt++;
            }
            sndcnt = Math.Min(delta, sndcnt);
        }
        sndcnt = Math.Max(sndcnt, conn.PrrOut == 0 ? 1 : 0);
        sk.SndCwnd = (uint)Math.Max(1, sk.PacketsInFlight + sndcnt);
    }

    /// <summary>tcp_end_cwnd_reduction: cwnd = ssthresh (CWR, or Recovery not undone), then CA_EVENT_COMPLETE_CWR.</summary>
    private void EndCwndReduction(TcpConnection conn)
    {
        if (conn.Ops.CongControl is not null)
        {
            return;
        }
        ref var sk = ref _socks[conn.Id];
        if (sk.SndSsthresh < TcpSock.InfiniteSsthresh && (sk.IcskCaState == TcpCaState.CWR || conn.UndoMarker))
        {
            sk.SndCwnd = sk.SndSsthresh;
            sk.SndCwndStamp = NowJiffies;
        }
        CaCwndEvent(conn.Ops, ref sk, TcpCaEvent.CompleteCwr);
    }
}
