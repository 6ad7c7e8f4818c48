using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The retransmission timer shared by the RTO, RACK's reordering timeout and the tail loss probe (icsk_pending), and
/// TLP itself (RFC 8985 §7): tcp_schedule_loss_probe / tcp_send_loss_probe in net/ipv4/tcp_output.c,
/// tcp_process_tlp_ack, tcp_rearm_rto and tcp_set_xmit_timer in net/ipv4/tcp_input.c.
/// </summary>
public sealed partial class TcpStack
{
    /// <summary>
    /// tcp_reset_xmit_timer → inet_csk_reset_xmit_timer: arm the one timer for <paramref name="what"/> in
    /// <paramref name="whenJiffies"/> (plus the pacing delay of the next departure, tcp_pacing_delay), at most
    /// <paramref name="maxJiffies"/>.
    /// </summary>
    private void ResetXmitTimer(TcpConnection conn, XmitTimer what, uint whenJiffies, uint maxJiffies)
    {
        ref var sk = ref _socks[conn.Id];
        whenJiffies += PacingDelayJiffies(sk.TcpWstampNs, sk.TcpClockCache, _hz); // tcp_reset_xmit_timer
        InetCskResetXmitTimer(conn, what, whenJiffies, maxJiffies);
    }

    /// <summary>
    /// inet_csk_reset_xmit_timer itself, without tcp_pacing_delay: what tcp_rack_mark_lost (the REO timer) and
    /// tcp_retransmit_timer's out_reset_timer (the backed-off RTO) call.
    /// </summary>
    private void InetCskResetXmitTimer(TcpConnection conn, XmitTimer what, uint whenJiffies, uint maxJiffies)
    {
        whenJiffies = Math.Max(1, Math.Min(whenJiffies, maxJiffies));
        conn.Pending = what;
        SetRto(conn, (long)(Jiffies.JiffiesToUsecs(whenJiffies, _hz) * 1000));
    }

    /// <summary>
    /// include/net/tcp.h tcp_pacing_delay: how far the next departure (tcp_wstamp_ns) lies beyond tcp_clock_cache, in
    /// whole jiffies rounded down (nsecs_to_jiffies, kernel/time/time.c: a plain division for HZ dividing 10^9).
    /// </summary>
    internal static uint PacingDelayJiffies(ulong wstampNs, ulong clockCacheNs, uint hz)
    {
        long delay = (long)(wstampNs - clockCacheNs);
        return delay > 0 ? (uint)Jiffies.NsecsToJiffies((ulong)delay, hz) : 0;
    }

    /// <summary>TCP_RTO_MAX (120·HZ) in jiffies.</summary>
    private uint MaxRtoJiffies => (uint)Jiffies.NsecsToJiffies((ulong)_options.MaxRto.Nanoseconds, _hz);

    /// <summary>tcp_rto_delta_us: how far in the future (µs) the RTO of the head segment falls.</summary>
    private long RtoDeltaUs(TcpConnection conn)
    {
        long headUs = conn.Segment(conn.SndUna).SentNs / 1000;
        return headUs + (long)Jiffies.JiffiesToUsecs((ulong)RtoJiffies(conn), _hz) - (long)_socks[conn.Id].TcpMstamp;
    }

    /// <summary>
    /// tcp_rearm_rto: no timer with nothing outstanding; otherwise the RTO, counted from the head's transmission when
    /// it replaces a REO or probe timer.
    /// </summary>
    private void RearmRto(TcpConnection conn)
    {
        if (_socks[conn.Id].PacketsOut == 0)
        {
            conn.Pending = XmitTimer.None;
            StopRto(conn);
            return;
        }
        uint rto = (uint)RtoJiffies(conn);
        if (conn.Pending is XmitTimer.ReoTimeout or XmitTimer.LossProbe)
        {
            rto = (uint)Jiffies.UsecsToJiffies((uint)Math.Max(RtoDeltaUs(conn), 1), _hz);
        }
        ResetXmitTimer(conn, XmitTimer.Retrans, rto, MaxRtoJiffies);
    }

    /// <summary>tcp_set_xmit_timer: a loss probe if one may be scheduled, else the RTO.</summary>
    private void SetXmitTimer(TcpConnection conn)
    {
        if (!ScheduleLossProbe(conn, advancingRto: true))
        {
            RearmRto(conn);
        }
    }

    /// <summary>
    /// tcp_schedule_loss_probe: in Open or CWR with data outstanding, probe after PTO = 2·srtt plus TCP_TIMEOUT_MIN —
    /// or plus TCP_RTO_MIN when one segment is out, for the receiver's delayed ACK — (TCP_TIMEOUT_INIT before an RTT
    /// sample), but no later than the RTO would fire.
    /// </summary>
    private bool ScheduleLossProbe(TcpConnection conn, bool advancingRto)
    {
        ref var sk = ref _socks[conn.Id];
        if (!_options.IsRack || sk.PacketsOut == 0 || sk.IcskCaState is not (TcpCaState.Open or TcpCaState.CWR))
        {
            return false;
        }
        uint timeout;
        if (sk.SrttUs != 0)
        {
            ulong us = (sk.SrttUs >> 2) + (sk.PacketsOut == 1 ? (ulong)(_options.MinRto.Nanoseconds / 1000) : TimeoutMinUs);
            timeout = (uint)Jiffies.UsecsToJiffies((uint)Math.Min(us, uint.MaxValue), _hz);
        }
        else
        {
            timeout = (uint)Jiffies.NsecsToJiffies((ulong)_options.InitialRto.Nanoseconds, _hz);
        }
        long rtoDeltaUs = advancingRto ? (long)Jiffies.JiffiesToUsecs((ulong)RtoJiffies(conn), _hz) : RtoDeltaUs(conn);
        if (rtoDeltaUs > 0)
        {
            timeout = Math.Min(timeout, (uint)Jiffies.UsecsToJiffies((uint)Math.Min(rtoDeltaUs, uint.MaxValue), _hz));
        }
        ResetXmitTimer(conn, XmitTimer.LossProbe, timeout, MaxRtoJiffies);
        return true;
    }

    /// <summary>
    /// tcp_send_loss_probe: at most one probe outstanding; new data if the application has some, through
    /// tcp_write_xmit with push_one = 2 (one skb: a single segment when cwnd is full, else up to the cwnd quota and
    /// tcp_tso_segs; held back by pacing, and then no probe is sent), else the last segment sent again. tlp_high_seq
    /// remembers snd_nxt.
    /// </summary>
    private void SendLossProbe(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        MstampRefresh(ref sk);
        if (conn.TlpHighSeg == 0 && sk.PacketsOut > 0)
        {
            conn.TlpRetrans = false;
            bool sent;
            if (!conn.Stopping && (long)conn.SndNxt < conn.WrittenSegments && SndbufHasRoom(conn))
            {
                uint priorPacketsOut = sk.PacketsOut;
                bool newDataOnly = conn.NewDataOnly;
                conn.NewDataOnly = true; // tcp_write_xmit sends from the send head only
                _sendingNewDataProbe = true; // only for the trace: the probe's segments are flagged as one
                WriteXmit(conn, lossProbe: true);
                _sendingNewDataProbe = false;
                conn.NewDataOnly = newDataOnly;
                sent = sk.PacketsOut > priorPacketsOut;
            }
            else
            {
                // __tcp_retransmit_skb, not tcp_retransmit_skb: the probe is sent whatever the segment's marks, sets only
                // EVER_RETRANS and counts in total_retrans, but neither retrans_out, undo_retrans nor retrans_stamp.
                TransmitSkb(conn, conn.SndNxt - 1, 1, retransmit: true, lossProbe: true);
                conn.TlpRetrans = true;
                sent = true;
            }
            if (sent)
            {
                conn.TlpHighSeg = conn.SndNxt;
                conn.Stats.LossProbes++;
                conn.Pending = XmitTimer.None; // tcp_rearm_rto restarts from now
            }
        }
        RearmRto(conn);
        Updated?.Invoke(conn);
    }

    /// <summary>
    /// tcp_process_tlp_ack: once the ACK reaches tlp_high_seq the probe episode ends — without a reduction if the probe
    /// was new data, or both the original and the probe arrived (a DSACK for the probe, or a pure duplicate ACK); with
    /// one (tcp_init_cwnd_reduction, CWR, ended at once) if the ACK went beyond it: the probe repaired a loss.
    /// </summary>
    private void ProcessTlpAck(TcpConnection conn, ulong ackSeg, int flag)
    {
        if (ackSeg < conn.TlpHighSeg)
        {
            return;
        }
        if (!conn.TlpRetrans || (flag & FlagDsackTlp) != 0)
        {
            conn.TlpHighSeg = 0;
        }
        else if (ackSeg > conn.TlpHighSeg)
        {
            InitCwndReduction(conn);
            SetCaState(conn, TcpCaState.CWR);
            EndCwndReduction(conn);
            TryKeepOpen(conn);
            conn.Stats.LossProbeRecoveries++;
        }
        else if ((flag & (FlagSndUnaAdvanced | FlagNotDup | FlagDataSacked)) == 0)
        {
            conn.TlpHighSeg = 0;
        }
    }

    /// <summary>tcp_write_timer_handler with RACK: dispatch on what the timer was armed for.</summary>
    private void XmitTimerFired(TcpConnection conn)
    {
        switch (conn.Pending)
        {
            case XmitTimer.ReoTimeout:
                RackReoTimeout(conn);
                break;
            case XmitTimer.LossProbe:
                SendLossProbe(conn);
                break;
            default:
                conn.Pending = XmitTimer.None;
                RetransmitTimer(conn);
                break;
        }
    }

    /// <summary>
    /// The timer after a transmission with RACK: new data re-arms the RTO when nothing was outstanding or a probe was
    /// pending (tcp_event_new_data_sent); retransmitting the head restarts the RTO unless the REO timer runs
    /// (tcp_xmit_retransmit_queue).
    /// </summary>
    private void ArmAfterSendRack(TcpConnection conn, ulong seg, bool retransmit, uint priorPacketsOut)
    {
        if (!retransmit)
        {
            if (priorPacketsOut == 0 || conn.Pending == XmitTimer.LossProbe)
            {
                RearmRto(conn);
            }
        }
        else if (seg == conn.SndUna && conn.Pending != XmitTimer.ReoTimeout)
        {
            ResetXmitTimer(conn, XmitTimer.Retrans, (uint)RtoJiffies(conn), MaxRtoJiffies);
        }
    }
}
