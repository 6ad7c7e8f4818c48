using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Drives one congestion control the way tcp_ack and the loss paths call it, on a socket that always refills its
/// window (cwnd-limited): per ACK the counters advance, then in_ack_event, pkts_acked and cong_avoid run. Loss
/// entry and exit follow tcp_init_cwnd_reduction / tcp_end_cwnd_reduction, tcp_enter_loss and tcp_undo_cwnd_reduction.
/// Sequence numbers are bytes (MSS 1448); the clock starts at 10 s so tcp_jiffies32 is never 0.
/// </summary>
internal sealed class AckClock
{
    public const uint Mss = 1448;

    private readonly TcpSock[] _sk = new TcpSock[1];

    public AckClock(TcpCongestionOps ops, uint cwnd = TcpSock.InitCwnd, ulong startUs = 10_000_000)
    {
        Ops = ops;
        _sk[0] = TcpTestSystem.Socket(cwnd);
        ref var sk = ref Sk;
        sk.TcpMstamp = startUs;
        sk.EcnFlags = TcpEcnFlags.Ok;
        sk.SndUna = 1;
        sk.SndNxt = 1 + cwnd * Mss;
        sk.RcvNxt = 1;
        sk.Lsndtime = sk.TcpJiffies32;
        ops.Init?.Invoke(ref sk);
    }

    public TcpCongestionOps Ops { get; }

    public ref TcpSock Sk => ref _sk[0];

    public ulong NowUs => Sk.TcpMstamp;

    /// <summary>cwnd after every call, for comparing trajectories.</summary>
    public List<uint> Trace { get; } = [];

    /// <summary>
    /// The socket as the algorithm left it after every call (every ACK, reduction, event): what a per-ACK comparison
    /// of two implementations compares.
    /// </summary>
    public List<AckClockStep> Steps { get; } = [];

    /// <summary>One ACK at <paramref name="atUs"/> for <paramref name="acked"/> packets, <paramref name="ce"/> of them CE-marked.</summary>
    public void Ack(ulong atUs, uint acked, int rttUs, uint ce = 0)
    {
        ref var sk = ref Sk;
        sk.TcpMstamp = atUs;
        sk.SndUna += acked * Mss;
        sk.Delivered += acked;
        sk.DeliveredCe += ce;
        Ops.InAckEvent?.Invoke(ref sk, 0);
        Ops.PktsAcked?.Invoke(ref sk, new AckSample(acked, rttUs, sk.SndCwnd));
        Ops.CongAvoid!(ref sk, sk.SndUna, acked);
        sk.SndNxt = sk.SndUna + sk.SndCwnd * Mss;
        sk.MaxPacketsOut = sk.SndCwnd;
        sk.Lsndtime = sk.TcpJiffies32;
        Record();
    }

    /// <summary>
    /// One round trip: a window's worth of single-packet ACKs, the last one <paramref name="rttUs"/> after now. With
    /// <paramref name="spacingUs"/> 0 they spread evenly over the RTT; otherwise they come as a train that far apart.
    /// The first <paramref name="cePerWindow"/> are CE-marked; each carries an RTT sample of <paramref name="sampleRttUs"/>
    /// (default <paramref name="rttUs"/>).
    /// </summary>
    public void Round(uint rttUs, uint spacingUs = 0, uint cePerWindow = 0, int? sampleRttUs = null)
    {
        uint n = Sk.SndCwnd;
        ulong gap = spacingUs != 0 ? spacingUs : Math.Max(1, rttUs / n);
        ulong train = (n - 1) * gap;
        ulong first = NowUs + (rttUs > train ? rttUs - train : gap);
        for (uint i = 0; i < n; i++)
        {
            Ack(first + i * gap, 1, sampleRttUs ?? (int)rttUs, i < cePerWindow ? 1u : 0u);
        }
    }

    /// <summary>tcp_enter_recovery: prior_cwnd, ssthresh from the algorithm, then set_state(Recovery).</summary>
    public void EnterRecovery() => Reduce(TcpCaState.Recovery);

    /// <summary>tcp_enter_cwr (an ECE): as recovery, without the retransmission.</summary>
    public void EnterCwr() => Reduce(TcpCaState.CWR);

    /// <summary>tcp_end_cwnd_reduction: cwnd settles at ssthresh, back to Open.</summary>
    public void EndReduction()
    {
        Sk.SndCwnd = Sk.SndSsthresh;
        SetState(TcpCaState.Open);
        Record();
    }

    /// <summary>tcp_enter_loss (RTO): ssthresh, CA_EVENT_LOSS, cwnd = in flight + 1 (here 1), set_state(Loss).</summary>
    public void Rto()
    {
        ref var sk = ref Sk;
        sk.PriorSsthresh = sk.SndSsthresh;
        sk.PriorCwnd = sk.SndCwnd;
        sk.SndSsthresh = Ops.Ssthresh!(ref sk);
        Ops.CwndEvent?.Invoke(ref sk, TcpCaEvent.Loss);
        sk.SndCwnd = 1;
        SetState(TcpCaState.Loss);
        Record();
    }

    /// <summary>tcp_undo_cwnd_reduction: cwnd from undo_cwnd, ssthresh back if it was higher; Open.</summary>
    public void Undo()
    {
        ref var sk = ref Sk;
        sk.SndCwnd = Ops.UndoCwnd!(ref sk);
        sk.SndSsthresh = Math.Max(sk.SndSsthresh, sk.PriorSsthresh);
        SetState(TcpCaState.Open);
        Record();
    }

    /// <summary>Idle for <paramref name="idleUs"/>, then the first transmit (CA_EVENT_TX_START).</summary>
    public void IdleThenSend(ulong idleUs)
    {
        ref var sk = ref Sk;
        sk.TcpMstamp += idleUs;
        Ops.CwndEvent?.Invoke(ref sk, TcpCaEvent.TxStart);
        sk.Lsndtime = sk.TcpJiffies32;
    }

    /// <summary>A cwnd_event from the stack (CE or non-CE data received, a transmit start, ...).</summary>
    public void Event(TcpCaEvent ev)
    {
        Ops.CwndEvent?.Invoke(ref Sk, ev);
        Record();
    }

    private void Record()
    {
        ref var sk = ref Sk;
        Trace.Add(sk.SndCwnd);
        Steps.Add(new AckClockStep(Steps.Count, sk.SndCwnd, sk.SndSsthresh, sk.EcnFlags, sk.IcskAckPending,
            Convert.ToHexString((ReadOnlySpan<byte>)sk.IcskCaPriv)));
    }

    /// <summary>tcp_set_ca_state: the algorithm sees the old state, then the socket takes the new one.</summary>
    public void SetState(TcpCaState state)
    {
        Ops.SetState?.Invoke(ref Sk, state);
        Sk.IcskCaState = state;
    }

    private void Reduce(TcpCaState state)
    {
        ref var sk = ref Sk;
        sk.PriorSsthresh = sk.SndSsthresh;
        sk.PriorCwnd = sk.SndCwnd;
        sk.SndSsthresh = Ops.Ssthresh!(ref sk);
        SetState(state);
        Record();
    }
}

/// <summary>One <see cref="AckClock"/> step: cwnd, ssthresh, ecn_flags, icsk_ack.pending and icsk_ca_priv (hex).</summary>
internal readonly record struct AckClockStep(int Index, uint Cwnd, uint Ssthresh, byte EcnFlags, byte AckPending, string CaPriv);
