using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The receiving host's request socket (struct request_sock) between the SYN and the handshake's last ACK:
/// tcp_conn_request (net/ipv4/tcp_input.c) answers the first SYN, reqsk_timer_handler
/// (net/ipv4/inet_connection_sock.c) sends the SYN-ACK again on its timer, and tcp_check_req
/// (net/ipv4/tcp_minisocks.c) answers a retransmitted SYN with another SYN-ACK.
/// </summary>
/// <remarks>
/// The listener's SYN and accept queues are not modelled (a request is never refused for a full queue, and
/// reqsk_timer_handler's shorter retry budget when the queue is over half full with old requests does not apply); nor
/// is the RST a host sends for an ACK whose request it dropped, or a SYN-ACK for a socket it closed.
/// </remarks>
public sealed partial class TcpStack
{
    /// <summary>sysctl_tcp_invalid_ratelimit (HZ/2): the least gap between answers to out-of-window segments.</summary>
    private uint InvalidRateLimitJiffies => _hz / 2;

    /// <summary>
    /// A SYN reached the receiving host. A new request (tcp_conn_request: ECN accepted as tcp_ecn_create_request
    /// does, ts_recent from the SYN, SYN-ACK, timer at TCP_TIMEOUT_INIT); for a pending one, tcp_check_req's pure
    /// retransmitted SYN: the SYN-ACK again (inet_rtx_syn_ack) unless rate-limited, and the timer restarted at
    /// TCP_TIMEOUT_INIT &lt;&lt; num_timeout. Once established, the socket answers a SYN with a challenge ACK
    /// (tcp_validate_incoming), which is not modelled: the SYN is dropped.
    /// </summary>
    private void ReceiverSyn(TcpConnection conn, in TcpSegment segment, EcnCodepoint ecn)
    {
        if (conn.ReceiverReady)
        {
            return;
        }
        if (!conn.ReqOpen)
        {
            // tcp_ecn_create_request: an ECN-setup SYN (ECE|CWR) is accepted if it is not ECT and the sysctl allows ECN
            // (1 or 2), or if the receiving algorithm needs ECN; an ECT SYN comes from an algorithm that needs ECN
            // (DCTCP), whose feedback a receiver running another algorithm cannot give.
            ref var rsk = ref _rcvSocks[conn.Id];
            bool ecnSetup = (segment.Flags & (TcpFlags.Ece | TcpFlags.Cwr)) == (TcpFlags.Ece | TcpFlags.Cwr);
            if (ecnSetup && ((ecn == EcnCodepoint.NotEct && _options.Ecn != 0) || conn.ReceiverOps.NeedsEcn))
            {
                rsk.EcnFlags |= TcpEcnFlags.Ok;
            }
            conn.ReqOpen = true;
            conn.ReqNumTimeout = 0;
            conn.ReqNumRetrans = 0;
            conn.ReqLastOowJiffies = 0;
            conn.ReqTsRecent = segment.TsVal;
            SendSynAck(conn);
            ArmOnTick(conn.SynAckTimer, _options.InitialRto.Nanoseconds, conn.Id); // tcp_timeout_init
            return;
        }
        if (!OowRateLimited(conn))
        {
            RetransmitSynAck(conn);
            ArmOnTick(conn.SynAckTimer, ReqTimeoutNs(conn), conn.Id); // mod_timer_pending: the timer is pending here
        }
    }

    /// <summary>
    /// reqsk_timer_handler (without TCP_DEFER_ACCEPT, syn_ack_recalc): after tcp_synack_retries expiries the request
    /// is dropped; before that the SYN-ACK goes again and the timer restarts at TCP_TIMEOUT_INIT &lt;&lt; num_timeout
    /// (reqsk_timeout), so SYN-ACKs leave at 0, 1, 3, 7, 15 and 31 s and the request goes at 63 s.
    /// </summary>
    private void SynAckTimerFired(TcpConnection conn)
    {
        if (!conn.ReqOpen)
        {
            return;
        }
        if (conn.ReqNumTimeout >= _options.SynAckRetries)
        {
            conn.ReqOpen = false; // inet_csk_reqsk_queue_drop_and_put
            conn.Stats.SynAckGaveUp = true;
            return;
        }
        RetransmitSynAck(conn);
        conn.ReqNumTimeout++;
        ArmOnTick(conn.SynAckTimer, ReqTimeoutNs(conn), conn.Id);
    }

    /// <summary>The handshake completed at the receiving host (tcp_check_req made the child): the request and its timer go.</summary>
    private void CloseRequest(TcpConnection conn)
    {
        conn.ReqOpen = false;
        _sim.Cancel(conn.SynAckTimer);
    }

    /// <summary>inet_rtx_syn_ack → tcp_rtx_synack: the same SYN-ACK again; req->num_retrans counts it.</summary>
    private void RetransmitSynAck(TcpConnection conn)
    {
        conn.ReqNumRetrans++;
        conn.Stats.SynAckRetransmits++;
        SendSynAck(conn);
    }

    /// <summary>tcp_make_synack: ECE if the request accepted ECN, TSecr the request's ts_recent.</summary>
    private void SendSynAck(TcpConnection conn)
    {
        var flags = TcpFlags.Syn | TcpFlags.Ack;
        if ((_rcvSocks[conn.Id].EcnFlags & TcpEcnFlags.Ok) != 0)
        {
            flags |= TcpFlags.Ece;
        }
        SendControl(conn, flags, conn.Path.Reverse, ack: 1, tsEcr: conn.ReqTsRecent);
        conn.SynAckSentNs = _sim.Now.Nanoseconds; // snt_synack
    }

    /// <summary>reqsk_timeout(req, TCP_RTO_MAX): TCP_TIMEOUT_INIT &lt;&lt; num_timeout, at most TCP_RTO_MAX.</summary>
    private long ReqTimeoutNs(TcpConnection conn) =>
        Math.Min(_options.InitialRto.Nanoseconds << Math.Min(conn.ReqNumTimeout, 30), _options.MaxRto.Nanoseconds);

    /// <summary>
    /// __tcp_oow_rate_limited on the request's last_oow_ack_time: no answer within sysctl_tcp_invalid_ratelimit of
    /// the last one; the first is never limited.
    /// </summary>
    private bool OowRateLimited(TcpConnection conn)
    {
        uint now = NowJiffies;
        if (conn.ReqLastOowJiffies != 0)
        {
            int elapsed = (int)(now - conn.ReqLastOowJiffies);
            if (elapsed >= 0 && elapsed < InvalidRateLimitJiffies)
            {
                return true;
            }
        }
        conn.ReqLastOowJiffies = now;
        return false;
    }
}
