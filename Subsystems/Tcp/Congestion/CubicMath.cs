using System.Numerics;
using System.Runtime.CompilerServices;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The parts of net/ipv4/tcp_cubic.c that tools/testing/selftests/bpf/progs/bpf_cubic.c copies unchanged: the
/// parameters and precomputed scale factors, cubic_root, the resets, ssthresh and the idle-restart shift. Both
/// <see cref="Cubic"/> and the bpf_cubic consumer call these; the functions the BPF copy changes live in each.
/// </summary>
internal static class CubicMath
{
    /// <summary>BICTCP_BETA_SCALE: beta is in 1/1024.</summary>
    public const uint BetaScale = 1024;

    /// <summary>BICTCP_HZ: K and t are in 1/2^10 seconds.</summary>
    public const int BicHz = 10;

    /// <summary>beta: the multiplicative decrease, 717/1024 ≈ 0.7.</summary>
    public const uint Beta = 717;

    /// <summary>bic_scale: C scaled by 1024, 41/1024 ≈ 0.04 (times 10 below: C ≈ 0.4 for the 100 ms reference RTT).</summary>
    public const uint BicScale = 41;

    /// <summary>fast_convergence: release bandwidth faster when W_max shrinks.</summary>
    public const bool FastConvergence = true;

    /// <summary>tcp_friendliness: never grow slower than the Reno estimate.</summary>
    public const bool TcpFriendliness = true;

    /// <summary>hystart: hybrid slow start on.</summary>
    public const bool Hystart = true;

    /// <summary>HYSTART_ACK_TRAIN.</summary>
    public const int HystartAckTrain = 0x1;

    /// <summary>HYSTART_DELAY.</summary>
    public const int HystartDelay = 0x2;

    /// <summary>hystart_detect: both methods.</summary>
    public const int HystartDetect = HystartAckTrain | HystartDelay;

    /// <summary>hystart_low_window: HyStart acts only from this cwnd up.</summary>
    public const uint HystartLowWindow = 16;

    /// <summary>hystart_ack_delta_us: ACKs closer than this belong to one train.</summary>
    public const int HystartAckDeltaUs = 2000;

    /// <summary>HYSTART_MIN_SAMPLES: RTT samples per round before delay detection decides.</summary>
    public const byte HystartMinSamples = 8;

    /// <summary>HYSTART_DELAY_MIN: lower clamp of the delay threshold, 4 ms.</summary>
    public const uint HystartDelayMin = 4000;

    /// <summary>HYSTART_DELAY_MAX: upper clamp of the delay threshold, 16 ms.</summary>
    public const uint HystartDelayMax = 16000;

    /// <summary>beta_scale = 8·(1024+717)/3/(1024−717) = 15 in integer arithmetic: Reno's growth, scaled by 8.</summary>
    public const uint BetaScaleFriendly = 8 * (BetaScale + Beta) / 3 / (BetaScale - Beta);

    /// <summary>cube_rtt_scale = bic_scale·10 = 410: 1024·C/RTT for the 100 ms reference RTT.</summary>
    public const uint CubeRttScale = BicScale * 10;

    /// <summary>cube_factor = 2^(10+3·BICTCP_HZ) / (bic_scale·10): turns W_max − cwnd into K³ in BICTCP_HZ units.</summary>
    public const ulong CubeFactor = (1UL << (10 + 3 * BicHz)) / (BicScale * 10);

    /// <summary>GSO_MAX_SIZE as bpf_cubic.c defines it, and sk_gso_max_size of a socket on a 64 KiB-GSO device.</summary>
    public const ulong GsoMaxSize = 65536;

    // cbrt(x) MSB values for x in [0, 63] (Willy Tarreau's table): v = cbrt(x << 18) − 1, cbrt(x) = (v[x] + 10) >> 6.
    private static ReadOnlySpan<byte> CbrtTable =>
    [
        0, 54, 54, 54, 118, 118, 118, 118,
        123, 129, 134, 138, 143, 147, 151, 156,
        157, 161, 164, 168, 170, 173, 176, 179,
        181, 185, 187, 190, 192, 194, 197, 199,
        200, 202, 204, 206, 209, 211, 213, 215,
        217, 219, 221, 222, 224, 225, 227, 229,
        231, 232, 234, 236, 237, 239, 240, 242,
        244, 245, 246, 248, 250, 251, 252, 254,
    ];

    /// <summary>The private area as CUBIC's state (inet_csk_ca).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref CubicState Ca(ref TcpSock sk) => ref sk.CaPrivAs<CubicState>();

    /// <summary>
    /// cubic_root: the cube root of <paramref name="a"/> from the table indexed by its top 6 bits, then one
    /// Newton-Raphson step (average error ≈ 0.195% per the kernel's comment).
    /// </summary>
    /// <remarks>Mirrors <c>cubic_root()</c> in net/ipv4/tcp_cubic.c, u32/u64 arithmetic and all.</remarks>
    public static uint CubicRoot(ulong a)
    {
        int b = Fls64(a);
        if (b < 7)
        {
            // a in [0, 63]
            return ((uint)CbrtTable[(int)a] + 35) >> 6;
        }

        b = ((b * 84) >> 8) - 1;
        uint shift = (uint)(a >> (b * 3));
        uint x = (((uint)CbrtTable[(int)shift] + 10) << b) >> 6;

        // x' = (2x + a / x²) / 3, with x·(x − 1) for x² and ·341/1024 for /3.
        x = 2 * x + (uint)(a / ((ulong)x * (ulong)(x - 1)));
        return (x * 341) >> 10;
    }

    /// <summary>fls64: the 1-based index of the most significant set bit, 0 for 0.</summary>
    public static int Fls64(ulong x) => 64 - BitOperations.LeadingZeroCount(x);

    /// <summary>bictcp_reset: clears the state up to <c>unused</c>, and found.</summary>
    public static void Reset(ref CubicState ca)
    {
        // The kernel memsets everything before `unused`; the HyStart round fields survive.
        ca.Cnt = 0;
        ca.LastMaxCwnd = 0;
        ca.LastCwnd = 0;
        ca.LastTime = 0;
        ca.BicOriginPoint = 0;
        ca.BicK = 0;
        ca.DelayMin = 0;
        ca.EpochStart = 0;
        ca.AckCnt = 0;
        ca.TcpCwnd = 0;
        ca.Found = 0;
    }

    /// <summary>bictcp_hystart_reset: a new round starts now and ends when snd_nxt is acked.</summary>
    public static void HystartReset(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.RoundStart = ca.LastAck = ClockUs(in sk);
        ca.EndSeq = sk.SndNxt;
        ca.CurrRtt = ~0u;
        ca.SampleCnt = 0;
    }

    /// <summary>bictcp_clock_us: tcp_mstamp truncated to u32.</summary>
    public static uint ClockUs(in TcpSock sk) => (uint)sk.TcpMstamp;

    /// <summary>cubictcp_init / bpf_cubic_init: reset, start a HyStart round (initial_ssthresh is 0: unused).</summary>
    public static void Init(ref TcpSock sk)
    {
        Reset(ref Ca(ref sk));
        if (Hystart)
        {
            HystartReset(ref sk);
        }
    }

    /// <summary>
    /// cubictcp_recalc_ssthresh: ends the epoch, records W_max (reduced further under fast convergence when the
    /// window is below the previous W_max), and returns cwnd·717/1024, at least 2.
    /// </summary>
    public static uint RecalcSsthresh(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.EpochStart = 0;
        if (sk.SndCwnd < ca.LastMaxCwnd && FastConvergence)
        {
            ca.LastMaxCwnd = sk.SndCwnd * (BetaScale + Beta) / (2 * BetaScale);
        }
        else
        {
            ca.LastMaxCwnd = sk.SndCwnd;
        }
        return Math.Max(sk.SndCwnd * Beta / BetaScale, 2u);
    }

    /// <summary>cubictcp_state: entering Loss (RTO) forgets everything and starts a new HyStart round.</summary>
    public static void SetState(ref TcpSock sk, TcpCaState newState)
    {
        if (newState == TcpCaState.Loss)
        {
            Reset(ref Ca(ref sk));
            HystartReset(ref sk);
        }
    }

    /// <summary>
    /// cubictcp_cwnd_event(CA_EVENT_TX_START): after an application-limited idle period, shift epoch_start by the
    /// idle time so the window keeps following the curve instead of jumping ahead; never past now.
    /// </summary>
    public static void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        if (ev != TcpCaEvent.TxStart)
        {
            return;
        }
        ref var ca = ref Ca(ref sk);
        uint now = sk.TcpJiffies32;
        int delta = (int)(now - sk.Lsndtime);
        if (ca.EpochStart != 0 && delta > 0)
        {
            ca.EpochStart += (uint)delta;
            if (TcpTime.After(ca.EpochStart, now))
            {
                ca.EpochStart = now;
            }
        }
    }

    /// <summary>
    /// hystart_ack_delay: a TSO/GRO cushion added to the ACK-train threshold, the time to send four 64 KiB bursts at
    /// the pacing rate, capped at 1 ms; 0 without a pacing rate.
    /// </summary>
    public static uint HystartAckDelay(in TcpSock sk)
    {
        ulong rate = sk.SkPacingRate;
        if (rate == 0)
        {
            return 0;
        }
        return (uint)Math.Min(TcpTime.UsecPerMsec, GsoMaxSize * 4 * TcpTime.UsecPerSec / rate);
    }

    /// <summary>HYSTART_DELAY_THRESH: clamp(x, 4 ms, 16 ms).</summary>
    public static uint HystartDelayThresh(uint x) => Math.Clamp(x, HystartDelayMin, HystartDelayMax);

    /// <summary>
    /// The cubic target from the epoch's origin: delta = C/RTT·|t − K|³ in packets, above or below the origin.
    /// </summary>
    /// <param name="ca">The epoch: origin point and K.</param>
    /// <param name="t">Time since the epoch began plus delay_min, in BICTCP_HZ units (1/1024 s).</param>
    public static uint BicTarget(in CubicState ca, ulong t)
    {
        ulong offs = t < ca.BicK ? ca.BicK - t : t - ca.BicK;
        uint delta = (uint)((CubeRttScale * offs * offs * offs) >> (10 + 3 * BicHz));
        return t < ca.BicK ? ca.BicOriginPoint - delta : ca.BicOriginPoint + delta;
    }

    /// <summary>Starts an epoch: origin and K from W_max, Reno estimate synced with cwnd.</summary>
    public static void StartEpoch(ref CubicState ca, uint now, uint cwnd, uint acked)
    {
        ca.EpochStart = now;
        ca.AckCnt = acked;
        ca.TcpCwnd = cwnd;
        if (ca.LastMaxCwnd <= cwnd)
        {
            ca.BicK = 0;
            ca.BicOriginPoint = cwnd;
        }
        else
        {
            // K = cbrt((W_max − cwnd) · RTT / C) in 1/1024 s.
            ca.BicK = CubicRoot(CubeFactor * (ca.LastMaxCwnd - cwnd));
            ca.BicOriginPoint = ca.LastMaxCwnd;
        }
    }

    /// <summary>The part of bictcp_update after the target: packets per increment from the target's distance.</summary>
    public static void CntFromTarget(ref CubicState ca, uint cwnd, uint bicTarget)
    {
        ca.Cnt = bicTarget > cwnd ? cwnd / (bicTarget - cwnd) : 100 * cwnd;
        // The first growth may be too conservative while the bandwidth is unknown: at least 5% per RTT.
        if (ca.LastMaxCwnd == 0 && ca.Cnt > 20)
        {
            ca.Cnt = 20;
        }
    }

    /// <summary>TCP friendliness, second half: if the Reno estimate is ahead of cwnd, grow at least as fast.</summary>
    public static void ClampToReno(ref CubicState ca, uint cwnd)
    {
        if (ca.TcpCwnd > cwnd)
        {
            uint delta = ca.TcpCwnd - cwnd;
            uint maxCnt = cwnd / delta;
            if (ca.Cnt > maxCnt)
            {
                ca.Cnt = maxCnt;
            }
        }
    }
}
