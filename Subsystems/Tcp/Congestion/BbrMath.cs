using System.Runtime.CompilerServices;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// BBR v1 as net/ipv4/tcp_bbr.c writes it, in fixed point: rates in packets per µs scaled by 2^24 (BW_SCALE), gains
/// in 1/256 (BBR_SCALE). This file holds the constants and the rate, BDP and cwnd arithmetic; BbrMath.Model.cs the
/// per-ACK model update, BbrMath.LongTerm.cs the policer detector. <see cref="Bbr"/> is the ops table.
/// </summary>
/// <remarks>
/// Integer widths follow the kernel's: u32 quantities wrap and u64 intermediates are unchecked, and where the kernel
/// passes a u64 to a u32 parameter (bbr_bw_to_pacing_rate, minmax_running_max) the value is truncated here too.
/// </remarks>
internal static partial class BbrMath
{
    /// <summary>BW_SCALE: rates are packets/µs &lt;&lt; 24 (one unit ≈ 715 bit/s at 1500-byte packets).</summary>
    public const int BwScale = 24;
    /// <summary>BW_UNIT.</summary>
    public const ulong BwUnit = 1UL << BwScale;
    /// <summary>BBR_SCALE: gains and ratios in 1/256.</summary>
    public const int BbrScale = 8;
    /// <summary>BBR_UNIT: a gain of 1.0.</summary>
    public const uint BbrUnit = 1u << BbrScale;

    /// <summary>bbr_high_gain = 2/ln 2 (739): STARTUP's pacing and cwnd gain, doubling the rate each round.</summary>
    public const uint HighGain = BbrUnit * 2885 / 1000 + 1;
    /// <summary>bbr_drain_gain = 1/high_gain (88): DRAIN's pacing gain, emptying STARTUP's queue in about a round.</summary>
    public const uint DrainGain = BbrUnit * 1000 / 2885;
    /// <summary>bbr_cwnd_gain = 2.0 (512): PROBE_BW's cwnd gain, tolerating delayed and stretched ACKs.</summary>
    public const uint CwndGain = BbrUnit * 2;
    /// <summary>CYCLE_LEN: phases in the PROBE_BW pacing-gain cycle.</summary>
    public const uint CycleLen = 8;
    /// <summary>bbr_cycle_rand: the cycle starts at a random one of this many phases.</summary>
    public const uint CycleRand = 7;
    /// <summary>bbr_bw_rtts = CYCLE_LEN + 2: the bandwidth filter's window, in rounds.</summary>
    public const uint BwRtts = CycleLen + 2;
    /// <summary>bbr_min_rtt_win_sec: the min_rtt filter's window.</summary>
    public const uint MinRttWinSec = 10;
    /// <summary>bbr_probe_rtt_mode_ms: least time spent at the minimum cwnd in PROBE_RTT.</summary>
    public const uint ProbeRttModeMs = 200;
    /// <summary>bbr_min_tso_rate: below this rate (bit/s) skip TSO (min_tso_segs 1).</summary>
    public const uint MinTsoRate = 1_200_000;
    /// <summary>bbr_pacing_margin_percent: pace about 1 % below the estimated bandwidth.</summary>
    public const uint PacingMarginPercent = 1;
    /// <summary>bbr_cwnd_min_target: the smallest cwnd, enough for two delayed-ACK pairs.</summary>
    public const uint CwndMinTarget = 4;
    /// <summary>bbr_full_bw_thresh: growth of at least 1.25× means the pipe may not be full.</summary>
    public const uint FullBwThresh = BbrUnit * 5 / 4;
    /// <summary>bbr_full_bw_cnt: rounds without that growth before the pipe is deemed full.</summary>
    public const uint FullBwCnt = 3;
    /// <summary>bbr_extra_acked_gain: gain on the ACK-aggregation cwnd allowance.</summary>
    public const uint ExtraAckedGain = BbrUnit;
    /// <summary>bbr_extra_acked_win_rtts: the aggregation max filter's window, in rounds.</summary>
    public const uint ExtraAckedWinRtts = 5;
    /// <summary>bbr_ack_epoch_acked_reset_thresh: restart the aggregation epoch beyond this many packets.</summary>
    public const uint AckEpochAckedResetThresh = 1u << 20;
    /// <summary>bbr_extra_acked_max_us: the aggregation allowance is at most this much time at the bandwidth.</summary>
    public const uint ExtraAckedMaxUs = 100 * 1000;

    /// <summary>bbr_pacing_gain[]: probe at 5/4, drain at 3/4, cruise at 1 for six phases.</summary>
    public static ReadOnlySpan<ushort> PacingGainCycle => [(ushort)(BbrUnit * 5 / 4), (ushort)(BbrUnit * 3 / 4),
        (ushort)BbrUnit, (ushort)BbrUnit, (ushort)BbrUnit, (ushort)BbrUnit, (ushort)BbrUnit, (ushort)BbrUnit];

    /// <summary>sk_pacing_shift's default (10): TSO autosizing aims at about 1 ms of data per burst.</summary>
    public const int SkPacingShift = 10;
    /// <summary>
    /// GSO_LEGACY_MAX_SIZE − 1 − MAX_TCP_HEADER: the largest TSO burst in bytes, with MAX_TCP_HEADER = 320 as on
    /// x86-64 distribution kernels (L1_CACHE_ALIGN(128 + LL_MAX_HEADER 128 + 48 for tunnels)).
    /// </summary>
    public const uint TsoMaxBytes = 65536 - 1 - 320;
    /// <summary>sk_max_pacing_rate's default, ~0UL: no cap (SO_MAX_PACING_RATE is not modelled).</summary>
    public const ulong SkMaxPacingRate = ulong.MaxValue;
    /// <summary>SK_PACING_NONE and SK_PACING_NEEDED (enum sk_pacing).</summary>
    public const uint SkPacingNone = 0, SkPacingNeeded = 1;

    /// <summary>The private area as BBR's state (inet_csk_ca).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref BbrState Ca(ref TcpSock sk) => ref sk.CaPrivAs<BbrState>();

    /// <summary>bbr_max_bw: the windowed max bandwidth sample.</summary>
    public static uint MaxBw(in BbrState bbr) => bbr.Bw.Get();

    /// <summary>bbr_bw: the long-term (policed) rate while it is in use, else the windowed max.</summary>
    public static uint Bw(in BbrState bbr) => bbr.LtUseBw ? bbr.LtBw : MaxBw(bbr);

    /// <summary>bbr_extra_acked: the larger of the two aggregation windows' maxima (the last 5–10 rounds).</summary>
    public static ushort ExtraAcked(in BbrState bbr) => Math.Max(bbr.ExtraAcked0, bbr.ExtraAcked1);

    /// <summary>
    /// bbr_rate_bytes_per_sec: <paramref name="rate"/> (packets/µs &lt;&lt; 24) × mss × gain in bytes per second, less
    /// the 1 % pacing margin. The order of operations is the kernel's, chosen to stay within a u64.
    /// </summary>
    public static ulong RateBytesPerSec(uint mss, ulong rate, uint gain)
    {
        unchecked
        {
            rate *= mss;
            rate *= gain;
            rate >>= BbrScale;
            rate *= TcpTime.UsecPerSec / 100 * (100 - PacingMarginPercent);
            return rate >> BwScale;
        }
    }

    /// <summary>bbr_bw_to_pacing_rate: a bandwidth and gain as a pacing rate in bytes/s, capped by sk_max_pacing_rate.</summary>
    public static ulong BwToPacingRate(uint mss, uint bw, uint gain) => Math.Min(RateBytesPerSec(mss, bw, gain), SkMaxPacingRate);

    /// <summary>
    /// bbr_init_pacing_rate_from_rtt: high_gain × cwnd / RTT, with srtt if there is a sample (which sets
    /// has_seen_rtt) and a nominal 1 ms otherwise.
    /// </summary>
    public static void InitPacingRateFromRtt(ref TcpSock sk, ref BbrState bbr)
    {
        uint rttUs;
        if (sk.SrttUs != 0)
        {
            rttUs = Math.Max(sk.SrttUs >> 3, 1u);
            bbr.HasSeenRtt = true;
        }
        else
        {
            rttUs = TcpTime.UsecPerMsec;
        }
        ulong bw = (ulong)sk.SndCwnd * BwUnit / rttUs;
        sk.SkPacingRate = Math.Min(BwToPacingRate(sk.MssCache, (uint)bw, HighGain), sk.SkMaxPacingRate); // bbr_bw_to_pacing_rate's cap
    }

    /// <summary>
    /// bbr_set_pacing_rate: pace at gain × bw. Before the pipe is full the rate only ever rises, so a low early
    /// estimate cannot slow STARTUP; the first RTT sample re-seeds the rate from cwnd/srtt.
    /// </summary>
    public static void SetPacingRate(ref TcpSock sk, ref BbrState bbr, uint bw, uint gain)
    {
        ulong rate = Math.Min(BwToPacingRate(sk.MssCache, bw, gain), sk.SkMaxPacingRate); // bbr_bw_to_pacing_rate caps at sk_max_pacing_rate
        if (!bbr.HasSeenRtt && sk.SrttUs != 0)
        {
            InitPacingRateFromRtt(ref sk, ref bbr);
        }
        if (bbr.FullBwReached || rate > sk.SkPacingRate)
        {
            sk.SkPacingRate = rate;
        }
    }

    /// <summary>bbr_min_tso_segs: 1 below bbr_min_tso_rate (in bytes/s), else 2.</summary>
    public static uint MinTsoSegs(in TcpSock sk) => sk.SkPacingRate < (MinTsoRate >> 3) ? 1u : 2u;

    /// <summary>
    /// bbr_tso_segs_goal: segments per TSO burst as tcp_tso_autosize sizes it (about 1 ms at the pacing rate,
    /// sk_pacing_shift 10), at least min_tso_segs and at most 127.
    /// </summary>
    public static uint TsoSegsGoal(in TcpSock sk)
    {
        uint bytes = (uint)Math.Min(sk.SkPacingRate >> SkPacingShift, TsoMaxBytes);
        uint segs = Math.Max(bytes / sk.MssCache, MinTsoSegs(sk));
        return Math.Min(segs, 0x7Fu);
    }

    /// <summary>
    /// bbr_save_cwnd: remember the last good cwnd; in loss recovery or PROBE_RTT cwnd was cut temporarily, so keep
    /// the larger of the two.
    /// </summary>
    public static void SaveCwnd(in TcpSock sk, ref BbrState bbr)
    {
        if (bbr.PrevCaState < TcpCaState.Recovery && bbr.Mode != BbrMode.ProbeRtt)
        {
            bbr.PriorCwnd = sk.SndCwnd;
        }
        else
        {
            bbr.PriorCwnd = Math.Max(bbr.PriorCwnd, sk.SndCwnd);
        }
    }

    /// <summary>
    /// bbr_bdp: ceil(bw × min_rtt × gain) in packets; TCP_INIT_CWND before any RTT sample (min_rtt ~0U).
    /// </summary>
    public static uint Bdp(in BbrState bbr, uint bw, uint gain)
    {
        if (bbr.MinRttUs == ~0u)
        {
            return TcpSock.InitCwnd;
        }
        unchecked
        {
            ulong w = (ulong)bw * bbr.MinRttUs;
            return (uint)((((w * gain) >> BbrScale) + BwUnit - 1) / BwUnit);
        }
    }

    /// <summary>
    /// bbr_quantization_budget: room for three TSO bursts in flight (sender qdisc, sender TSO engine, receiver
    /// GRO/delayed ACK), rounded up to an even count, plus 2 in the probing phase so small BDPs still probe.
    /// </summary>
    public static uint QuantizationBudget(in TcpSock sk, in BbrState bbr, uint cwnd)
    {
        cwnd += 3 * TsoSegsGoal(sk);
        cwnd = (cwnd + 1) & ~1u;
        if (bbr.Mode == BbrMode.ProbeBw && bbr.CycleIdx == 0)
        {
            cwnd += 2;
        }
        return cwnd;
    }

    /// <summary>bbr_inflight: the BDP at a gain, with the quantization budget.</summary>
    public static uint Inflight(in TcpSock sk, in BbrState bbr, uint bw, uint gain) => QuantizationBudget(sk, bbr, Bdp(bbr, bw, gain));

    /// <summary>
    /// bbr_packets_in_net_at_edt: inflight at the earliest departure time of the next paced segment, less what the
    /// path delivers until then; when raising inflight the departing burst counts too.
    /// </summary>
    public static uint PacketsInNetAtEdt(in TcpSock sk, in BbrState bbr, uint inflightNow)
    {
        ulong nowNs = sk.TcpClockCache;
        ulong edtNs = Math.Max(sk.TcpWstampNs, nowNs);
        ulong intervalUs = (edtNs - nowNs) / 1000;
        uint intervalDelivered = (uint)(unchecked((ulong)Bw(bbr) * intervalUs) >> BwScale);
        uint inflightAtEdt = inflightNow;
        if (bbr.PacingGain > BbrUnit)
        {
            inflightAtEdt += TsoSegsGoal(sk);
        }
        return intervalDelivered >= inflightAtEdt ? 0 : inflightAtEdt - intervalDelivered;
    }

    /// <summary>
    /// bbr_ack_aggregation_cwnd: once the pipe is full, cwnd headroom for the excess data ACKs deliver in bursts,
    /// at most 100 ms at the estimated bandwidth.
    /// </summary>
    public static uint AckAggregationCwnd(in BbrState bbr)
    {
        uint aggrCwnd = 0;
        if (ExtraAckedGain != 0 && bbr.FullBwReached)
        {
            uint maxAggrCwnd = (uint)((ulong)Bw(bbr) * ExtraAckedMaxUs / BwUnit);
            aggrCwnd = (ExtraAckedGain * ExtraAcked(bbr)) >> BbrScale;
            aggrCwnd = Math.Min(aggrCwnd, maxAggrCwnd);
        }
        return aggrCwnd;
    }
}
