using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The built-in bbr against net/ipv4/tcp_bbr.c and lib/win_minmax.c: the fixed-point constants and arithmetic,
/// the bandwidth filter, the STARTUP → DRAIN → PROBE_BW ⇄ PROBE_RTT transitions, and the other hooks. Scenario tests
/// over the stack are in <see cref="BbrScenarioTests"/>.
/// </summary>
[Category("Tcp")]
public sealed class BbrTests
{
    private const uint Mss = 1448;
    /// <summary>0.01 packets/µs (10 000 packets/s) in BW units: 2^24 / 100, truncated.</summary>
    private const uint TenKpps = 167_772;

    [Test]
    public void State_FitsIcskCaPriv_ExactlyAsTheKernelLaysItOut()
    {
        Assert.That(Unsafe.SizeOf<BbrState>(), Is.LessThanOrEqualTo(CaPriv.Size));
        Assert.That(Unsafe.SizeOf<BbrState>(), Is.EqualTo(104), "struct bbr: 104 bytes on x86-64");
        Assert.That(Unsafe.SizeOf<Minmax>(), Is.EqualTo(24));
    }

    [Test]
    public void BitFields_StoreTheirWidthOnly_AndDoNotOverlap()
    {
        var bbr = default(BbrState);
        bbr.Mode = BbrMode.ProbeRtt;
        bbr.PrevCaState = TcpCaState.Loss;
        bbr.LtRttCnt = 128; // 7 bits: wraps to 0 as the C bitfield does
        bbr.LtUseBw = true;
        bbr.PacingGain = BbrMath.HighGain;
        bbr.CwndGain = 1024 + 5; // 10 bits
        bbr.CycleIdx = 7;
        bbr.AckEpochAcked = 0xFFFFF;
        bbr.ExtraAckedWinRtts = 31;
        Assert.That((bbr.Mode, bbr.PrevCaState, bbr.LtRttCnt, bbr.LtUseBw, bbr.RoundStart), Is.EqualTo((BbrMode.ProbeRtt, TcpCaState.Loss, 0u, true, false)));
        Assert.That((bbr.PacingGain, bbr.CwndGain, bbr.CycleIdx, bbr.FullBwReached), Is.EqualTo((739u, 5u, 7u, false)));
        Assert.That((bbr.AckEpochAcked, bbr.ExtraAckedWinRtts, bbr.ExtraAckedWinIdx), Is.EqualTo((0xFFFFFu, 31u, 0u)));
    }

    [Test]
    public void Gains_AreTheKernelsFixedPointValues()
    {
        Assert.That((BbrMath.BbrUnit, BbrMath.BwUnit), Is.EqualTo((256u, 1UL << 24)));
        Assert.That(BbrMath.HighGain, Is.EqualTo(739u), "256·2885/1000 + 1 ≈ 2/ln 2");
        Assert.That(BbrMath.DrainGain, Is.EqualTo(88u), "256·1000/2885 ≈ 1/high_gain");
        Assert.That(BbrMath.CwndGain, Is.EqualTo(512u));
        Assert.That(BbrMath.PacingGainCycle.ToArray(), Is.EqualTo(new ushort[] { 320, 192, 256, 256, 256, 256, 256, 256 }));
        Assert.That((BbrMath.BwRtts, BbrMath.FullBwThresh, BbrMath.LtBwRatio, BbrMath.LtBwDiff), Is.EqualTo((10u, 320u, 32u, 500u)));
    }

    [TestCase(256u, 1_433_520_000UL)] // 1 packet/µs × 1448 B × 0.99
    [TestCase(320u, 1_791_900_000UL)] // × 5/4
    [TestCase(192u, 1_075_140_000UL)] // × 3/4
    [TestCase(739u, 4_138_169_062UL)] // × 739/256, floored after the 1 % margin
    public void PacingRate_BwTimesGain_OnePercentBelow(uint gain, ulong bytesPerSec)
    {
        Assert.That(BbrMath.BwToPacingRate(Mss, 1u << 24, gain), Is.EqualTo(bytesPerSec));
    }

    [Test]
    public void PacingRate_OnlyRisesUntilThePipeIsFull()
    {
        var clock = new BbrClock();
        ref var sk = ref clock.Sk;
        sk.SkPacingRate = 50_000_000;
        BbrMath.SetPacingRate(ref sk, ref clock.Ca, TenKpps, BbrMath.BbrUnit);
        Assert.That(sk.SkPacingRate, Is.EqualTo(50_000_000UL), "STARTUP never lowers the rate");
        clock.Ca.FullBwReached = true;
        BbrMath.SetPacingRate(ref sk, ref clock.Ca, TenKpps, BbrMath.BbrUnit);
        Assert.That(sk.SkPacingRate, Is.EqualTo(BbrMath.BwToPacingRate(Mss, TenKpps, 256)));
        Assert.That(sk.SkPacingRate, Is.InRange(14_335_000UL, 14_336_000UL), "10 000 packets/s × 1448 B × 0.99");
    }

    [Test]
    public void Init_PacesAtHighGainTimesCwndOverSrtt_AndAsksForPacing()
    {
        var clock = new BbrClock(handshakeRttUs: 20_000);
        ref var sk = ref clock.Sk;
        ref var bbr = ref clock.Ca;
        Assert.That((sk.SkPacingStatus, sk.SndSsthresh), Is.EqualTo((1u, TcpSock.InfiniteSsthresh)));
        Assert.That((bbr.Mode, bbr.MinRttUs, bbr.HasSeenRtt, bbr.Bw.Get()), Is.EqualTo((BbrMode.Startup, 20_000u, true, 0u)));
        uint bw = (uint)(10UL * BbrMath.BwUnit / 20_000);
        Assert.That(sk.SkPacingRate, Is.EqualTo(BbrMath.BwToPacingRate(Mss, bw, BbrMath.HighGain)));
        Assert.That(sk.SkPacingRate, Is.InRange(2_060_000UL, 2_075_000UL), "2.885 × 10 × 1448 B / 20 ms × 0.99");
    }

    [Test]
    public void Init_OnASocketThatDeliveredData_TheFirstRoundEndsAfterWhatIsInFlightNow()
    {
        // bbr_init: next_rtt_delivered = tp->delivered. Switched to mid-connection (bpf_setsockopt TCP_CONGESTION, or
        // the default after an ejection), the first ACK for data sent before the switch does not end a round.
        var sk = TcpTestSystem.Socket();
        sk.Delivered = 5000;
        Bbr.Ops.Init!(ref sk);
        ref var bbr = ref BbrMath.Ca(ref sk);
        Assert.That(bbr.NextRttDelivered, Is.EqualTo(5000u));
        sk.Delivered = 5002;
        var rs = new RateSample { PriorDelivered = 4990, Delivered = 12, IntervalUs = 20_000 };
        BbrMath.UpdateBw(ref sk, ref bbr, rs);
        Assert.That((bbr.RoundStart, bbr.RttCnt), Is.EqualTo((false, 0u)), "sent before init: no round ends");
        rs = new RateSample { PriorDelivered = 5000, Delivered = 2, IntervalUs = 20_000 };
        BbrMath.UpdateBw(ref sk, ref bbr, rs);
        Assert.That((bbr.RoundStart, bbr.RttCnt), Is.EqualTo((true, 1u)), "sent after init: the round ends");
    }

    [Test]
    public void Init_NoRttYet_NominalOneMillisecond()
    {
        var sk = TcpTestSystem.Socket();
        sk.RttMin.Reset(0, ~0u);
        Bbr.Ops.Init!(ref sk);
        Assert.That(BbrMath.Ca(ref sk).HasSeenRtt, Is.False);
        Assert.That(sk.SkPacingRate, Is.EqualTo(BbrMath.BwToPacingRate(Mss, (uint)(10UL * BbrMath.BwUnit / 1000), BbrMath.HighGain)));
        Assert.That(BbrMath.Bdp(BbrMath.Ca(ref sk), TenKpps, BbrMath.BbrUnit), Is.EqualTo(TcpSock.InitCwnd), "no min_rtt: TCP_INIT_CWND");
    }

    [Test]
    public void Bdp_CeilOfBwTimesMinRttTimesGain()
    {
        var bbr = new BbrState { MinRttUs = 20_000 };
        Assert.That(BbrMath.Bdp(bbr, TenKpps, 256), Is.EqualTo(200u), "ceil(199.9999)");
        Assert.That(BbrMath.Bdp(bbr, TenKpps, 512), Is.EqualTo(400u));
        Assert.That(BbrMath.Bdp(bbr, TenKpps, 192), Is.EqualTo(150u));
        Assert.That(BbrMath.Bdp(bbr, 1, 256), Is.EqualTo(1u), "rounded up, never 0 for a non-zero rate");
    }

    [Test]
    public void TargetCwnd_AddsThreeTsoBursts_RoundsToEven_PlusTwoWhenProbing()
    {
        var sk = TcpTestSystem.Socket();
        var bbr = new BbrState { MinRttUs = 20_000, Mode = BbrMode.ProbeBw, CycleIdx = 2 };
        sk.SkPacingRate = 14_480_000; // >> 10 = 14140 B per burst = 9 segments
        Assert.That(BbrMath.TsoSegsGoal(sk), Is.EqualTo(9u));
        Assert.That(BbrMath.Inflight(sk, bbr, TenKpps, 512), Is.EqualTo(428u), "400 + 27, rounded up to even");
        bbr.CycleIdx = 0;
        Assert.That(BbrMath.Inflight(sk, bbr, TenKpps, 512), Is.EqualTo(430u), "the 5/4 phase gets 2 more");
        sk.SkPacingRate = 100_000; // below 1.2 Mbit/s: min_tso_segs 1
        bbr.CycleIdx = 2;
        Assert.That((BbrMath.MinTsoSegs(sk), BbrMath.TsoSegsGoal(sk)), Is.EqualTo((1u, 1u)));
        Assert.That(BbrMath.Inflight(sk, bbr, TenKpps, 256), Is.EqualTo(204u), "200 + 3, rounded up to even");
        sk.SkPacingRate = 1_000_000_000;
        Assert.That(BbrMath.TsoSegsGoal(sk), Is.EqualTo(45u), "capped by the 64 KB GSO size: 65215 / 1448");
    }

    [TestCase(149_999UL, 1u)]
    [TestCase(150_000UL, 2u)]
    public void MinTsoSegs_OneBelowOnePointTwoMbit(ulong pacingRate, uint segs)
    {
        var sk = TcpTestSystem.Socket();
        sk.SkPacingRate = pacingRate;
        Assert.That(Bbr.Ops.MinTsoSegs!(ref sk), Is.EqualTo(segs));
        Assert.That(Bbr.Ops.SndbufExpand!(ref sk), Is.EqualTo(3u));
    }

    [Test]
    public void WindowedMax_HoldsForTheWindow_ThenFallsToTheBestLaterSample()
    {
        var m = default(Minmax);
        m.Reset(0, 0);
        uint[] got =
        [
            m.RunningMax(10, 0, 100),
            m.RunningMax(10, 2, 60),  // below the max, not yet a quarter window on: no new choice
            m.RunningMax(10, 3, 50),  // a quarter window on: second and third choice
            m.RunningMax(10, 6, 40),  // half a window on: third choice
            m.RunningMax(10, 11, 30), // the max is 11 old: the second choice takes over
            m.RunningMax(10, 14, 20),
            m.RunningMax(10, 15, 45), // a new max forgets the rest
            m.RunningMax(10, 40, 1),  // nothing left in the window
        ];
        Assert.That(got, Is.EqualTo(new uint[] { 100, 100, 100, 100, 50, 40, 45, 1 }));
    }

    [Test]
    public void WindowedMin_IsTcpMinRtt()
    {
        var m = default(Minmax);
        m.Reset(0, ~0u);
        Assert.That(m.RunningMin(300_000, 1, 20_000), Is.EqualTo(20_000u));
        Assert.That(m.RunningMin(300_000, 2, 25_000), Is.EqualTo(20_000u));
        Assert.That(m.RunningMin(300_000, 400_000, 30_000), Is.EqualTo(30_000u), "the 20 ms sample aged out");
    }

    [Test]
    public void BandwidthFilter_IsTenRoundsLong()
    {
        var clock = new BbrClock { InflightCap = 200 };
        for (int i = 0; i < 6; i++)
        {
            clock.Round(0.01, 20_000);
        }
        Assert.That(BbrMath.MaxBw(clock.Ca), Is.EqualTo(TenKpps));
        for (int i = 0; i < 10; i++)
        {
            clock.Round(0.005, 20_000);
        }
        Assert.That(BbrMath.MaxBw(clock.Ca), Is.EqualTo(TenKpps), "still within bbr_bw_rtts = 10 rounds");
        clock.Round(0.005, 20_000);
        Assert.That(BbrMath.MaxBw(clock.Ca), Is.EqualTo(TenKpps / 2), "11 rounds later the old max is gone");
    }

    [Test]
    public void AppLimitedSample_BelowTheMax_IsIgnored()
    {
        var clock = new BbrClock { InflightCap = 200 };
        clock.Round(0.01, 20_000);
        clock.Round(0.01, 20_000);
        clock.Sk.AppLimited = clock.Sk.Delivered + 1000;
        var bbr = clock.Ca;
        var rs = new RateSample { Delivered = 50, IntervalUs = 20_000, IsAppLimited = true, PriorDelivered = clock.Sk.Delivered, RttUs = -1 };
        BbrMath.UpdateBw(ref clock.Sk, ref bbr, rs);
        Assert.That(BbrMath.MaxBw(bbr), Is.EqualTo(TenKpps));
    }

    [Test]
    public void FullBw_ThreeRoundsWithoutQuarterGrowth_StartupEnds_DrainThenProbeBw()
    {
        var clock = new BbrClock();
        ref var bbr = ref clock.Ca;
        clock.Round(0.01, 20_000);
        clock.Round(0.01, 20_000);
        Assert.That((bbr.RttCnt, bbr.FullBw, bbr.FullBwCnt), Is.EqualTo((2u, TenKpps, 0u)));
        clock.Round(0.01, 20_000);
        clock.Round(0.01, 20_000);
        Assert.That((bbr.Mode, bbr.FullBwCnt, bbr.FullBwReached), Is.EqualTo((BbrMode.Startup, 2u, false)));
        clock.Round(0.01, 20_000);
        Assert.That((bbr.Mode, bbr.FullBwCnt, bbr.FullBwReached), Is.EqualTo((BbrMode.Drain, 3u, true)));
        // ssthresh = bbr_inflight(max_bw, 1.0) at STARTUP's pacing rate (41 MB/s: 27-segment TSO bursts): 200 + 81, even.
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(282u));
        Assert.That((bbr.PacingGain, bbr.CwndGain), Is.EqualTo((BbrMath.DrainGain, BbrMath.HighGain)));

        clock.InflightCap = 200; // the queue drains to one BDP
        clock.Sk.PacketsOut = 200;
        clock.Ack(0.01, 20_000);
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw));
        Assert.That(bbr.CycleIdx, Is.Not.EqualTo(1u), "never starts in the 3/4 phase");
        Assert.That((bbr.PacingGain, bbr.CwndGain), Is.EqualTo(((uint)BbrMath.PacingGainCycle[(int)bbr.CycleIdx], BbrMath.CwndGain)));
    }

    [Test]
    public void FullBw_GrowthIsMeasuredFromTheLastQuarterStep_NotTheLastRound()
    {
        var clock = new BbrClock();
        double rate = 0.002;
        for (int i = 0; i < 6; i++)
        {
            rate *= 1.3;
            clock.Round(rate, 20_000);
        }
        Assert.That((clock.Ca.Mode, clock.Ca.FullBwCnt), Is.EqualTo((BbrMode.Startup, 0u)), "1.3× per round: still filling");
        uint[] counts = new uint[5];
        double[] steps = [1.2, 1.2, 1.1, 1.1, 1.0];
        for (int i = 0; i < steps.Length; i++)
        {
            rate *= steps[i];
            clock.Round(rate, 20_000);
            counts[i] = clock.Ca.FullBwCnt;
        }
        // 1.2 then 1.44 over full_bw (a 25 % step: reset); then 1.1, 1.21, 1.21: three rounds without one.
        Assert.That(counts, Is.EqualTo(new uint[] { 1, 0, 1, 2, 3 }));
        Assert.That(clock.Ca.FullBwReached, Is.True);
    }

    [Test]
    public void ProbeRtt_TenSecondsWithoutNewMin_CwndFourFor200MsAndARound_ThenRestored()
    {
        var clock = new BbrClock { InflightCap = 200 };
        ref var sk = ref clock.Sk;
        ref var bbr = ref clock.Ca;
        Assert.That(clock.AckUntil(0.01, 20_000, c => c.Ca.Mode == BbrMode.ProbeBw, 10_000), Is.True);
        uint stamp = bbr.MinRttStamp;

        // A standing queue: every RTT sample is 25 ms, above min_rtt, until the 10 s filter expires.
        uint cwndBefore = 0;
        Assert.That(clock.AckUntil(0.01, 25_000, c =>
        {
            if (c.Ca.Mode != BbrMode.ProbeRtt)
            {
                cwndBefore = c.Sk.SndCwnd;
            }
            return c.Ca.Mode == BbrMode.ProbeRtt;
        }), Is.True);
        uint entered = sk.TcpJiffies32;
        Assert.That(entered - stamp, Is.InRange(10_001u, 10_002u), "the first ACK after min_rtt_stamp + 10 s");
        Assert.That(sk.SndCwnd, Is.EqualTo(4u));
        Assert.That(bbr.PriorCwnd, Is.EqualTo(cwndBefore), "bbr_save_cwnd");
        Assert.That(bbr.MinRttUs, Is.EqualTo(25_000u), "the expired filter takes the current sample");
        Assert.That(sk.AppLimited, Is.Not.Zero, "PROBE_RTT's samples are app-limited");
        Assert.That((bbr.PacingGain, bbr.CwndGain), Is.EqualTo((256u, 256u)));

        // The queue is gone: 4 packets per 20 ms round.
        uint maxCwnd = 0;
        Assert.That(clock.AckUntil(4.0 / 20_000, 20_000, c =>
        {
            if (c.Ca.Mode == BbrMode.ProbeRtt)
            {
                maxCwnd = Math.Max(maxCwnd, c.Sk.SndCwnd);
            }
            return c.Ca.Mode != BbrMode.ProbeRtt;
        }, 1000), Is.True);
        uint held = sk.TcpJiffies32 - entered;
        Assert.That(maxCwnd, Is.EqualTo(4u));
        Assert.That(held, Is.InRange(200u, 240u), "≥ bbr_probe_rtt_mode_ms after inflight reached 4, and a round");
        // cwnd = max(cwnd, prior_cwnd), then this ACK's bbr_set_cwnd caps it at the PROBE_BW target.
        uint target = BbrMath.QuantizationBudget(sk, bbr, BbrMath.Bdp(bbr, BbrMath.Bw(bbr), BbrMath.CwndGain) + BbrMath.AckAggregationCwnd(bbr));
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw));
        Assert.That(sk.SndCwnd, Is.EqualTo(Math.Min(cwndBefore + 2, target)));
        Assert.That(sk.SndCwnd, Is.GreaterThan(400u));
        Assert.That((bbr.MinRttUs, bbr.MinRttStamp), Is.EqualTo((20_000u, sk.TcpJiffies32)));
    }

    [Test]
    public void ProbeRtt_NotWhileRestartingFromIdle()
    {
        var clock = new BbrClock { InflightCap = 200 };
        clock.AckUntil(0.01, 20_000, c => c.Ca.Mode == BbrMode.ProbeBw, 10_000);
        ref var sk = ref clock.Sk;
        sk.TcpMstamp += 11_000_000; // idle past the min_rtt window
        sk.AppLimited = sk.Delivered + 10;
        Bbr.Ops.CwndEvent!(ref sk, TcpCaEvent.TxStart);
        Assert.That((clock.Ca.IdleRestart, clock.Ca.AckEpochMstamp, clock.Ca.AckEpochAcked), Is.EqualTo((true, sk.TcpMstamp, 0u)));
        Assert.That(sk.SkPacingRate, Is.EqualTo(BbrMath.BwToPacingRate(Mss, TenKpps, 256)), "pace at 1.0 × bw after idle");
        var bbr = clock.Ca;
        BbrMath.UpdateMinRtt(ref sk, ref bbr, new RateSample { RttUs = 25_000, Delivered = 0 });
        Assert.That(bbr.Mode, Is.EqualTo(BbrMode.ProbeBw), "idle restart defers PROBE_RTT");
        Assert.That(bbr.MinRttUs, Is.EqualTo(25_000u));
    }

    [Test]
    public void Ssthresh_SavesCwnd_ReturnsCurrentSsthresh()
    {
        var clock = new BbrClock();
        ref var sk = ref clock.Sk;
        sk.SndCwnd = 80;
        sk.SndSsthresh = 123;
        Assert.That(Bbr.Ops.Ssthresh!(ref sk), Is.EqualTo(123u));
        Assert.That(clock.Ca.PriorCwnd, Is.EqualTo(80u));
        clock.Ca.PrevCaState = TcpCaState.Recovery; // in recovery cwnd was cut: keep the larger
        sk.SndCwnd = 20;
        Bbr.Ops.Ssthresh!(ref sk);
        Assert.That(clock.Ca.PriorCwnd, Is.EqualTo(80u));
    }

    [Test]
    public void Recovery_FirstRoundConservesPackets_ExitRestoresCwnd()
    {
        var clock = new BbrClock { InflightCap = 200 };
        clock.AckUntil(0.01, 20_000, c => c.Ca.Mode == BbrMode.ProbeBw, 10_000);
        ref var sk = ref clock.Sk;
        uint cwnd = sk.SndCwnd;
        sk.SndSsthresh = Bbr.Ops.Ssthresh!(ref sk); // tcp_enter_recovery
        sk.IcskCaState = TcpCaState.Recovery;
        sk.LostOut = 3;
        clock.InflightCap = 150;
        sk.PacketsOut = 150;
        clock.Ack(0.01, 20_000, acked: 2, losses: 3);
        Assert.That(clock.Ca.PacketConservation, Is.True);
        Assert.That(sk.SndCwnd, Is.EqualTo(147u + 2), "cwnd = in flight (150 − 3 lost) + acked");
        sk.IcskCaState = TcpCaState.Open;
        sk.LostOut = 0;
        clock.Ack(0.01, 20_000);
        Assert.That((clock.Ca.PacketConservation, sk.SndCwnd), Is.EqualTo((false, cwnd)), "restored to prior_cwnd");
    }

    [Test]
    public void UndoAndRto_ResetFullPipeDetection()
    {
        var clock = new BbrClock { InflightCap = 200 };
        clock.AckUntil(0.01, 20_000, c => c.Ca.Mode == BbrMode.ProbeBw, 10_000);
        ref var sk = ref clock.Sk;
        Assert.That(Bbr.Ops.UndoCwnd!(ref sk), Is.EqualTo(sk.SndCwnd));
        Assert.That((clock.Ca.FullBw, clock.Ca.FullBwCnt, clock.Ca.FullBwReached), Is.EqualTo((0u, 0u, true)));
        clock.Ca.FullBw = 5;
        Bbr.Ops.SetState!(ref sk, TcpCaState.Recovery);
        Assert.That(clock.Ca.FullBw, Is.EqualTo(5u), "only Loss matters");
        Bbr.Ops.SetState!(ref sk, TcpCaState.Loss);
        Assert.That((clock.Ca.FullBw, clock.Ca.RoundStart, clock.Ca.PrevCaState), Is.EqualTo((0u, true, TcpCaState.Loss)));
        Assert.That(clock.Ca.LtIsSampling, Is.True, "the RTO's loss starts long-term sampling");
    }

    [Test]
    public void LongTerm_TwoConsistentLossyIntervals_UseTheirAverage()
    {
        var sk = TcpTestSystem.Socket();
        var bbr = new BbrState { PacingGain = 320 };
        BbrMath.LtBwIntervalDone(sk, ref bbr, 100_000);
        Assert.That((bbr.LtBw, bbr.LtUseBw), Is.EqualTo((100_000u, false)), "first interval: remember it");
        BbrMath.LtBwIntervalDone(sk, ref bbr, 150_000);
        Assert.That((bbr.LtBw, bbr.LtUseBw), Is.EqualTo((150_000u, false)), "50 % apart: not consistent");
        BbrMath.LtBwIntervalDone(sk, ref bbr, 140_000);
        Assert.That((bbr.LtBw, bbr.LtUseBw, bbr.PacingGain), Is.EqualTo((145_000u, true, 256u)), "within 1/8: policed");
        Assert.That(BbrMath.Bw(bbr), Is.EqualTo(145_000u));
    }

    [Test]
    public void ProbeBwStart_RandomPhase_DeterministicPerSocketStream()
    {
        var phases = new HashSet<uint>();
        for (ulong seed = 0; seed < 64; seed++)
        {
            var sk = TcpTestSystem.Socket();
            sk.PrandomState = seed;
            var bbr = default(BbrState);
            BbrMath.ResetProbeBwMode(ref sk, ref bbr);
            var again = TcpTestSystem.Socket();
            again.PrandomState = seed;
            var bbr2 = default(BbrState);
            BbrMath.ResetProbeBwMode(ref again, ref bbr2);
            Assert.That(bbr2.CycleIdx, Is.EqualTo(bbr.CycleIdx));
            phases.Add(bbr.CycleIdx);
        }
        Assert.That(phases, Is.EquivalentTo(new uint[] { 0, 2, 3, 4, 5, 6, 7 }), "7 − below(7), advanced: every phase but 3/4");
    }

    [Test]
    public void GetInfo_ReportsBandwidthMinRttAndGains()
    {
        var clock = new BbrClock { InflightCap = 200 };
        clock.AckUntil(0.01, 20_000, c => c.Ca.Mode == BbrMode.ProbeBw, 10_000);
        Span<byte> info = stackalloc byte[64];
        int attr = 0;
        Assert.That(Bbr.Ops.GetInfo!(ref clock.Sk, 0, ref attr, info), Is.Zero);
        ulong n = Bbr.Ops.GetInfo!(ref clock.Sk, 1u << (TcpCcInfo.InetDiagBbrInfo - 1), ref attr, info);
        Assert.That((n, attr), Is.EqualTo(((ulong)Bbr.InfoSize, TcpCcInfo.InetDiagBbrInfo)));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(info), Is.EqualTo((uint)((ulong)TenKpps * Mss * 1_000_000 >> 24)), "≈ 14.48 MB/s");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(info[8..]), Is.EqualTo(20_000u));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(info[12..]), Is.EqualTo(clock.Ca.PacingGain));
    }

    [Test]
    public void Registry_BbrIsBuiltIn_NonRestricted_CongControlOnly()
    {
        var ca = new TcpCongestionRegistry().Find("bbr");
        Assert.That(ca, Is.SameAs(Bbr.Ops));
        Assert.That((ca!.Flags, ca.CongAvoid, ca.CongControl is not null), Is.EqualTo((TcpCongFlags.NonRestricted, (CongAvoidFn?)null, true)));
    }
}
