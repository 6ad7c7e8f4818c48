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

    // Each end's state is one struct in a run of lines of its own (TcpSenderState, TcpReceiverState): the class's own
    // fields would be laid out by size, interleaving the ends'. The references below and the two structs' first lines
    // are what an ACK (sender) or a data segment (receiver) reads; Network.Prefetch and TcpStack.Prefetch ask for
    // them by HotLinesOf.
    internal TcpSenderState Snd = new();
    internal TcpReceiverState Rcv = new();

    // Where those lines are, in bytes from the object's header: both ends read what precedes Snd (the references, Id,
    // State, Path); the sender then its state up to what only loss recovery and undo touch, the receiver its state up
    // to the D-SACK and SACK blocks only out-of-order arrivals write. Measured once: the runtime chooses the offsets.
    private static readonly int SenderFrom = OffsetInObject(sender: true);
    private static readonly int ReceiverFrom = OffsetInObject(sender: false);
    private static readonly int SenderHotTo = SenderFrom + SenderHotBytes();
    private static readonly int ReceiverHotTo = ReceiverFrom + ReceiverHotBytes();

    private static unsafe int OffsetInObject(bool sender)
    {
        var probe = (TcpConnection)RuntimeHelpers.GetUninitializedObject(typeof(TcpConnection));
        fixed (TcpSenderState* snd = &probe.Snd)
        fixed (TcpReceiverState* rcv = &probe.Rcv)
        {
            byte* header = *(byte**)Unsafe.AsPointer(ref probe);
            return (int)((sender ? (byte*)snd : (byte*)rcv) - header);
        }
    }

    private static int SenderHotBytes()
    {
        var snd = new TcpSenderState();
        return (int)Unsafe.ByteOffset(ref Unsafe.As<TcpSenderState, byte>(ref snd), ref Unsafe.As<long, byte>(ref snd.RateIntervalUs));
    }

    private static int ReceiverHotBytes()
    {
        var rcv = new TcpReceiverState();
        return (int)Unsafe.ByteOffset(ref Unsafe.As<TcpReceiverState, byte>(ref rcv), ref Unsafe.As<ulong, byte>(ref rcv.DsackStart));
    }

    /// <summary>The lines one end of the connection reads first on an arrival (the network's prefetch target).</summary>
    internal HotLines HotLinesOf(bool sender) =>
        sender ? new HotLines(this, 0, SenderHotTo) : new HotLines(this, 0, SenderFrom, ReceiverFrom, ReceiverHotTo);

    /// <summary>Asks the caches for the lines <see cref="HotLinesOf"/> names, without reading the connection.</summary>
    internal static void PrefetchHotLines(TcpConnection conn, bool sender)
    {
        if (sender)
        {
            ObjectPrefetch.Range(conn, 0, SenderHotTo);
        }
        else
        {
            ObjectPrefetch.Range(conn, 0, SenderFrom);
            ObjectPrefetch.Range(conn, ReceiverFrom, ReceiverHotTo);
        }
    }

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

    internal ref int RateDelivered => ref Snd.RateDelivered;
    internal ref long RateIntervalUs => ref Snd.RateIntervalUs;
    internal ref bool RateAppLimited => ref Snd.RateAppLimited;
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
    internal int Mss { get => Snd.Mss; init => Snd.Mss = value; }
    // The scoreboard: a ring of segment states from SndUna, doubled by EnsureBoard as the window grows. It starts at
    // 16 (the initial window of 10, TCP_INIT_CWND, fits): a flow of 100,000 sharing a link keeps a window of a few
    // segments, and 64 states (2.5 KB) each were a fifth of a flow's memory.
    internal SegmentState[] Board = new SegmentState[16];
    internal ref long WrittenSegments => ref Snd.WrittenSegments;
    internal ref TcpHotCounters Counters => ref Snd.Counters;
    internal ref ulong SndUna => ref Snd.SndUna;
    internal ref ulong SndNxt => ref Snd.SndNxt;
    internal ref ulong HighSeq => ref Snd.HighSeq;
    internal ref long RtoNs => ref Snd.RtoNs;
    internal ref uint MdevMaxUs => ref Snd.MdevMaxUs;
    internal ref uint RttvarUs => ref Snd.RttvarUs;
    internal ref ulong RttSeq => ref Snd.RttSeq;
    internal ref ulong CwndUsageSeq => ref Snd.CwndUsageSeq;
    internal ref int Backoff => ref Snd.Backoff;
    internal ref int Retransmits => ref Snd.Retransmits;
    internal ref uint PrrDelivered => ref Snd.PrrDelivered;
    internal ref uint PrrOut => ref Snd.PrrOut;
    internal ref bool UndoMarker => ref Snd.UndoMarker;
    internal ref uint RetransStampUs => ref Snd.RetransStampUs;
    internal ref long FirstTxNs => ref Snd.FirstTxNs;
    internal ref long DeliveredTimeNs => ref Snd.DeliveredTimeNs;
    internal ref bool Stopping => ref Snd.Stopping;
    // ---- RACK-TLP, F-RTO, DSACK and undo (tcp_recovery = 1) ----
    internal ref XmitTimer Pending => ref Snd.Pending;
    internal ref long RackMstampUs => ref Snd.RackMstampUs;
    internal ref ulong RackEndSeg => ref Snd.RackEndSeg;
    internal ref uint RackRttUs => ref Snd.RackRttUs;
    internal ref bool RackAdvanced => ref Snd.RackAdvanced;
    internal ref uint RackReoWndSteps => ref Snd.RackReoWndSteps;
    internal ref uint RackReoWndPersist => ref Snd.RackReoWndPersist;
    internal ref bool RackDsackSeen => ref Snd.RackDsackSeen;
    internal ref uint RackLastDelivered => ref Snd.RackLastDelivered;
    internal ref uint ReordSeen => ref Snd.ReordSeen;
    internal ref uint Reordering => ref Snd.Reordering;
    internal ref ulong HighestSackEnd => ref Snd.HighestSackEnd;
    internal ref ulong TlpHighSeg => ref Snd.TlpHighSeg;
    internal ref bool TlpRetrans => ref Snd.TlpRetrans;
    internal ref ulong UndoMarkerSeg => ref Snd.UndoMarkerSeg;
    internal ref int UndoRetrans => ref Snd.UndoRetrans;
    internal ref bool Frto => ref Snd.Frto;
    internal ref uint DsackDups => ref Snd.DsackDups;
    internal ref bool NewDataOnly => ref Snd.NewDataOnly;
    internal ref bool RetransOnly => ref Snd.RetransOnly;
    internal ref ulong SkbCutBase => ref Snd.SkbCutBase;
    internal ref uint DataSegsOut => ref Snd.DataSegsOut;
    internal ref TimerId RtoTimer => ref Snd.RtoTimer;
    internal ref TimerId PaceTimer => ref Snd.PaceTimer;
    // ---- handshake (TcpStack.Handshake.cs) ----
    internal TcpHandshakeState Handshake = new();
    internal ref long FirstSynUs => ref Handshake.FirstSynUs;
    internal ref int TotalRto => ref Handshake.TotalRto;
    internal ref uint SynAckTsVal => ref Handshake.SynAckTsVal;

    // ---- receiver ----
    internal int[]? NapiBatch;        // packets the next NAPI poll takes, in arrival order (made on first use)
    internal bool[] Received = new bool[64];
    internal ref int NapiCount => ref Rcv.NapiCount;
    internal ref TimerId DelackTimer => ref Rcv.DelackTimer;
    internal ref TimerId NapiTimer => ref Rcv.NapiTimer;
    internal ref ulong RcvNxt => ref Rcv.RcvNxt;
    internal ref ulong RcvHighest => ref Rcv.RcvHighest;
    internal ref SackSeqs SackStart => ref Rcv.SackStart;
    internal ref SackSeqs SackEnd => ref Rcv.SackEnd;
    internal ref int NumSacks => ref Rcv.NumSacks;
    internal ref bool DsackPending => ref Rcv.DsackPending;
    internal ref ulong DsackStart => ref Rcv.DsackStart;
    internal ref ulong DsackEnd => ref Rcv.DsackEnd;
    internal ref int UnackedSegments => ref Rcv.UnackedSegments;
    internal ref int QuickAcksLeft => ref Rcv.QuickAcksLeft;
    internal ref uint AtoJiffies => ref Rcv.AtoJiffies;
    internal ref uint LrcvTimeJiffies => ref Rcv.LrcvTimeJiffies;
    internal ref uint DelackTimeoutJiffies => ref Rcv.DelackTimeoutJiffies;
    internal ref uint RcvSrttUs => ref Rcv.RcvSrttUs;
    internal ref uint RcvRtoJiffies => ref Rcv.RcvRtoJiffies;
    internal ref long SynAckSentNs => ref Handshake.SynAckSentNs;
    internal ref bool RequestEcn => ref Handshake.RequestEcn;
    internal ref bool ReqOpen => ref Handshake.ReqOpen;
    internal ref int ReqNumTimeout => ref Handshake.ReqNumTimeout;
    internal ref int ReqNumRetrans => ref Handshake.ReqNumRetrans;
    internal ref uint ReqTsRecent => ref Handshake.ReqTsRecent;
    internal ref uint ReqLastOowJiffies => ref Handshake.ReqLastOowJiffies;
    internal ref TimerId SynAckTimer => ref Handshake.SynAckTimer;

    // The receiver's one-way-delay histogram (Stats.OneWayDelay), reached without going through Stats on every data
    // packet: with 10,000 flows each hop between per-flow objects is a cache miss.
    internal LogLinearHistogram? OneWayDelay;
    // The current run of one-way delays that fall in one bucket of it (TcpReceiverState), added when the bucket
    // changes or the histogram is read (TcpFlowStats.OneWayDelay): a flow's consecutive packets mostly see the same
    // queue, so most arrivals touch only the run and not the histogram's object and bucket, two lines that with
    // 10,000 flows are rarely in the caches. The sum of whole nanoseconds is exact in a long, and added to the
    // histogram's double it gives the sum that adding one by one gives (every partial sum is an integer below 2^53).
    internal ref int OwdRunBucket => ref Rcv.OwdRunBucket;
    internal ref int OwdRunCount => ref Rcv.OwdRunCount;
    internal ref long OwdRunSum => ref Rcv.OwdRunSum;
    internal ref long OwdRunMax => ref Rcv.OwdRunMax;

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
    internal ref bool ReceiverReady => ref Rcv.ReceiverReady;

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
