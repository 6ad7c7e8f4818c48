using BpfSim.Core.Simulation;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

/// <summary>The retransmission timer and what its expiry does (net/ipv4/tcp_timer.c, tcp_enter_loss in tcp_input.c).</summary>
public sealed partial class TcpStack
{
    /// <summary>
    /// (Re)starts the retransmission timer <paramref name="delayNs"/> (whole jiffies) from now
    /// (inet_csk_reset_xmit_timer → sk_reset_timer: expires = jiffies + when): it fires at the tick on which jiffies
    /// reaches that value, so up to a jiffy sooner than now + when. The timer wheel's coarser levels are not modelled.
    /// </summary>
    private void SetRto(TcpConnection conn, long delayNs) => ArmOnTick(conn.RtoTimer, delayNs, conn.Id);

    /// <summary>mod_timer(jiffies + when) for any of a connection's kernel timers: fires on the tick (see <see cref="SetRto"/>).</summary>
    private void ArmOnTick(Core.Simulation.TimerId timer, long delayNs, int id)
    {
        ulong tick = Jiffies.JiffiesAtNsecs((ulong)_sim.Now.Nanoseconds, _hz) + Jiffies.NsecsToJiffiesUp((ulong)Math.Max(delayNs, 0), _hz);
        long expires = Jiffies.TickNsecs(tick, _hz);
        _sim.Arm(timer, new Core.Simulation.SimTime(expires), id);
    }

    private void StopRto(TcpConnection conn) => _sim.Cancel(conn.RtoTimer);

    /// <summary>tcp_retransmit_timer: the oldest outstanding segment timed out.</summary>
    private void RetransmitTimer(TcpConnection conn)
    {
        if (conn.State == TcpConnectionState.SynSent)
        {
            SynTimeout(conn);
            return;
        }
        ref var sk = ref _socks[conn.Id];
        if (conn.State != TcpConnectionState.Established || sk.PacketsOut == 0)
        {
            return;
        }
        conn.Stats.Timeouts++;
        using (EnterCa(conn))
        {
            if (_options.IsRack)
            {
                EnterLossRack(conn);
            }
            else
            {
                EnterLoss(conn);
            }
        }
        conn.Retransmits = Math.Min(conn.Retransmits + 1, byte.MaxValue); // tcp_update_rto_stats
        conn.Backoff = Math.Min(conn.Backoff + 1, 16);                       // out_reset_timer: icsk_backoff++
        if (_options.IsRack)
        {
            // tcp_retransmit_timer: tcp_retransmit_skb of the head, directly (no tcp_pacing_check, no re-arming; cwnd
            // is in flight + 1, so nothing else would go), then out_reset_timer's inet_csk_reset_xmit_timer: icsk_rto
            // without tcp_pacing_delay.
            MstampRefresh(ref sk);
            if ((conn.Segment(conn.SndUna).Flags & SegmentFlags.Sacked) == 0)
            {
                TransmitSkb(conn, conn.SndUna, 1, retransmit: true, armTimer: false);
            }
            InetCskResetXmitTimer(conn, XmitTimer.Retrans, (uint)RtoJiffies(conn), MaxRtoJiffies);
        }
        else
        {
            SetRto(conn, CurrentRtoNs(conn));
            WriteXmit(conn);
        }
        Updated?.Invoke(conn);
    }

    /// <summary>
    /// tcp_enter_loss: every outstanding segment not SACKed is lost (tcp_timeout_mark_lost); ssthresh and
    /// CA_EVENT_LOSS unless this loss episode already reduced; cwnd = in flight + 1; state Loss.
    /// </summary>
    private void EnterLoss(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        for (ulong s = conn.SndUna; s < conn.SndNxt; s++)
        {
            ref var st = ref conn.Segment(s);
            // tcp_mark_skb_lost: a lost retransmission is lost again; tp->lost counts both kinds.
            if ((st.Flags & SegmentFlags.Retrans) != 0)
            {
                st.Flags &= ~SegmentFlags.Retrans;
                sk.RetransOut--;
                sk.Lost++;
            }
            if ((st.Flags & (SegmentFlags.Sacked | SegmentFlags.Lost)) == 0)
            {
                st.Flags |= SegmentFlags.Lost;
                sk.LostOut++;
                sk.Lost++;
            }
        }
        var state = sk.IcskCaState;
        if (state <= TcpCaState.Disorder || conn.SndUna >= conn.HighSeq || (state == TcpCaState.Loss && conn.Retransmits == 0))
        {
            sk.PriorSsthresh = CurrentSsthresh(ref sk);
            sk.PriorCwnd = sk.SndCwnd;
            sk.SndSsthresh = CaU32(conn.Ops.Ssthresh!, ref sk, TcpCaMember.Ssthresh);
            CaCwndEvent(conn.Ops, ref sk, TcpCaEvent.Loss);
            conn.UndoMarker = true;
        }
        sk.SndCwnd = sk.PacketsInFlight + 1;
        sk.SndCwndCnt = 0;
        sk.SndCwndStamp = NowJiffies;
        SetCaState(conn, TcpCaState.Loss);
        conn.HighSeq = conn.SndNxt;
        QueueCwr(conn);
        sk.TcpWstampNs = 0;
    }

    /// <summary>tcp_current_ssthresh: in a reduction, the larger of ssthresh and 3/4 of cwnd.</summary>
    private static uint CurrentSsthresh(ref TcpSock sk) =>
        sk.IcskCaState is TcpCaState.CWR or TcpCaState.Recovery
            ? sk.SndSsthresh
            : Math.Max(sk.SndSsthresh, (sk.SndCwnd >> 1) + (sk.SndCwnd >> 2));
}
