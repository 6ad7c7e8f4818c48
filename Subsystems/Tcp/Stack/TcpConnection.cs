using System.Runtime.CompilerServices;
using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

/// <summary>Where a connection is in its life.</summary>
public enum TcpConnectionState
{
    /// <summary>Not started yet.</summary>
    Idle,
    /// <summary>SYN sent, waiting for SYN-ACK.</summary>
    SynSent,
    Established,
    /// <summary>All data acknowledged (or stopped); the socket is closed and its algorithm released.</summary>
    Closed,
}

/// <summary>
/// One bulk TCP connection: its kernel-shaped <see cref="TcpSock"/> lives in the stack's socket table at
/// <see cref="Id"/>; this object holds what the stack needs besides it — the sender's scoreboard, the receiver's
/// reassembly state, timers and counters. Sequence space is counted in segments internally (all data segments are
/// one MSS, the last possibly shorter) and in bytes on the wire.
/// </summary>
public sealed class TcpConnection
{
    internal TcpConnection(int id, TcpCongestionOps ops, long bytesToSend)
    {
        Id = id;
        Ops = ops;
        BytesToSend = bytesToSend;
        Stats = new TcpFlowStats(this);
    }

    public int Id { get; }
    public FlowPath Path { get; internal set; }

    /// <summary>The congestion control in use (pinned while the socket is open).</summary>
    public TcpCongestionOps Ops { get; internal set; }

    /// <summary>Bytes the application writes in total, or -1 for an endless bulk transfer.</summary>
    public long BytesToSend { get; }

    public TcpConnectionState State { get; internal set; }
    public TcpFlowStats Stats { get; }

    /// <summary>
    /// tcp_compute_delivery_rate (net/ipv4/tcp.c), what <c>ss -ti</c> shows as delivery_rate: the recorded sample's
    /// rate_delivered × MSS over rate_interval_us, in bits per second; 0 before the first sample.
    /// </summary>
    public double DeliveryRateBps => RateIntervalUs > 0 ? RateDelivered * (double)Mss * 8e6 / RateIntervalUs : 0;

    /// <summary>
    /// tp->rate_app_limited (tcpi_delivery_rate_app_limited): whether the recorded sample behind
    /// <see cref="DeliveryRateBps"/> was application-limited; true before the first sample, as tcp_init_sock sets it.
    /// </summary>
    public bool DeliveryRateAppLimited => RateAppLimited;

    // tp->rate_delivered and rate_interval_us: the last sample tcp_rate_gen chose to record.
    internal int RateDelivered;
    internal long RateIntervalUs;
    internal bool RateAppLimited = true; // tp->rate_app_limited: tcp_init_sock sets 1
    public SimTime StartTime { get; internal set; }
    public SimTime EndTime { get; internal set; }

    /// <summary>When the handshake completed (the SYN-ACK arrived); null while connecting or if it never did.</summary>
    public SimTime? ConnectTime { get; internal set; }

    /// <summary>connect() failed with ETIMEDOUT: every SYN timed out (tcp_write_timeout), so the flow never connected.</summary>
    public bool ConnectFailed { get; internal set; }

    /// <summary>The application's writes: the whole transfer at once (bulk), or bursts at an interval.</summary>
    public TcpWritePattern? Writes { get; internal init; }

    // ---- sender ----
    internal long TotalSegments => BytesToSend < 0 ? long.MaxValue : (BytesToSend + Mss - 1) / Mss;
    internal long WrittenSegments;    // write_seq in segments: what the application has queued so far
    internal int Mss { get; init; }   // fixed for the flow (no PMTU changes); sk.mss_cache starts equal to it
    internal TcpHotCounters Counters = new(); // Stats' per-ACK counters, kept here (TcpHotCounters)
    internal ulong SndUna;            // first unacknowledged segment
    internal ulong SndNxt;            // next new segment to send
    internal ulong HighSeq;           // snd_nxt when the current reduction or loss episode began
    // The scoreboard: a ring of segment states from SndUna, doubled by EnsureBoard as the window grows. It starts at
    // 16 (the initial window of 10, TCP_INIT_CWND, fits): a flow of 100,000 sharing a link keeps a window of a few
    // segments, and 64 states (2.5 KB) each were a fifth of a flow's memory.
    internal SegmentState[] Board = new SegmentState[16];
    internal long RtoNs;
    internal uint MdevMaxUs;          // tcp_rtt_estimator: the largest mdev in the current RTT
    internal uint RttvarUs;           // the RTT variation the RTO uses, at least TCP_RTO_MIN
    internal ulong RttSeq;            // snd_nxt when the current RTT measurement window began
    internal ulong CwndUsageSeq;      // tcp_cwnd_validate: end of the window cwnd use is tracked over
    internal int Backoff;             // icsk_backoff: RTO doublings since the last valid RTT sample (tcp_ack_update_rtt)
    internal int Retransmits;         // icsk_retransmits: RTOs since snd_una last advanced (tcp_update_rto_stats)
    internal uint PrrDelivered;
    internal uint PrrOut;
    internal bool UndoMarker;
    internal uint RetransStampUs;     // tp->retrans_stamp: when the first retransmission of this episode left (0 = none)
    internal long FirstTxNs;          // tcp_rate: first_tx_mstamp
    internal long DeliveredTimeNs;    // tcp_rate: delivered_mstamp in ns (TcpSock.DeliveredMstamp holds it in µs)
    internal bool Stopping;
    // ---- RACK-TLP, F-RTO, DSACK and undo (tcp_recovery = 1); sequence positions are segment numbers ----
    internal XmitTimer Pending;       // icsk_pending: what the retransmission timer is armed for
    internal long RackMstampUs = -1;  // rack.mstamp: transmit time of the most recently sent delivered segment (µs)
    internal ulong RackEndSeg;        // rack.end_seq: one past that segment
    internal uint RackRttUs;          // rack.rtt_us
    internal bool RackAdvanced;       // rack.advanced
    internal uint RackReoWndSteps = 1;// rack.reo_wnd_steps
    internal uint RackReoWndPersist;  // rack.reo_wnd_persist
    internal bool RackDsackSeen;      // rack.dsack_seen
    internal uint RackLastDelivered;  // rack.last_delivered
    internal uint ReordSeen;          // tp->reord_seen
    internal uint Reordering;         // tp->reordering (segments), from sysctl_tcp_reordering
    internal ulong HighestSackEnd;    // tcp_highest_sack_seq while sacked_out > 0: one past the highest SACKed segment
    internal ulong TlpHighSeg;        // tp->tlp_high_seq: snd_nxt when the outstanding probe left (0 = none)
    internal bool TlpRetrans;         // tp->tlp_retrans: the probe was a retransmission
    internal ulong UndoMarkerSeg;     // tp->undo_marker: snd_una when the undoable episode began
    internal int UndoRetrans;         // tp->undo_retrans: retransmissions not yet proven unnecessary (-1: none sent)
    internal bool Frto;               // tp->frto
    internal uint DsackDups;          // tp->dsack_dups
    internal bool NewDataOnly;        // F-RTO step 2.b (REXMIT_NEW): this ACK sends new data, not retransmissions
    internal bool RetransOnly;        // tcp_xmit_retransmit_queue alone (tcp_rack_reo_timeout): retransmissions, no new data
    internal ulong SkbCutBase;        // where the write-queue skbs of the current run of writes begin (TcpStack.Tso.cs)
    internal uint DataSegsOut;        // tp->data_segs_out: data segments sent, retransmissions included
    internal TimerId RtoTimer;
    internal TimerId PaceTimer;
    internal TimerId DelackTimer;
    internal TimerId NapiTimer;       // the receiving NIC's coalesced interrupt (GRO)
    // ---- handshake (TcpStack.Handshake.cs) ----
    internal long FirstSynUs = -1;    // tp->retrans_stamp as tcp_connect sets it: when the first SYN left (µs)
    internal int TotalRto;            // tp->total_rto: SYN timeouts so far (the linear-timeout count)
    internal uint SynAckTsVal;        // TSval of the SYN-ACK that established the sender: what its first ACK echoes
    internal int[]? NapiBatch;        // packets the next NAPI poll takes, in arrival order (made on first use)
    internal int NapiCount;

    // ---- receiver ----
    internal ulong RcvNxt;
    internal ulong RcvHighest;        // one past the highest segment received
    internal bool[] Received = new bool[64];
    // tp->selective_acks / rx_opt.num_sacks: up to TCP_NUM_SACKS blocks of segments [start, end), most recent first.
    // Inline in the connection, not two arrays of their own: two objects (and cache lines) fewer per flow.
    internal SackSeqs SackStart;
    internal SackSeqs SackEnd;
    internal int NumSacks;
    // tp->rx_opt.dsack and duplicate_sack[0]: a D-SACK block [start, end) for the next ACK.
    internal bool DsackPending;
    internal ulong DsackStart;
    internal ulong DsackEnd;
    internal int UnackedSegments;
    internal int QuickAcksLeft;
    // icsk_ack.rcv_mss and last_seg_size (tcp_measure_rcv_mss), and in-order data the application has not read yet,
    // with the TSval its ACK would echo (TcpStack.ReadAck.cs).
    internal uint RcvMss;
    internal uint LastSegSize;
    internal bool RcvUnread;
    internal uint RcvUnreadTsVal;
    // icsk_ack.ato / lrcvtime / timeout (jiffies), and what the receiving socket measured of the handshake
    // (tcp_synack_rtt_meas): srtt (µs) and icsk_rto (jiffies), which bound the delayed-ACK timeout.
    internal uint AtoJiffies;
    internal uint LrcvTimeJiffies;
    internal uint DelackTimeoutJiffies;
    internal long SynAckSentNs;
    internal uint RcvSrttUs;
    internal uint RcvRtoJiffies; // TCP_TIMEOUT_INIT (set by the stack at its HZ) until measured
    internal bool RequestEcn;         // the sender asks for ECN in its SYN (tcp_ecn_send_syn: its algorithm needs ECN)
    // The receiving host's request socket (struct request_sock) from the first SYN until the handshake completes.
    internal bool ReqOpen;
    internal int ReqNumTimeout;       // req->num_timeout: request timer expiries
    internal int ReqNumRetrans;       // req->num_retrans: SYN-ACKs sent again
    internal uint ReqTsRecent;        // req->ts_recent: the TSval of the SYN that made the request (retransmitted SYNs leave it)
    internal uint ReqLastOowJiffies;  // tcp_rsk(req)->last_oow_ack_time (0: none yet)
    internal TimerId SynAckTimer;     // req->rsk_timer

    // The receiver's one-way-delay histogram (Stats.OneWayDelay), reached without going through Stats on every data
    // packet: with 10,000 flows each hop between per-flow objects is a cache miss.
    internal LogLinearHistogram? OneWayDelay;
    // The current run of one-way delays that fall in one bucket of it, added when the bucket changes or the histogram
    // is read (TcpFlowStats.OneWayDelay): a flow's consecutive packets mostly see the same queue, so most arrivals
    // touch only these fields and not the histogram's object and bucket, two lines that with 10,000 flows are rarely
    // in the caches. The sum of whole nanoseconds is exact in a long, and added to the histogram's double it gives the
    // sum that adding one by one gives (every partial sum is an integer below 2^53).
    internal int OwdRunBucket;
    internal int OwdRunCount;
    internal long OwdRunSum;
    internal long OwdRunMax;

    /// <summary>Adds the pending run of one-way delays to <see cref="OneWayDelay"/>.</summary>
    internal void FlushOneWayDelay()
    {
        if (OwdRunCount > 0)
        {
            OneWayDelay!.AddRun(OwdRunBucket, OwdRunCount, OwdRunSum, OwdRunMax);
            OwdRunCount = 0;
        }
    }

    /// <summary>The receiving socket's congestion control (the receiving host's; see TcpStackOptions.ReceiverCc).</summary>
    public TcpCongestionOps ReceiverOps { get; internal set; } = null!;
    internal bool ReceiverReady;      // the receiving socket is established and its algorithm initialised

    internal ref SegmentState Segment(ulong seg) => ref Board[(int)(seg & (ulong)(Board.Length - 1))];

    /// <summary>Makes room in the scoreboard for segments up to <paramref name="end"/> (exclusive).</summary>
    internal void EnsureBoard(ulong end)
    {
        if (end - SndUna <= (ulong)Board.Length)
        {
            return;
        }
        int size = Board.Length;
        while ((ulong)size < end - SndUna)
        {
            size *= 2;
        }
        var bigger = new SegmentState[size];
        for (ulong s = SndUna; s < SndNxt; s++)
        {
            bigger[(int)(s & (ulong)(size - 1))] = Board[(int)(s & (ulong)(Board.Length - 1))];
        }
        Board = bigger;
    }

    internal void EnsureReceiveWindow(ulong seg)
    {
        if (seg - RcvNxt < (ulong)Received.Length)
        {
            return;
        }
        int size = Received.Length;
        while ((ulong)size <= seg - RcvNxt)
        {
            size *= 2;
        }
        var bigger = new bool[size];
        for (ulong s = RcvNxt; s < RcvHighest; s++)
        {
            bigger[(int)(s & (ulong)(size - 1))] = Received[(int)(s & (ulong)(Received.Length - 1))];
        }
        Received = bigger;
    }

    internal ref bool ReceivedAt(ulong seg) => ref Received[(int)(seg & (ulong)(Received.Length - 1))];
}

/// <summary>tp->selective_acks' starts or ends: <see cref="TcpStack.NumSacks"/> sequence positions held inline.</summary>
[InlineArray(TcpStack.NumSacks)]
internal struct SackSeqs
{
    private ulong _first;
}
