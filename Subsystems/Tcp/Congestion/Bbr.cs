using System.Buffers.Binary;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// tcp_bbr (net/ipv4/tcp_bbr.c): BBR v1, Bottleneck Bandwidth and RTT. On every ACK it updates a model of the
/// path — the windowed max delivery rate over 10 rounds and the windowed min RTT over 10 s — and sets the pacing rate
/// to gain × bandwidth and cwnd to gain × BDP, cycling the gain to probe for bandwidth and periodically draining the
/// queue (PROBE_RTT) to re-measure the RTT. It does not react to loss except to conserve packets in recovery and to
/// detect policers. Uses cong_control (no cong_avoid) and asks the stack for pacing. State is
/// <see cref="BbrState"/> in icsk_ca_priv; the arithmetic is in BbrMath.
/// </summary>
/// <remarks>
/// The random start of the PROBE_BW gain cycle (get_random_u32_below in the kernel) draws from the socket's own
/// deterministic stream, <see cref="TcpSock.GetRandomU32Below"/>, which the stack seeds from the scenario seed and
/// the connection id: runs repeat exactly, and flows still start their cycles at different phases.
/// </remarks>
public static class Bbr
{
    /// <summary>sizeof(struct tcp_bbr_info): bw_lo, bw_hi, min_rtt, pacing_gain, cwnd_gain, five u32.</summary>
    public const int InfoSize = 20;

    /// <summary>The bbr ops table (tcp_bbr_cong_ops): init, cong_control, sndbuf_expand, undo_cwnd, cwnd_event, ssthresh, min_tso_segs, get_info, set_state.</summary>
    public static TcpCongestionOps Ops { get; } = new()
    {
        Name = "bbr",
        Flags = TcpCongFlags.NonRestricted,
        Init = Init,
        CongControl = Main,
        SndbufExpand = SndbufExpand,
        UndoCwnd = UndoCwnd,
        CwndEvent = CwndEvent,
        Ssthresh = Ssthresh,
        MinTsoSegs = MinTsoSegs,
        GetInfo = GetInfo,
        SetState = SetState,
    };

    /// <summary>
    /// bbr_init: STARTUP with an empty bandwidth filter, min_rtt from tcp_min_rtt, ssthresh infinite, the pacing rate
    /// seeded at high_gain × cwnd / srtt (or / 1 ms), and sk_pacing_status NONE → NEEDED so the stack paces.
    /// pacing_gain and cwnd_gain stay 0 (the area is zeroed) until the first ACK sets them.
    /// </summary>
    public static void Init(ref TcpSock sk)
    {
        ref var bbr = ref BbrMath.Ca(ref sk);
        bbr.PriorCwnd = 0;
        sk.SndSsthresh = TcpSock.InfiniteSsthresh;
        bbr.RttCnt = 0;
        bbr.NextRttDelivered = sk.Delivered; // the first round ends when what is in flight now is delivered
        bbr.PrevCaState = TcpCaState.Open;
        bbr.PacketConservation = false;

        bbr.ProbeRttDoneStamp = 0;
        bbr.ProbeRttRoundDone = false;
        bbr.MinRttUs = sk.MinRttUs;
        bbr.MinRttStamp = sk.TcpJiffies32;

        bbr.Bw.Reset(bbr.RttCnt, 0);

        bbr.HasSeenRtt = false;
        BbrMath.InitPacingRateFromRtt(ref sk, ref bbr);

        bbr.RoundStart = false;
        bbr.IdleRestart = false;
        bbr.FullBwReached = false;
        bbr.FullBw = 0;
        bbr.FullBwCnt = 0;
        bbr.CycleMstamp = 0;
        bbr.CycleIdx = 0;
        BbrMath.ResetLtBwSampling(sk, ref bbr);
        bbr.Mode = BbrMode.Startup;

        bbr.AckEpochMstamp = sk.TcpMstamp;
        bbr.AckEpochAcked = 0;
        bbr.ExtraAckedWinRtts = 0;
        bbr.ExtraAckedWinIdx = 0;
        bbr.ExtraAcked0 = 0;
        bbr.ExtraAcked1 = 0;

        if (sk.SkPacingStatus == BbrMath.SkPacingNone)
        {
            sk.SkPacingStatus = BbrMath.SkPacingNeeded;
        }
    }

    /// <summary>bbr_main (cong_control): update the model, then pace at pacing_gain × bw and set cwnd from cwnd_gain.</summary>
    public static void Main(ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
        ref var bbr = ref BbrMath.Ca(ref sk);
        BbrMath.UpdateModel(ref sk, ref bbr, rs);
        uint bw = BbrMath.Bw(bbr);
        BbrMath.SetPacingRate(ref sk, ref bbr, bw, bbr.PacingGain);
        BbrMath.SetCwnd(ref sk, ref bbr, rs, rs.AckedSacked, bw, bbr.CwndGain);
    }

    /// <summary>bbr_ssthresh: entering loss recovery — save cwnd for the exit or undo; ssthresh is left as it is.</summary>
    /// <returns>The current snd_ssthresh.</returns>
    public static uint Ssthresh(ref TcpSock sk)
    {
        BbrMath.SaveCwnd(sk, ref BbrMath.Ca(ref sk));
        return sk.SndSsthresh;
    }

    /// <summary>bbr_undo_cwnd: the slow-down was spurious; restart full-pipe detection and long-term sampling.</summary>
    /// <returns>The current snd_cwnd (BBR did not cut it).</returns>
    public static uint UndoCwnd(ref TcpSock sk)
    {
        ref var bbr = ref BbrMath.Ca(ref sk);
        bbr.FullBw = 0;
        bbr.FullBwCnt = 0;
        BbrMath.ResetLtBwSampling(sk, ref bbr);
        return sk.SndCwnd;
    }

    /// <summary>
    /// bbr_set_state: on an RTO (Loss) forget full_bw, treat it as the end of a round, and feed the long-term
    /// sampler a sample with one loss.
    /// </summary>
    public static void SetState(ref TcpSock sk, TcpCaState newState)
    {
        if (newState != TcpCaState.Loss)
        {
            return;
        }
        ref var bbr = ref BbrMath.Ca(ref sk);
        var rs = new RateSample { Losses = 1 };
        bbr.PrevCaState = TcpCaState.Loss;
        bbr.FullBw = 0;
        bbr.RoundStart = true;
        BbrMath.LtBwSampling(ref sk, ref bbr, rs);
    }

    /// <summary>
    /// bbr_cwnd_event: restarting from idle while app-limited — start a new aggregation epoch and, in PROBE_BW,
    /// pace at the estimated bandwidth rather than above it (or see whether PROBE_RTT is over).
    /// </summary>
    public static void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        if (ev != TcpCaEvent.TxStart || sk.AppLimited == 0)
        {
            return;
        }
        ref var bbr = ref BbrMath.Ca(ref sk);
        bbr.IdleRestart = true;
        bbr.AckEpochMstamp = sk.TcpMstamp;
        bbr.AckEpochAcked = 0;
        if (bbr.Mode == BbrMode.ProbeBw)
        {
            BbrMath.SetPacingRate(ref sk, ref bbr, BbrMath.Bw(bbr), BbrMath.BbrUnit);
        }
        else if (bbr.Mode == BbrMode.ProbeRtt)
        {
            BbrMath.CheckProbeRttDone(ref sk, ref bbr);
        }
    }

    /// <summary>bbr_min_tso_segs: one segment per TSO burst below 1.2 Mbit/s, else two.</summary>
    public static uint MinTsoSegs(ref TcpSock sk) => BbrMath.MinTsoSegs(sk);

    /// <summary>bbr_sndbuf_expand: provision 3 × cwnd of send buffer, since BBR may slow-start during recovery.</summary>
    public static uint SndbufExpand(ref TcpSock sk) => 3;

    /// <summary>
    /// bbr_get_info: struct tcp_bbr_info for INET_DIAG_BBRINFO (or VEGASINFO) — bandwidth in bytes/s as two u32
    /// halves, min_rtt in µs, and the two gains in 1/256.
    /// </summary>
    /// <returns><see cref="InfoSize"/> with <paramref name="attr"/> = <see cref="TcpCcInfo.InetDiagBbrInfo"/>, or 0 if not asked.</returns>
    public static ulong GetInfo(ref TcpSock sk, uint ext, ref int attr, Span<byte> info)
    {
        if ((ext & (1u << (TcpCcInfo.InetDiagBbrInfo - 1))) == 0 && (ext & (1u << (TcpCcInfo.InetDiagVegasInfo - 1))) == 0)
        {
            return 0;
        }
        ref var bbr = ref BbrMath.Ca(ref sk);
        ulong bw = unchecked((ulong)BbrMath.Bw(bbr) * sk.MssCache * TcpTime.UsecPerSec) >> BbrMath.BwScale;
        info[..InfoSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(info, (uint)bw);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], (uint)(bw >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], bbr.MinRttUs);
        BinaryPrimitives.WriteUInt32LittleEndian(info[12..], bbr.PacingGain);
        BinaryPrimitives.WriteUInt32LittleEndian(info[16..], bbr.CwndGain);
        attr = TcpCcInfo.InetDiagBbrInfo;
        return InfoSize;
    }
}
