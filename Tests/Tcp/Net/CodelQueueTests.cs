using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>CoDel's rules as include/net/codel_impl.h and net/sched/sch_codel.c apply them.</summary>
[Category("Tcp")]
public sealed class CodelQueueTests
{
    private const long Ms = 1_000_000;

    [TestCase(1u, 0.0001)]
    [TestCase(4u, 0.025)]
    [TestCase(16u, 0.002)]
    [TestCase(100u, 0.001)]
    public void NewtonStep_FromThePreviousCount_ApproachesOneOverSqrtCount(uint n, double tolerance)
    {
        // codel_dequeue applies one Newton step per count increment, starting from ~0 >> 16 at count 1.
        var vars = new CodelVars { Count = 1, RecInvSqrt = ushort.MaxValue };
        for (uint c = 2; c <= n; c++)
        {
            vars.Count = c;
            CodelAlgorithm.NewtonStep(ref vars);
        }
        double expected = 65536 / Math.Sqrt(n);
        Assert.That(vars.RecInvSqrt, Is.EqualTo(expected).Within(tolerance * expected));
    }

    [Test]
    public void NewtonStep_AtCountTwo_UndershootsToOneHalf_AsTheKernelDoes()
    {
        // One step from 1.0 at count 2: (3 − 2 · 1²) / 2 = 0.5, not 0.707; codel_impl.h accepts this early error.
        var vars = new CodelVars { Count = 2, RecInvSqrt = ushort.MaxValue };
        CodelAlgorithm.NewtonStep(ref vars);
        Assert.That(vars.RecInvSqrt / 65536.0, Is.EqualTo(0.5).Within(0.0001));
    }

    [Test]
    public void ControlLaw_IsIntervalOverSqrtCount()
    {
        uint interval = CodelAlgorithm.FromNs(100 * Ms);
        // rec_inv_sqrt = 0x8000 stands for 1/sqrt(4) = 0.5: reciprocal_scale(interval, 0x80000000) = interval / 2.
        Assert.That(CodelAlgorithm.ControlLaw(1000, interval, 0x8000), Is.EqualTo(1000 + interval / 2));
        // rec_inv_sqrt ~0 >> 16 is 1 − 2^-16: interval × 0xFFFF0000 >> 32 = 97656 − 1.49, truncated.
        Assert.That(CodelAlgorithm.ControlLaw(0, interval, ushort.MaxValue), Is.EqualTo(97654));
    }

    [Test]
    public void FirstDrop_OnlyAfterSojournStaysAboveTargetForAnInterval()
    {
        var rig = new QueueRig(new CodelQueue(CodelParams.Default));
        for (int i = 0; i < 300; i++)
        {
            rig.Offer(0);
        }
        // Sojourn 10 ms > 5 ms from the first dequeue at 10 ms: first_above_time = 10 ms + 100 ms.
        long t = 10 * Ms;
        for (; t <= 110 * Ms; t += Ms)
        {
            Assert.That(rig.Take(t), Is.Not.Null);
        }
        Assert.That(rig.Queue.Drops, Is.Zero, "no drop before the interval has passed");
        rig.Take(111 * Ms);
        Assert.That(rig.Queue.Drops, Is.EqualTo(1), "the head is dropped and the next one sent");
        var vars = ((CodelQueue)rig.Queue).Vars;
        Assert.That((vars.Dropping, vars.Count), Is.EqualTo((true, 1u)));
    }

    [Test]
    public void DropsInTheDroppingState_ComeAtIntervalOverSqrtCount()
    {
        var rig = new QueueRig(new CodelQueue(CodelParams.Default, limit: 100_000));
        for (int i = 0; i < 60_000; i++)
        {
            rig.Offer(0);
        }
        var dropTimes = new List<long>();
        long drops = 0;
        for (long t = 10 * Ms; t < 2_000 * Ms; t += Ms / 10)
        {
            rig.Take(t);
            if (rig.Queue.Drops != drops)
            {
                drops = rig.Queue.Drops;
                dropTimes.Add(t);
            }
        }
        // The k-th gap is interval × rec_inv_sqrt(k): 1 at k = 1, the Newton step's 0.5 at k = 2, then within 3 % of
        // 1/sqrt(k) (plus the 0.1 ms dequeue step).
        double Gap(int k) => dropTimes[k] - dropTimes[k - 1];
        Assert.That(Gap(1), Is.EqualTo(100 * Ms).Within(Ms / 5));
        Assert.That(Gap(2), Is.EqualTo(50 * Ms).Within(Ms / 5));
        for (int k = 3; k < 30; k++)
        {
            double expected = 100 * Ms / Math.Sqrt(k);
            Assert.That(Gap(k), Is.EqualTo(expected).Within(0.03 * expected + Ms / 5), $"gap {k}");
        }
    }

    [Test]
    public void ReEntry_SoonAfterLeaving_ResumesAtTheLastCycleCount()
    {
        var queue = new CodelQueue(CodelParams.Default, limit: 100_000);
        var rig = new QueueRig(queue);
        for (int i = 0; i < 30_000; i++)
        {
            rig.Offer(0);
        }
        long t = 10 * Ms;
        for (; queue.Vars.Count < 6; t += Ms / 10)
        {
            rig.Take(t);
        }
        // Empty the queue: the next packet, enqueued now and dequeued at once, is below target: dropping ends.
        while (queue.Length > 0)
        {
            int p = queue.Dequeue(rig.Pool, t);
            if (p >= 0)
            {
                rig.Pool.Free(p);
            }
        }
        uint count = queue.Vars.Count; // lastcount was 1 at the first entry
        for (int i = 0; i < 30_000; i++)
        {
            rig.Offer(t);
        }
        rig.Take(t);
        Assert.That(queue.Vars.Dropping, Is.False);
        // Above target again for an interval, well within 16 intervals of the last drop time: count = count − lastcount.
        long start = t + 10 * Ms;
        for (t = start; !queue.Vars.Dropping; t += Ms / 10)
        {
            rig.Take(t);
        }
        Assert.That(queue.Vars.Count, Is.EqualTo(count - 1));
    }

    [Test]
    public void Ecn_MarksEctPackets_DropsNotEct()
    {
        var rig = new QueueRig(new CodelQueue(CodelParams.Default with { Ecn = true }, limit: 10_000));
        for (int i = 0; i < 8000; i++)
        {
            rig.Offer(0, ecn: i % 2 == 0 ? EcnCodepoint.Ect0 : EcnCodepoint.NotEct);
        }
        var seen = new List<EcnCodepoint>();
        for (long t = 10 * Ms; t < 700 * Ms; t += Ms / 10)
        {
            if (rig.Take(t) is { } p)
            {
                seen.Add(p.Ecn);
            }
        }
        Assert.That(rig.Queue.Marks, Is.GreaterThan(0));
        Assert.That(seen.Count(e => e == EcnCodepoint.Ce), Is.EqualTo(rig.Queue.Marks));
        Assert.That(rig.Queue.Drops, Is.GreaterThan(0), "a not-ECT head in the dropping state is dropped");
    }

    [Test]
    public void BacklogOfAtMostOneMtu_IsNeverAboveTarget()
    {
        var rig = new QueueRig(new CodelQueue(CodelParams.Default));
        for (long t = 0; t < 2_000 * Ms; t += 200 * Ms)
        {
            rig.Offer(t);
            rig.Offer(t);
            // Each dequeue leaves one packet (1514 B, not above mtu) behind it, however long it waited.
            rig.Take(t + 150 * Ms);
            rig.Take(t + 199 * Ms);
        }
        Assert.That(rig.Queue.Drops, Is.Zero);
    }

    [Test]
    public void Limit_DefaultIsOneThousandPackets()
    {
        var queue = new CodelQueue(CodelParams.Default);
        var rig = new QueueRig(queue);
        int refused = Enumerable.Range(0, 1010).Count(_ => rig.Offer(0) < 0);
        Assert.That((queue.Limit, refused, queue.DropOverlimit), Is.EqualTo((1000, 10, 10L)));
    }

    [Test]
    public void CeThreshold_MarksEctAboveIt_WithoutDropping()
    {
        var p = CodelParams.Default with { CeThreshold = CodelAlgorithm.FromNs(2 * Ms), Target = CodelAlgorithm.FromNs(1000 * Ms) };
        var rig = new QueueRig(new CodelQueue(p));
        rig.Offer(0, ecn: EcnCodepoint.Ect1);
        rig.Offer(0, ecn: EcnCodepoint.Ect1);
        rig.Offer(0, ecn: EcnCodepoint.Ect1);
        Assert.That(rig.Take(1 * Ms)!.Value.Ecn, Is.EqualTo(EcnCodepoint.Ect1), "1 ms: below the threshold");
        Assert.That(rig.Take(3 * Ms)!.Value.Ecn, Is.EqualTo(EcnCodepoint.Ce), "3 ms: above it");
        Assert.That(rig.Queue.Drops, Is.Zero);
    }

    [Test]
    public void EcnAndCeThreshold_MarkingOnePacket_IsOneMark_AndOneInEachKernelCounter()
    {
        // codel_impl.h codel_dequeue: the ECN branch (ecn_mark++) and the ce_threshold check (ce_mark++) both take the
        // same skb; the kernel keeps two counters. Marks counts the packet once.
        var q = new CodelQueue(CodelParams.Default with { Ecn = true, CeThreshold = CodelAlgorithm.FromNs(1_000_000) });
        var rig = new QueueRig(q);
        for (int i = 0; i < 20; i++)
        {
            rig.Offer(0, ecn: EcnCodepoint.Ect0);
        }
        rig.Take(50_000_000); // above target: first_above_time is set (and ce_threshold marks this one)
        long marks = q.Marks, ecnMarks = q.EcnMarks, ceMarks = q.CeMarks;
        var r = rig.Take(200_000_000)!.Value; // an interval later: the dropping state marks the head, 200 ms late
        Assert.That((r.Ecn, q.Vars.Dropping, q.Marks - marks, q.EcnMarks - ecnMarks, q.CeMarks - ceMarks),
            Is.EqualTo((EcnCodepoint.Ce, true, 1L, 1L, 1L)));
    }
}
