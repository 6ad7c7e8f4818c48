using System.Numerics;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// CONFIG_HZ as a per-run setting (<see cref="TcpStackOptions.Hz"/>): the expected values are worked out from
/// include/linux/jiffies.h, include/net/tcp.h, net/ipv4/tcp_cubic.c and tcp_recovery.c/tcp_output.c at that HZ, not
/// from bpfsim's own conversions.
/// </summary>
public sealed class HzTests
{
    [Test]
    public void Conversions_MatchTheExactQuotients_AtEveryHz_ForRandomTimes()
    {
        // Each HZ that divides a second into whole microseconds has its own arm with a constant divisor; every arm must
        // give the rational value jiffies.h rounds: floor or ceiling of t × HZ / 10^k, computed here exactly.
        var rng = new Random(32);
        foreach (uint hz in new uint[] { 100, 250, 300, 1000 })
        {
            for (int i = 0; i < 20_000; i++)
            {
                ulong ns = i < 10 ? (ulong)i : (ulong)rng.NextInt64(0, long.MaxValue / 1000);
                ulong us = ns / 1000;
                uint us32 = (uint)rng.NextInt64(0, uint.MaxValue);
                uint ms32 = (uint)rng.NextInt64(0, uint.MaxValue);
                ulong j = (ulong)rng.NextInt64(0, int.MaxValue);
                BigInteger Floor(BigInteger a, BigInteger b) => BigInteger.Divide(a, b);
                BigInteger Ceil(BigInteger a, BigInteger b) => BigInteger.Divide(a + b - 1, b);
                Assert.That((BigInteger)Jiffies.UsecsToJiffies(us32, hz), Is.EqualTo(Ceil((BigInteger)us32 * hz, 1_000_000)), $"usecs {us32} at {hz}");
                Assert.That((BigInteger)Jiffies.MsecsToJiffies(ms32, hz), Is.EqualTo(Ceil((BigInteger)ms32 * hz, 1000)), $"msecs {ms32} at {hz}");
                Assert.That((BigInteger)Jiffies.JiffiesToUsecs(j, hz), Is.EqualTo(Floor((BigInteger)j * 1_000_000, hz)), $"jiffies {j} at {hz}");
                Assert.That((BigInteger)Jiffies.JiffiesAtUsecs(us, hz), Is.EqualTo(Floor((BigInteger)us * hz, 1_000_000)), $"at {us} us, {hz}");
                Assert.That((BigInteger)Jiffies.NsecsToJiffies(ns, hz), Is.EqualTo(Floor((BigInteger)ns * hz, 1_000_000_000)), $"ns {ns} at {hz}");
                Assert.That((BigInteger)Jiffies.NsecsToJiffiesUp(ns, hz), Is.EqualTo(Ceil((BigInteger)ns * hz, 1_000_000_000)), $"ns up {ns} at {hz}");
                Assert.That((BigInteger)Jiffies.TickNsecs(j, hz), Is.EqualTo(Ceil((BigInteger)j * 1_000_000_000, hz)), $"tick {j} at {hz}");
            }
        }
    }

    [TestCase(1000u, 1u, 1ul)]
    [TestCase(1000u, 1000u, 1ul)]
    [TestCase(1000u, 1001u, 2ul)]
    [TestCase(250u, 1u, 1ul)]
    [TestCase(250u, 4000u, 1ul)]
    [TestCase(250u, 4001u, 2ul)]
    [TestCase(250u, 202_000u, 51ul)]
    [TestCase(100u, 10_001u, 2ul)]
    [TestCase(300u, 3333u, 1ul)]
    [TestCase(300u, 3334u, 2ul)]
    public void UsecsToJiffies_RoundsUpToWholeJiffies(uint hz, uint us, ulong jiffies) =>
        Assert.That(Jiffies.UsecsToJiffies(us, hz), Is.EqualTo(jiffies));

    [Test]
    public void MsecsAndJiffiesToUsecs_AtEveryHz()
    {
        // bbr_probe_rtt_mode_ms = 200 → msecs_to_jiffies; jiffies_to_usecs truncates (HZ 300: 10000/3 µs a jiffy).
        Assert.That(new[] { 100u, 250u, 300u, 1000u }.Select(hz => Jiffies.MsecsToJiffies(200, hz)), Is.EqualTo(new ulong[] { 20, 50, 60, 200 }));
        Assert.That(Jiffies.MsecsToJiffies(1, 250), Is.EqualTo(1ul), "any non-zero delay is a jiffy");
        Assert.That(new[] { 100u, 250u, 300u, 1000u }.Select(hz => Jiffies.JiffiesToUsecs(1, hz)), Is.EqualTo(new ulong[] { 10_000, 4000, 3333, 1000 }));
        Assert.That(Jiffies.JiffiesToUsecs(3, 300), Is.EqualTo(10_000ul));
    }

    [Test]
    public void TcpJiffies32_AtHz250_AdvancesEvery4Ms()
    {
        var sk = new TcpSock { ConfigHz = 250 };
        var seen = new List<uint>();
        for (ulong us = 0; us <= 12_000; us += 1000)
        {
            sk.TcpMstamp = us;
            seen.Add(sk.TcpJiffies32);
        }
        Assert.That(seen, Is.EqualTo(new uint[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3 }));
        Assert.That(new TcpSock { TcpMstamp = 3999 }.TcpJiffies32, Is.EqualTo(3u), "a socket without a stack is HZ 1000");
    }

    /// <summary>
    /// __tcp_set_rto (include/net/tcp.h): icsk_rto = usecs_to_jiffies(srtt/8 + rttvar), so at HZ 250 a whole number of
    /// 4 ms jiffies; the timer runs on the tick at which jiffies reaches jiffies + icsk_rto. The last segment of a
    /// 20-segment transfer is lost (no TLP), so the RTO armed by the last ACK fires at that tick.
    /// </summary>
    [TestCase(1000u)]
    [TestCase(250u)]
    [TestCase(100u)]
    public void Rto_RoundsUpToWholeJiffies_FiresOnTheTick(uint hz)
    {
        long tickNs = 1_000_000_000L / hz;
        long usPerJiffy = 1_000_000L / hz;
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(20) }, stack: new TcpStackOptions { Recovery = 0, Hz = hz });
        var flow = sc.Flow("reno", bytes: 20 * 1448);
        (long Ns, uint Srtt8, uint Rttvar) lastAck = default;
        long timeoutNs = -1;
        sc.Stack.Updated += c =>
        {
            if (c.Stats.Timeouts > 0)
            {
                timeoutNs = timeoutNs < 0 ? sc.Sim.Now.Nanoseconds : timeoutNs;
                return;
            }
            lastAck = (sc.Sim.Now.Nanoseconds, sc.Stack.Sock(c.Id).SrttUs, c.RttvarUs);
        };
        sc.RunFor(5);
        Assert.That(flow.Stats.Timeouts, Is.EqualTo(1));
        long rtoJiffies = ((lastAck.Srtt8 >> 3) + lastAck.Rttvar + usPerJiffy - 1) / usPerJiffy;
        Assert.That(flow.RtoNs % tickNs, Is.Zero, "icsk_rto is whole jiffies");
        Assert.That(timeoutNs, Is.EqualTo((lastAck.Ns / tickNs + rtoJiffies) * tickNs));
    }

    /// <summary>
    /// tcp_schedule_loss_probe (net/ipv4/tcp_output.c): PTO = usecs_to_jiffies(2·srtt + TCP_TIMEOUT_MIN_US), where
    /// TCP_TIMEOUT_MIN_US is 2 ms at every HZ (include/net/tcp.h, 6.12) but the sum is rounded up to whole jiffies, and
    /// the timer fires on a tick. On a 90 µs path at HZ 250 that is one 4 ms jiffy (2.2 ms at HZ 1000 is 3 jiffies): the
    /// probe is due on the next tick but one at most.
    /// </summary>
    [TestCase(250u)]
    [TestCase(1000u)]
    public void LossProbe_PtoIsWholeJiffies_DueOnATick(uint hz)
    {
        long tickNs = 1_000_000_000L / hz;
        long usPerJiffy = 1_000_000L / hz;
        var sc = new TcpScenario(new DumbbellOptions
        {
            BottleneckRateBps = 1_000_000_000, BottleneckDelay = SimTime.FromMicroseconds(45), AccessDelay = SimTime.Zero,
        }, stack: new TcpStackOptions { Hz = hz });
        sc.Flow("cubic");
        var checkedProbes = 0;
        sc.Stack.Updated += c =>
        {
            if (c.Pending != XmitTimer.LossProbe || sc.Stack.Sock(c.Id).SrttUs == 0)
            {
                return;
            }
            ref var sk = ref sc.Stack.Sock(c.Id);
            long now = sc.Sim.Now.Nanoseconds;
            long due = sc.Sim.DueTime(c.RtoTimer)!.Value.Nanoseconds;
            long ptoJiffies = ((sk.SrttUs >> 2) + 2000L + usPerJiffy - 1) / usPerJiffy;
            long paceJiffies = Math.Max((long)(sk.TcpWstampNs - sk.TcpClockCache), 0) / tickNs;
            long rtoJiffies = (Math.Min(c.RtoNs << c.Backoff, 120_000_000_000L) / 1000 + usPerJiffy - 1) / usPerJiffy;
            Assert.That(due % tickNs, Is.Zero, $"t={now}: the probe timer runs on a tick");
            Assert.That(due, Is.EqualTo((now / tickNs + Math.Min(ptoJiffies, rtoJiffies) + paceJiffies) * tickNs), $"t={now}");
            checkedProbes++;
        };
        sc.RunFor(0.5);
        Assert.That(checkedProbes, Is.GreaterThan(10));
    }

    /// <summary>
    /// bictcp_update (net/ipv4/tcp_cubic.c): cnt is recomputed only when tcp_jiffies32 moved since last_time, so at
    /// HZ 250 ACKs 1 ms apart (at 10.001 … 10.040 s) recompute it once per 4 ms jiffy, 2500 … 2510, and on every
    /// ACK at HZ 1000.
    /// </summary>
    [TestCase(250u, 11)]
    [TestCase(1000u, 40)]
    public void Cubic_CntUpdatesAtMostOncePerJiffy(uint hz, int recomputes)
    {
        var clock = new AckClock(Cubic.Ops, cwnd: 100);
        clock.Sk.ConfigHz = (ushort)hz;
        clock.Sk.SndSsthresh = 50; // congestion avoidance
        clock.Sk.IsCwndLimited = true;
        ulong t = clock.NowUs;
        var times = new HashSet<uint>();
        for (int i = 1; i <= 40; i++)
        {
            clock.Sk.SndCwnd = 100 + (uint)i; // a new cwnd each ACK: past the HZ/32 gate, only the jiffy test is left
            clock.Ack(t + (ulong)i * 1000, 1, 1000);
            times.Add(CubicMath.Ca(ref clock.Sk).LastTime);
        }
        Assert.That(times, Has.Count.EqualTo(recomputes));
    }

    /// <summary>
    /// bictcp_update: with cwnd unchanged, cnt is not recomputed until more than HZ/32 jiffies have passed — 7 jiffies
    /// (28 ms) at HZ 250, 31 at HZ 1000.
    /// </summary>
    [TestCase(250u, 28_000ul, 32_000ul)]
    [TestCase(1000u, 31_000ul, 32_000ul)]
    public void Cubic_SameCwnd_RecomputesOnlyAfterHzOver32(uint hz, ulong stillGatedUs, ulong recomputedUs)
    {
        var ca = new CubicState();
        Cubic.Update(ref ca, 1, hz, 100, 1); // starts the epoch at jiffy 1
        uint last = ca.LastTime;
        ulong usPerJiffy = 1_000_000ul / hz;
        Cubic.Update(ref ca, last + (uint)(stillGatedUs / usPerJiffy), hz, 100, 1);
        Assert.That(ca.LastTime, Is.EqualTo(last), "within HZ/32");
        Cubic.Update(ref ca, last + (uint)(recomputedUs / usPerJiffy), hz, 100, 1);
        Assert.That(ca.LastTime, Is.EqualTo(last + (uint)(recomputedUs / usPerJiffy)), "past HZ/32");
    }
}
