using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>PIE's rules as net/sched/sch_pie.c (pie_calculate_probability, pie_process_dequeue, pie_drop_early) applies them.</summary>
[Category("Tcp")]
public sealed class PieQueueTests
{
    private const long Ms = 1_000_000;
    private const ulong MaxProb = ulong.MaxValue >> 8;
    private const ulong TicksPerSec = 1_000_000_000 >> 6;

    /// <summary>
    /// The kernel's alpha or beta (1/16 units) for the current probability: per psched tick of delay, halved below
    /// 10 %, then divided by 4 more for each decade below 1 %, down to 0.0001 % (pie_calculate_probability).
    /// </summary>
    private static ulong Gain(int sixteenths, ulong prob)
    {
        ulong g = ((ulong)sixteenths * (MaxProb / TicksPerSec)) >> 4;
        if (prob < MaxProb / 10)
        {
            g >>= 1;
            for (ulong power = 100; prob < MaxProb / power && power <= 1_000_000; power *= 10)
            {
                g >>= 2;
            }
        }
        return g;
    }

    private static PieQueue Make(PieOptions? options = null) => new(options ?? new PieOptions(), SimRandom.For(3, "pie"));

    [TestCase(1000u, null, 15_000_000L)]
    [TestCase(250u, null, 16_000_000L)]   // usecs_to_jiffies(15000) = 4 jiffies of 4 ms
    [TestCase(100u, null, 20_000_000L)]   // 2 jiffies of 10 ms
    [TestCase(300u, null, 16_666_667L)]   // 5 jiffies of 3⅓ ms
    [TestCase(250u, 30_000L, 32_000_000L)] // a tupdate of 30 ms: 8 jiffies
    [TestCase(1000u, 2_500L, 3_000_000L)]  // 2.5 ms rounds up to 3 jiffies
    public void Tupdate_IsWholeJiffiesAtTheKernelsHz(uint hz, long? tupdateUs, long expectedNs)
    {
        // pie_init / pie_change keep tupdate as usecs_to_jiffies(µs), and pie_timer re-arms itself that many jiffies on.
        var spec = new QueueSpec
        {
            Kind = QueueKind.Pie,
            Limit = 1000,
            Tupdate = tupdateUs is { } us ? SimTime.FromMicroseconds(us) : null,
        };
        var pie = (PieQueue)QueueFactory.Create(spec, SimRandom.For(3, "pie"), hz);
        Assert.That(pie.Options.TupdateNs, Is.EqualTo(expectedNs));
    }

    [Test]
    public void Defaults_ArePieParamsInit()
    {
        var o = new PieOptions();
        Assert.That((o.TargetNs, o.TupdateNs, o.Limit, o.Alpha, o.Beta, o.Ecn, o.Bytemode, o.DqRateEstimator),
            Is.EqualTo((15 * Ms, 15 * Ms, 1000, 2, 20, false, false, false)));
        Assert.That(Make().BurstAllowanceNs, Is.EqualTo(150 * Ms).Within(64), "burst_time 150 ms in psched ticks");
    }

    [Test]
    public void ProbabilityUpdates_FollowTheKernelsScaledAlphaBetaSteps()
    {
        var q = Make();
        var rig = new QueueRig(q);
        for (int i = 0; i < 4; i++)
        {
            rig.Offer(470 * Ms);
        }
        rig.Take(499 * Ms); // qdelay from the timestamp: 29 ms, with packets still queued
        ulong qdelay = (499UL * 1_000_000 >> 6) - (470UL * 1_000_000 >> 6);
        ulong target = 15UL * 1_000_000 >> 6;
        Assert.That(q.Probability, Is.Zero);

        q.AdvanceTo(500 * Ms); // the first update, HZ/2 after the qdisc was set up; qdelay_old is 0
        ulong p1 = unchecked(Gain(2, 0) * (qdelay - target) + Gain(20, 0) * qdelay);
        Assert.That(q.Probability, Is.EqualTo(p1));

        q.AdvanceTo(515 * Ms); // the same delay again: no trend, alpha only, scaled for p1's decade
        ulong p2 = unchecked(p1 + Gain(2, p1) * (qdelay - target));
        Assert.That(q.Probability, Is.EqualTo(p2));
        Assert.That(Gain(2, p1), Is.LessThan(Gain(2, MaxProb / 5)), "a small probability moves in smaller steps");
    }

    [Test]
    public void BelowHalfTarget_DelayAndProbabilityZero_ResetsTheBurstAllowance()
    {
        var q = Make();
        var rig = new QueueRig(q);
        for (long t = 0; t < 200 * Ms; t += 10 * Ms)
        {
            rig.Offer(t);
            rig.Take(t + Ms);
        }
        Assert.That(q.BurstAllowanceNs, Is.Zero, "150 ms of dequeues used the allowance up");
        q.AdvanceTo(500 * Ms); // qdelay 0 (the queue empties), probability 0: pie_vars_init
        Assert.That(q.BurstAllowanceNs, Is.EqualTo(150 * Ms).Within(64));
    }

    [Test]
    public void BurstAllowance_ShrinksByTheTimeBetweenDequeues()
    {
        var q = Make();
        var rig = new QueueRig(q);
        for (int i = 0; i < 20; i++)
        {
            rig.Offer(0);
        }
        rig.Take(10 * Ms); // the first dequeue only stamps dq_tstamp
        rig.Take(20 * Ms);
        rig.Take(50 * Ms);
        Assert.That(q.BurstAllowanceNs, Is.EqualTo(110 * Ms).Within(128));
    }

    [Test]
    public void NoEarlyDrop_DuringTheBurstAllowance_OnlyTheLimit()
    {
        var q = Make(new PieOptions { Limit = 50 });
        var rig = new QueueRig(q);
        int refused = 0;
        for (int i = 0; i < 60; i++)
        {
            refused += rig.Offer(i * Ms) < 0 ? 1 : 0;
        }
        Assert.That((refused, q.Overlimit), Is.EqualTo((10, 10L)));
    }
}
