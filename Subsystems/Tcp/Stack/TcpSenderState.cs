using System.Runtime.InteropServices;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The sending end's state of a <see cref="TcpConnection"/> (<see cref="TcpConnection.Snd"/>), in one run of lines:
/// what every ACK and every send touches first, then what only loss recovery, undo and the rate sample's record touch.
/// A class's own fields are laid out by size, not in the order written, which spread the sender's fields over the
/// connection's ten lines among the receiver's; with 10,000 flows each ACK then missed on about nine lines. Sequence
/// positions are segment numbers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcpSenderState
{
    // ---- every ACK and send ----
    public ulong SndUna;            // first unacknowledged segment
    public ulong SndNxt;            // next new segment to send
    public long WrittenSegments;    // write_seq in segments: what the application has queued so far
    public long RtoNs;
    public ulong RttSeq;            // snd_nxt when the current RTT measurement window began
    public ulong CwndUsageSeq;      // tcp_cwnd_validate: end of the window cwnd use is tracked over
    public long FirstTxNs;          // tcp_rate: first_tx_mstamp
    public long DeliveredTimeNs;    // tcp_rate: delivered_mstamp in ns (TcpSock.DeliveredMstamp holds it in µs)
    public long RackMstampUs;       // rack.mstamp: transmit time of the most recently sent delivered segment (µs)
    public ulong RackEndSeg;        // rack.end_seq: one past that segment
    public ulong SkbCutBase;        // where the write-queue skbs of the current run of writes begin (TcpStack.Tso.cs)
    public ulong TlpHighSeg;        // tp->tlp_high_seq: snd_nxt when the outstanding probe left (0 = none)
    public ulong HighSeq;           // snd_nxt when the current reduction or loss episode began
    public ulong HighestSackEnd;    // tcp_highest_sack_seq while sacked_out > 0: one past the highest SACKed segment
    public int Mss;                 // fixed for the flow (no PMTU changes); sk.mss_cache starts equal to it
    public uint MdevMaxUs;          // tcp_rtt_estimator: the largest mdev in the current RTT
    public uint RttvarUs;           // the RTT variation the RTO uses, at least TCP_RTO_MIN
    public int Backoff;             // icsk_backoff: RTO doublings since the last valid RTT sample (tcp_ack_update_rtt)
    public int Retransmits;         // icsk_retransmits: RTOs since snd_una last advanced (tcp_update_rto_stats)
    public uint RackRttUs;          // rack.rtt_us
    public uint DataSegsOut;        // tp->data_segs_out: data segments sent, retransmissions included
    public uint Reordering;         // tp->reordering (segments), from sysctl_tcp_reordering
    public TimerId RtoTimer;
    public TimerId PaceTimer;
    public XmitTimer Pending;       // icsk_pending: what the retransmission timer is armed for
    public bool RackAdvanced;       // rack.advanced
    public bool Stopping;
    public bool NewDataOnly;        // F-RTO step 2.b (REXMIT_NEW): this ACK sends new data, not retransmissions
    public bool RetransOnly;        // tcp_xmit_retransmit_queue alone (tcp_rack_reo_timeout): retransmissions, no new data
    public bool TlpRetrans;         // tp->tlp_retrans: the probe was a retransmission
    public bool UndoMarker;
    public bool Frto;               // tp->frto
    public TcpHotCounters Counters; // Stats' per-ACK counters (TcpHotCounters)

    // ---- the recorded rate sample, loss recovery, RACK's reordering window, undo ----
    public long RateIntervalUs;     // tp->rate_interval_us: of the last sample tcp_rate_gen chose to record
    public int RateDelivered;       // tp->rate_delivered: the same sample's
    public uint RetransStampUs;     // tp->retrans_stamp: when the first retransmission of this episode left (0 = none)
    public uint PrrDelivered;
    public uint PrrOut;
    public uint RackReoWndSteps;    // rack.reo_wnd_steps
    public uint RackReoWndPersist;  // rack.reo_wnd_persist
    public uint RackLastDelivered;  // rack.last_delivered
    public uint ReordSeen;          // tp->reord_seen
    public ulong UndoMarkerSeg;     // tp->undo_marker: snd_una when the undoable episode began
    public int UndoRetrans;         // tp->undo_retrans: retransmissions not yet proven unnecessary (-1: none sent)
    public uint DsackDups;          // tp->dsack_dups
    public bool RateAppLimited;     // tp->rate_app_limited: tcp_init_sock sets 1
    public bool RackDsackSeen;      // rack.dsack_seen

    /// <summary>The state tcp_init_sock leaves: no rack.mstamp yet, a reordering window of one step, app-limited.</summary>
    public TcpSenderState()
    {
        RackMstampUs = -1;
        RackReoWndSteps = 1;
        RateAppLimited = true;
        Counters = new TcpHotCounters();
    }
}
