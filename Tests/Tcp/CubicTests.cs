using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The built-in cubic against expectations derived from net/ipv4/tcp_cubic.c: ssthresh and fast convergence, the
/// cubic curve W(t) = C(t − K)³ + W_max with C = 410/1024, TCP friendliness, HyStart, and the epoch bookkeeping.
/// </summary>
[Category("Tcp")]
public sealed class CubicTests
{
    private const double C = 410.0 / 1024;

    private static AckClock InCongestionAvoidance(uint cwnd, uint rttUs)
    {
        var clock = new AckClock(Cubic.Ops, cwnd);
        clock.Sk.SndSsthresh = cwnd / 2;
        clock.Round(rttUs);
        return clock;
    }

    [Test]
    public void Init_SsthreshUntouched_HystartRoundStarted()
    {
        var clock = new AckClock(Cubic.Ops);
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(TcpSock.InfiniteSsthresh), "initial_ssthresh is 0");
        Assert.That((ca.EndSeq, ca.RoundStart, ca.CurrRtt, ca.Found), Is.EqualTo((clock.Sk.SndNxt, (uint)clock.NowUs, ~0u, (byte)0)));
    }

    [Test]
    public void Ssthresh_AtOrAboveLastMax_RecordsCwnd_ReturnsSeventyPercent()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        clock.Sk.SndCwnd = 100;
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        Assert.That(Cubic.Ops.Ssthresh!(ref clock.Sk), Is.EqualTo(70u), "100·717/1024 = 70.02");
        Assert.That((ca.LastMaxCwnd, ca.EpochStart), Is.EqualTo((100u, 0u)));
    }

    [Test]
    public void Ssthresh_BelowLastMax_FastConvergenceLowersWmax()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        ca.LastMaxCwnd = 100;
        clock.Sk.SndCwnd = 80;
        Assert.That(Cubic.Ops.Ssthresh!(ref clock.Sk), Is.EqualTo(56u), "80·717/1024 = 56.01");
        Assert.That(ca.LastMaxCwnd, Is.EqualTo(68u), "80·(1024+717)/2048 = 68.01");
    }

    [TestCase(1u)]
    [TestCase(2u)]
    public void Ssthresh_TinyWindow_AtLeastTwo(uint cwnd)
    {
        var sk = TcpTestSystem.Socket(cwnd);
        Cubic.Ops.Init!(ref sk);
        Assert.That(Cubic.Ops.Ssthresh!(ref sk), Is.EqualTo(2u));
    }

    /// <summary>
    /// After a loss at W_max = 100 the window restarts at 70: K = cbrt(30/C) ≈ 4.216 s, in 1/1024 s. Targets are the
    /// curve truncated to whole packets (delta rounds down, so below the origin the target is up to one packet high).
    /// </summary>
    [TestCase(0.0)]
    [TestCase(1.0)]
    [TestCase(4.216)]
    [TestCase(5.216)]
    [TestCase(9.216)]
    public void Epoch_KAndTargets_FollowTheCubicCurve(double seconds)
    {
        var ca = new CubicState { LastMaxCwnd = 100 };
        CubicMath.StartEpoch(ref ca, now: 1, cwnd: 70, acked: 1);
        double kTrue = 1024 * Math.Cbrt(30 / C);
        Assert.That(ca.BicK, Is.EqualTo(kTrue).Within(1 + 0.002 * kTrue), "cubic_root's error bound");
        Assert.That(ca.BicOriginPoint, Is.EqualTo(100u));

        ulong t = (ulong)(seconds * 1024);
        double expected = 100 + C * Math.Pow((t - (double)ca.BicK) / 1024, 3);
        Assert.That((double)CubicMath.BicTarget(in ca, t), Is.EqualTo(expected).Within(1));
    }

    /// <summary>
    /// Driven by ACKs (RTT 100 ms) after a loss, cwnd follows W(τ) = C(τ − K)³ + W_max. Tolerance 2 packets: cwnd is
    /// whole packets, each target is computed delay_min ahead and reached over one RTT, and at these times the curve
    /// moves under 2.5 packets per RTT. At this RTT the Reno estimate stays below the curve, so friendliness is idle.
    /// </summary>
    [Test]
    public void CongAvoid_AfterLoss_CwndFollowsTheCubicCurve()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        clock.EnterRecovery();
        clock.EndReduction();
        ulong t0 = clock.NowUs;
        uint wmax = CubicMath.Ca(ref clock.Sk).LastMaxCwnd;
        var checkpoints = new[] { 0.5, 1, 2, 3, 6, 7, 8, 9 };
        var seen = new List<(double Tau, uint Cwnd, double W)>();
        while (clock.NowUs - t0 < 9_050_000)
        {
            clock.Round(100_000);
            double tau = (clock.NowUs - t0) / 1e6;
            ref var ca = ref CubicMath.Ca(ref clock.Sk);
            Assert.That(ca.TcpCwnd, Is.LessThanOrEqualTo(clock.Sk.SndCwnd), $"Reno estimate ahead at {tau:F1} s");
            if (checkpoints.Any(c => Math.Abs(c - tau) < 0.05))
            {
                seen.Add((tau, clock.Sk.SndCwnd, wmax + C * Math.Pow(tau - ca.BicK / 1024.0, 3)));
            }
        }
        Assert.That(seen, Has.Count.EqualTo(checkpoints.Length));
        Assert.That(seen, Has.All.Matches<(double Tau, uint Cwnd, double W)>(s => Math.Abs(s.Cwnd - s.W) <= 2),
            string.Join("; ", seen.Select(s => $"{s.Tau:F1}s cwnd {s.Cwnd} W {s.W:F1}")));
    }

    /// <summary>
    /// With a 10 ms RTT the curve is slow (W(1 s) ≈ 87 after a loss at 100) while Reno with beta 0.7 would add
    /// 3(1−β)/(1+β) ≈ 0.53 packets per RTT: 70 + 53 ≈ 123 after 100 RTTs. Friendliness keeps cwnd with the estimate.
    /// </summary>
    [Test]
    public void TcpFriendliness_ShortRtt_CwndKeepsUpWithReno()
    {
        var clock = InCongestionAvoidance(100, 10_000);
        clock.Sk.SndCwnd = 100;
        clock.EnterRecovery();
        clock.EndReduction();
        Assert.That(clock.Sk.SndCwnd, Is.EqualTo(70u));
        for (int i = 0; i < 100; i++)
        {
            clock.Round(10_000);
        }
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        double cubicOnly = ca.BicOriginPoint - C * Math.Pow(ca.BicK / 1024.0 - 1.01, 3);
        Assert.That(cubicOnly, Is.LessThan(90));
        Assert.That(clock.Sk.SndCwnd, Is.InRange(115u, 130u));
        Assert.That(clock.Sk.SndCwnd, Is.GreaterThanOrEqualTo(ca.TcpCwnd - 1));
    }

    [Test]
    public void CongAvoid_NoHistory_AtLeastFivePercentPerRtt_NeverFasterThanHalfTheAcks()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        Assert.That(CubicMath.Ca(ref clock.Sk).LastMaxCwnd, Is.Zero);
        uint before = clock.Sk.SndCwnd;
        clock.Round(100_000);
        Assert.That(clock.Sk.SndCwnd - before, Is.GreaterThanOrEqualTo(before / 20), "cnt capped at 20 without W_max");
        Assert.That(CubicMath.Ca(ref clock.Sk).Cnt, Is.GreaterThanOrEqualTo(2u));
    }

    /// <summary>
    /// ACKs 100 µs apart with a 40 ms delay_min: the train passes delay_min/2 = 20 ms once a round has more than 200
    /// ACKs. That ACK sets ssthresh to the cwnd it found, ending slow start.
    /// </summary>
    [Test]
    public void Hystart_AckTrain_ExitsSlowStart_SsthreshIsCwnd()
    {
        var clock = new AckClock(Cubic.Ops);
        ulong at = clock.NowUs;
        for (int round = 0; round < 10 && clock.Sk.InSlowStart; round++)
        {
            uint n = clock.Sk.SndCwnd;
            at += 40_000;
            for (uint i = 0; i < n && clock.Sk.InSlowStart; i++)
            {
                uint cwndBefore = clock.Sk.SndCwnd;
                uint roundStart = CubicMath.Ca(ref clock.Sk).RoundStart;
                clock.Ack(at + i * 100, 1, 40_000);
                if (!clock.Sk.InSlowStart)
                {
                    Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(cwndBefore));
                    Assert.That((uint)clock.NowUs - roundStart, Is.GreaterThan(20_000u));
                    Assert.That(CubicMath.Ca(ref clock.Sk).Found, Is.EqualTo(1));
                }
            }
        }
        Assert.That(clock.Sk.InSlowStart, Is.False);
        Assert.That(clock.Sk.SndSsthresh, Is.InRange(200u, 640u));
    }

    /// <summary>
    /// With a 1 ms RTT every round is an ACK train past delay_min/2 = 0.5 ms from cwnd 10 on, but HyStart waits for
    /// hystart_low_window = 16.
    /// </summary>
    [Test]
    public void Hystart_AckTrain_NotBelowLowWindow()
    {
        var clock = new AckClock(Cubic.Ops);
        while (clock.Sk.InSlowStart)
        {
            uint cwndBefore = clock.Sk.SndCwnd;
            clock.Ack(clock.NowUs + 100, 1, 1_000);
            if (cwndBefore < CubicMath.HystartLowWindow)
            {
                Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(TcpSock.InfiniteSsthresh), $"exited at cwnd {cwndBefore}");
            }
        }
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(16u));
    }

    /// <summary>
    /// ACKs 3 ms apart (never a train). RTT 50 ms rises to 50 + <paramref name="riseMs"/>: the threshold is
    /// delay_min + clamp(50/8 ms, 4, 16) = 56.25 ms, judged on a round's minimum after 8 samples.
    /// </summary>
    [TestCase(10, true)]
    [TestCase(6, false)]
    public void Hystart_DelayIncrease_ExitsOnlyAboveThreshold(int riseMs, bool exits)
    {
        var clock = new AckClock(Cubic.Ops);
        int rtt = 50_000, highAcks = 0;
        uint cwndAtExit = 0;
        for (int i = 0; i < 400 && clock.Sk.InSlowStart; i++)
        {
            if (clock.Sk.SndCwnd >= 40)
            {
                rtt = 50_000 + riseMs * 1000;
                highAcks++;
            }
            cwndAtExit = clock.Sk.SndCwnd;
            clock.Ack(clock.NowUs + 3_000, 1, rtt);
            if (rtt == 50_000)
            {
                Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(TcpSock.InfiniteSsthresh), "no exit before the RTT rises");
            }
        }
        Assert.That(!clock.Sk.InSlowStart, Is.EqualTo(exits));
        if (exits)
        {
            Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(cwndAtExit));
            Assert.That(highAcks, Is.InRange(CubicMath.HystartMinSamples + 1, 2 * 40 + CubicMath.HystartMinSamples + 1),
                "a fresh round, 8 samples, then the decision");
        }
    }

    [Test]
    public void CwndEvent_TxStart_ShiftsEpochByIdleTime_NeverPastNow()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        uint epoch = ca.EpochStart;
        Assert.That(epoch, Is.Not.Zero);
        clock.IdleThenSend(2_000_000);
        Assert.That(ca.EpochStart, Is.EqualTo(epoch + 2000), "2 s idle = 2000 jiffies");

        ca.EpochStart = clock.Sk.TcpJiffies32 - 10;
        clock.Sk.Lsndtime = clock.Sk.TcpJiffies32 - 500;
        Cubic.Ops.CwndEvent!(ref clock.Sk, TcpCaEvent.TxStart);
        Assert.That(ca.EpochStart, Is.EqualTo(clock.Sk.TcpJiffies32));
    }

    [Test]
    public void SetState_Loss_ResetsState_StartsNewRound()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        clock.EnterRecovery();
        clock.EndReduction();
        clock.Rto();
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        Assert.That((ca.LastMaxCwnd, ca.EpochStart, ca.DelayMin, ca.Cnt, ca.Found), Is.EqualTo((0u, 0u, 0u, 0u, (byte)0)));
        Assert.That((ca.EndSeq, ca.CurrRtt, ca.SampleCnt), Is.EqualTo((clock.Sk.SndNxt, ~0u, (byte)0)));
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(clock.Sk.PriorCwnd * 717 / 1024));
    }

    [Test]
    public void PktsAcked_SkipsNoTimestamp_AndTheFirstSecondOfAnEpoch_ZeroRttCountsAsOne()
    {
        var sk = TcpTestSystem.Socket();
        sk.TcpMstamp = 10_000_000;
        Cubic.Ops.Init!(ref sk);
        ref var ca = ref CubicMath.Ca(ref sk);
        Cubic.Ops.PktsAcked!(ref sk, new AckSample(1, -1, 10));
        Assert.That(ca.DelayMin, Is.Zero);
        Cubic.Ops.PktsAcked!(ref sk, new AckSample(1, 0, 10));
        Assert.That(ca.DelayMin, Is.EqualTo(1u));
        ca.EpochStart = sk.TcpJiffies32 - 999;
        ca.DelayMin = 0;
        Cubic.Ops.PktsAcked!(ref sk, new AckSample(1, 500, 10));
        Assert.That(ca.DelayMin, Is.Zero, "within HZ of epoch_start");
    }

    [Test]
    public void Undo_RestoresPriorCwnd()
    {
        var clock = InCongestionAvoidance(100, 100_000);
        uint before = clock.Sk.SndCwnd;
        clock.EnterRecovery();
        clock.EndReduction();
        clock.Undo();
        Assert.That(clock.Sk.SndCwnd, Is.EqualTo(before));
    }
}
