namespace BpfSim.Tcp.Stack;

/// <summary>
/// Undo of a reduction whose retransmissions proved unnecessary, with RACK (tcp_recovery = 1): DSACK accounting
/// (tcp_check_dsack, tcp_dsack_seen, tcp_sacktag_one) and the tcp_try_undo_* family of net/ipv4/tcp_input.c.
/// </summary>
public sealed partial class TcpStack
{
    /// <summary>
    /// tcp_init_undo: the episode is undoable from snd_una; undo_retrans counts the retransmissions (regular and a
    /// TLP retransmission) still to be proven unnecessary, −1 for none (0 means "may undo now").
    /// </summary>
    private void InitUndo(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        conn.UndoMarker = true;
        conn.UndoMarkerSeg = conn.SndUna;
        conn.UndoRetrans = (int)sk.RetransOut;
        if (conn.TlpHighSeg != 0 && conn.TlpRetrans)
        {
            conn.UndoRetrans++;
        }
        if (conn.UndoRetrans == 0)
        {
            conn.UndoRetrans = -1;
        }
    }

    /// <summary>tcp_any_retrans_done: a retransmission is out, or the head segment was ever retransmitted.</summary>
    private bool AnyRetransDone(TcpConnection conn) =>
        _socks[conn.Id].RetransOut > 0 ||
        (conn.SndUna < conn.SndNxt && (conn.Segment(conn.SndUna).Flags & SegmentFlags.EverRetrans) != 0);

    /// <summary>
    /// tcp_packet_delayed: the ACK echoes a timestamp older than the first retransmission, or nothing was
    /// retransmitted yet — the originals were only delayed.
    /// </summary>
    private static bool PacketDelayed(TcpConnection conn, uint tsEcr) =>
        conn.RetransStampUs == 0 || (tsEcr != 0 && (int)(tsEcr - conn.RetransStampUs) < 0);

    /// <summary>tcp_may_undo: undoable, and every retransmission was DSACKed or the originals were only delayed.</summary>
    private static bool MayUndoRack(TcpConnection conn, uint tsEcr) =>
        conn.UndoMarker && (conn.UndoRetrans == 0 || PacketDelayed(conn, tsEcr));

    /// <summary>
    /// tcp_undo_cwnd_reduction with RACK: as <see cref="UndoCwndReduction"/>, and RACK looks at the scoreboard again
    /// (rack.advanced).
    /// </summary>
    private void UndoCwndReductionRack(TcpConnection conn, bool unmarkLoss)
    {
        UndoCwndReduction(conn, unmarkLoss);
        conn.RackAdvanced = true;
    }

    /// <summary>
    /// tcp_try_undo_recovery: at the end of Recovery or Loss, undo if the retransmissions were unnecessary (a full
    /// undo, or a loss undo); otherwise a DSACK-widened RACK window loses one recovery of persistence. Then Open.
    /// </summary>
    private void TryUndoRecovery(TcpConnection conn, uint tsEcr)
    {
        ref var sk = ref _socks[conn.Id];
        if (MayUndoRack(conn, tsEcr))
        {
            UndoCwndReductionRack(conn, unmarkLoss: false);
            if (sk.IcskCaState == TcpCaState.Loss)
            {
                conn.Stats.LossUndos++;
            }
            else
            {
                conn.Stats.FullUndos++;
            }
        }
        else if (conn.RackReoWndPersist > 0)
        {
            conn.RackReoWndPersist--;
        }
        SetCaState(conn, TcpCaState.Open);
    }

    /// <summary>tcp_try_undo_dsack: DSACKs covered every retransmission of the episode.</summary>
    private bool TryUndoDsack(TcpConnection conn)
    {
        if (conn.UndoMarker && conn.UndoRetrans == 0)
        {
            conn.RackReoWndPersist = Math.Min(RackRecoveryThresh, conn.RackReoWndPersist + 1);
            UndoCwndReductionRack(conn, unmarkLoss: false);
            conn.Stats.DsackUndos++;
            return true;
        }
        return false;
    }

    /// <summary>
    /// tcp_try_undo_loss: after an RTO, undo (withdrawing the loss marks) when F-RTO proved it spurious
    /// (<paramref name="frtoUndo"/>) or tcp_may_undo holds; the state returns to Open.
    /// </summary>
    private bool TryUndoLoss(TcpConnection conn, bool frtoUndo, uint tsEcr)
    {
        if (!frtoUndo && !MayUndoRack(conn, tsEcr))
        {
            return false;
        }
        UndoCwndReductionRack(conn, unmarkLoss: true);
        conn.Stats.LossUndos++;
        conn.Retransmits = 0; // tcp_try_undo_loss: icsk_retransmits = 0
        if (frtoUndo)
        {
            conn.Stats.SpuriousRtos++;
        }
        SetCaState(conn, TcpCaState.Open);
        return true;
    }

    /// <summary>
    /// tcp_try_undo_partial: a partial ACK in Recovery that the timestamps show was filled by a delayed original is
    /// reordering; with no retransmission out, undo and try to stay open. Returns true when the ACK should do nothing
    /// more (retransmissions still out).
    /// </summary>
    private bool TryUndoPartial(TcpConnection conn, ulong priorUna, uint tsEcr)
    {
        if (!conn.UndoMarker || !PacketDelayed(conn, tsEcr))
        {
            return false; // do_lost (tcp_force_fast_retransmit) matters only without RACK
        }
        CheckSackReordering(conn, priorUna);
        if (_socks[conn.Id].RetransOut > 0)
        {
            return true;
        }
        if (!AnyRetransDone(conn))
        {
            conn.RetransStampUs = 0;
        }
        UndoCwndReductionRack(conn, unmarkLoss: true);
        conn.Stats.PartialUndos++;
        TryKeepOpen(conn);
        return false;
    }

    /// <summary>
    /// tcp_check_dsack + tcp_dsack_seen: the first SACK block is a D-SACK when it lies below the ACK, or inside the
    /// second block. A dubious one (wider than the window, or more duplicates than retransmissions) is ignored;
    /// otherwise it counts as delivered, may widen RACK's window (after reordering, unless it matches a TLP), and
    /// DSACKs for data already cumulatively ACKed count undo_retrans down.
    /// </summary>
    /// <returns>The duplicate segments reported (0: no D-SACK).</returns>
    private uint CheckDsack(TcpConnection conn, in Net.TcpSegment segment, in Net.SackBlocks sacks, ulong priorUna, ulong ackSeg, ref int flag, ref ulong reord)
    {
        if (segment.SackCount == 0)
        {
            return 0;
        }
        var (start0, end0) = SackBlock(sacks, 0);
        if (!TcpTime.Before(start0, segment.Ack))
        {
            if (segment.SackCount < 2)
            {
                return 0;
            }
            var (start1, end1) = SackBlock(sacks, 1); // a D-SACK for out-of-order data lies inside the next block
            if (TcpTime.After(end0, end1) || TcpTime.Before(start0, start1))
            {
                return 0;
            }
        }
        ref var sk = ref _socks[conn.Id];
        if (!TcpTime.Before(start0, end0))
        {
            return 0;
        }
        uint seqLen = end0 - start0;
        uint dupSegs = 1;
        if (seqLen > TcpWmemMax)
        {
            return 0; // wider than any window (max_window): dubious
        }
        ulong endSeg = SegmentAt(conn, end0, priorUna);
        if (seqLen > sk.MssCache)
        {
            dupSegs = (seqLen + sk.MssCache - 1) / sk.MssCache;
        }
        else if (conn.TlpHighSeg != 0 && conn.TlpHighSeg == endSeg)
        {
            flag |= FlagDsackTlp;
        }
        conn.DsackDups += dupSegs;
        if (conn.DsackDups > conn.Stats.Retransmits)
        {
            return 0; // more duplicates than we retransmitted: not ours to count
        }
        if (conn.ReordSeen != 0 && (flag & FlagDsackTlp) == 0)
        {
            conn.RackDsackSeen = true;
        }
        flag |= FlagDsackingAck;
        sk.Delivered += dupSegs; // a spurious retransmission is delivered (sack_delivered → tcp_count_delivered)
        conn.Stats.DsacksReceived++;
        if (conn.UndoMarker && conn.UndoRetrans > 0 && endSeg <= priorUna && endSeg > conn.UndoMarkerSeg)
        {
            conn.UndoRetrans = Math.Max(0, conn.UndoRetrans - (int)dupSegs);
        }
        else if (endSeg > priorUna)
        {
            // tcp_sacktag_one with dup_sack: a DSACK inside the window for retransmitted segments; one whose original
            // was already SACKed shows reordering.
            ulong startSeg = SegmentAt(conn, start0, priorUna);
            for (ulong s = Math.Max(startSeg, priorUna); s < Math.Min(endSeg, conn.SndNxt); s++)
            {
                ref var st = ref conn.Segment(s);
                var f = st.Flags;
                if ((f & (SegmentFlags.Retrans | SegmentFlags.EverRetrans)) == 0)
                {
                    continue;
                }
                if (conn.UndoMarker && conn.UndoRetrans > 0 && s + 1 > conn.UndoMarkerSeg)
                {
                    conn.UndoRetrans--;
                }
                if ((f & SegmentFlags.Sacked) != 0 && s < reord)
                {
                    reord = s;
                }
                if (s >= ackSeg && (f & SegmentFlags.Retrans) != 0)
                {
                    // tcp_sacktag_one, dup_sack: the D-SACKed retransmission is no longer in flight — SACKED_RETRANS
                    // goes (a SACKed retransmission not marked lost kept it so far). Below the new snd_una the
                    // cumulative ACK cleans it instead.
                    st.Flags &= ~SegmentFlags.Retrans;
                    sk.RetransOut--;
                }
            }
        }
        return dupSegs;
    }

    /// <summary>The segment whose boundary is byte <paramref name="seq"/> (either side of <paramref name="reference"/>).</summary>
    private static ulong SegmentAt(TcpConnection conn, uint seq, ulong reference)
    {
        if (conn.BytesToSend >= 0 && seq == EndSeqOf(conn, (ulong)conn.TotalSegments - 1))
        {
            return (ulong)conn.TotalSegments;
        }
        long offset = (int)(seq - SeqOf(conn, reference));
        long seg = (long)reference + (offset >= 0 ? offset / conn.Mss : -((-offset + conn.Mss - 1) / conn.Mss));
        return (ulong)Math.Max(seg, 0);
    }
}
