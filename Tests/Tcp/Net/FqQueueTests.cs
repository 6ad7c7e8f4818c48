using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>sch_fq's rules as net/sched/sch_fq.c applies them: DRR by credit, pacing by rate and by EDT, limits.</summary>
[Category("Tcp")]
public sealed class FqQueueTests
{
    private const long Ms = 1_000_000;

    private sealed class Sockets(ulong rate) : ISocketPacing
    {
        public ulong Rate = rate;
        public readonly HashSet<int> Fq = [];

        public ulong PacingRate(int flow) => Rate;

        public void SetPacingFq(int flow) => Fq.Add(flow);
    }

    private sealed class Recorder(Network net) : IPacketSink
    {
        public readonly List<(long T, int Flow)> Received = [];

        public void Receive(int packet)
        {
            Received.Add((net.Simulator.Now.Nanoseconds, net.Packets[packet].Flow));
            net.Packets.Free(packet);
        }
    }

    [Test]
    public void Defaults_AreFqInitForEthernet()
    {
        var o = new FqOptions();
        Assert.That((o.Limit, o.FlowLimit, o.Quantum, o.InitialQuantum, o.RefillDelayNs, o.LowRateThreshold, o.HorizonNs, o.HorizonDrop),
            Is.EqualTo((10000, 100, 3028, 15140, 40 * Ms, 68750UL, 10_000 * Ms, true)));
    }

    [Test]
    public void NewFlow_GetsInitialQuantum_ThenQuantumPerRound()
    {
        var q = new FqQueue(new FqOptions { Pacing = false });
        var rig = new QueueRig(q);
        // Timestamped 1 ns ahead, so none takes fq_fastpath_check's way to the internal queue (which, while no flow
        // is backlogged, would take the first 8).
        for (int i = 0; i < 16; i++)
        {
            rig.Offer(0, flow: 1, tstamp: 1);
            rig.Offer(0, flow: 2, tstamp: 1);
        }
        var order = string.Concat(Enumerable.Range(0, 28).Select(_ => rig.Take(1)!.Value.Flow.ToString()));
        // 15140 B of initial credit: 10 packets each (new list), then 3028 B per round: 2 packets per turn.
        Assert.That(order, Is.EqualTo("1111111111" + "2222222222" + "11" + "22" + "11" + "22"));
    }

    [Test]
    public void FastPath_WhileNoFlowIsBacklogged_UpToEightPacketsGoToTheInternalQueueFirst()
    {
        var q = new FqQueue(new FqOptions());
        var rig = new QueueRig(q);
        for (int i = 0; i < 10; i++)
        {
            rig.Offer(0, flow: 1);
        }
        Assert.That(q.FastpathPackets, Is.EqualTo(8), "internal.qlen >= 8 ends the fast path");
        Assert.That(Enumerable.Range(0, 10).Select(_ => rig.Take(0)), Has.None.Null);
    }

    /// <summary>A max rate above any pacing rate: no cap in effect, but it turns fq_fastpath_check off.</summary>
    private const ulong NoFastPath = 1UL << 62;

    [Test]
    public void RatePacing_LowRate_SpacesEveryPacketByLengthOverRate()
    {
        var sockets = new Sockets(50_000); // bytes/s, below low_rate_threshold (68750): no credit, every packet paced
        var q = new FqQueue(new FqOptions { MaxRate = NoFastPath });
        q.AttachSockets(sockets);
        var rig = new QueueRig(q);
        rig.Offer(0, flow: 4, size: 100);
        for (int i = 0; i < 5; i++)
        {
            rig.Offer(0, flow: 3, size: 1000);
        }
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(4));
        var times = new List<long>();
        long now = 0;
        while (times.Count < 5)
        {
            if (rig.Take(now) is not null)
            {
                times.Add(now);
                continue;
            }
            Assert.That(q.NextEligibleNs, Is.GreaterThan(now), "nothing eligible: the watchdog time is ahead");
            now = q.NextEligibleNs;
        }
        // 1000 B at 50000 B/s = 20 ms, from each departure.
        Assert.That(times.Zip(times.Skip(1), (a, b) => b - a), Is.All.EqualTo(20 * Ms));
        Assert.That(sockets.Fq, Is.EquivalentTo(new[] { 3, 4 }), "fq_classify sets SK_PACING_FQ on the sockets it sees");
    }

    [Test]
    public void RatePacing_AboveLowRate_AveragesThePacingRateInQuantumBursts()
    {
        const ulong rate = 1_250_000; // 10 Mbit/s
        var q = new FqQueue(new FqOptions { MaxRate = NoFastPath });
        q.AttachSockets(new Sockets(rate));
        var rig = new QueueRig(q);
        for (int i = 0; i < 60; i++)
        {
            rig.Offer(0, flow: 3, size: 1514);
        }
        var times = new List<long>();
        long now = 0;
        while (times.Count < 60)
        {
            if (rig.Take(now) is not null)
            {
                times.Add(now);
            }
            else
            {
                now = q.NextEligibleNs;
            }
        }
        Assert.That(times.Take(10), Is.All.Zero, "initial_quantum: ten packets back to back");
        // Then credit runs out every quantum (two packets), and the flow waits max(plen, quantum) / rate = 3028 B
        // at 1.25 MB/s from the departure that used it up: on average, 1514 B per packet at the rate.
        long span = times[59] - times[11];
        Assert.That(span, Is.EqualTo(24 * 3028 * 1_000_000_000L / (long)rate).Within(Ms / 100));
    }

    [Test]
    public void Edt_APacketLeavesNoEarlierThanItsTimestamp_ThroughALinkWatchdog()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var sink = new Recorder(net);
        var fq = new FqQueue(new FqOptions());
        var link = net.AddLink("l", 1_000_000_000, SimTime.Zero, fq);
        int route = net.AddRoute([link], net.AddSink(sink));
        long[] stamps = [5 * Ms, 7 * Ms, 7 * Ms + 4_000, 30 * Ms];
        foreach (long t in stamps)
        {
            int p = net.Packets.Allocate();
            ref var packet = ref net.Packets[p];
            packet.Route = route;
            packet.SizeBytes = 1000;
            packet.Flow = 1;
            packet.Tstamp = t;
            net.Send(p);
        }
        sim.RunUntil(SimTime.FromSeconds(1));
        // Each leaves at its time_to_send and reaches the sink after 8 us on the wire; the third is due while the
        // second is on the wire and leaves when the wire frees.
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { 5 * Ms + 8_000, 7 * Ms + 8_000, 7 * Ms + 16_000, 30 * Ms + 8_000 }));
        Assert.That(fq.ThrottledCount, Is.GreaterThanOrEqualTo(3));
        Assert.That(net.Packets.InUse, Is.Zero);
    }

    /// <summary>
    /// Flow 1 sends eleven packets at time 0 and empties — 15140 B of initial credit for ten, a quantum (3028) for the
    /// eleventh: 1514 left — then, while flow 2's packet throttled until 1 s keeps the qdisc non-empty, it passes
    /// through the old list, is detached and aged at 0; it comes back at <paramref name="backAtMs"/>. Its credit then.
    /// </summary>
    private static int CreditWhenBack(FqOptions options, int backAtMs)
    {
        var q = new FqQueue(options);
        var rig = new QueueRig(q);
        rig.Offer(0, flow: 2, tstamp: 1000 * Ms);
        for (int i = 0; i < 11; i++)
        {
            rig.Offer(0, flow: 1);
        }
        for (int i = 0; i < 11; i++)
        {
            Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(1));
        }
        Assert.That(rig.Take(0), Is.Null);
        rig.Offer(backAtMs * Ms, flow: 1);
        return q.CreditOf(1);
    }

    [TestCase(10, 1514)]
    [TestCase(100, 3028)]
    public void RefillDelay_AFlowBackAfterMoreThan40msIdle_GetsAQuantumOfCredit(int backAtMs, int credit) =>
        Assert.That(CreditWhenBack(new FqOptions { MaxRate = NoFastPath }, backAtMs), Is.EqualTo(credit),
            "max(credit, quantum) only after refill_delay (40 ms) idle");

    [TestCase(1000u, 41, 1514)] // detached at jiffy 0: age = 0 | 1 = 1; refill once jiffies > 1 + 40
    [TestCase(1000u, 42, 3028)]
    [TestCase(250u, 47, 1514)]  // refill_delay = msecs_to_jiffies(40) = 10 jiffies of 4 ms: jiffies > 11
    [TestCase(250u, 48, 3028)]
    public void RefillDelay_CountedInJiffies_FromAnAgeWithItsLowBitSet(uint hz, int backAtMs, int credit) =>
        // fq_flow_set_detached: f->age = jiffies | 1; fq_enqueue refills when time_after(jiffies, f->age +
        // flow_refill_delay). So at HZ 1000 a flow detached at 0 ms is refilled from 42 ms, not just after 40 ms.
        Assert.That(CreditWhenBack(new FqOptions { MaxRate = NoFastPath, Hz = hz }, backAtMs), Is.EqualTo(credit));

    [Test]
    public void Horizon_DropsATimestampMoreThanTenSecondsAhead()
    {
        var q = new FqQueue(new FqOptions());
        var rig = new QueueRig(q);
        Assert.That(rig.Offer(0, flow: 1, tstamp: 10_001 * Ms), Is.EqualTo(-1));
        Assert.That(rig.Offer(0, flow: 1, tstamp: 9_999 * Ms), Is.Not.EqualTo(-1));
        Assert.That((q.HorizonDrops, q.Drops), Is.EqualTo((1L, 1L)));
        var capped = new FqQueue(new FqOptions { HorizonDrop = false });
        rig = new QueueRig(capped);
        int p = rig.Offer(0, flow: 1, tstamp: 20_000 * Ms);
        Assert.That((capped.HorizonCaps, rig.Pool[p].Tstamp), Is.EqualTo((1L, 10_000 * Ms)));
    }

    [Test]
    public void FlowLimit_DropsTheHundredAndFirstPacketOfAFlow_NotOthers()
    {
        var q = new FqQueue(new FqOptions());
        var rig = new QueueRig(q);
        rig.Offer(0, flow: 2, tstamp: 1); // keeps later packets off the fast path
        int refused = Enumerable.Range(0, 101).Count(_ => rig.Offer(0, flow: 1, tstamp: Ms) < 0);
        Assert.That((refused, q.FlowLimitDrops), Is.EqualTo((1, 1L)));
        Assert.That(rig.Offer(0, flow: 3, tstamp: Ms), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Limit_DropsBeyondTenThousandPackets()
    {
        var q = new FqQueue(new FqOptions { Limit = 150 });
        var rig = new QueueRig(q);
        int refused = 0;
        for (int i = 0; i < 200; i++)
        {
            refused += rig.Offer(0, flow: i % 4, tstamp: Ms) < 0 ? 1 : 0;
        }
        Assert.That((refused, q.LimitDrops), Is.EqualTo((50, 50L)));
    }

    [Test]
    public void CeThreshold_LatenessIsTimeInTheQueue_NotSinceTheSendersPastStamp()
    {
        // At a router time_to_send is the enqueue time (ip_forward clears skb->tstamp), so sch_fq.c fq_dequeue's
        // lateness is the sojourn: a packet stamped 5 ms upstream that leaves at once is not marked (ce_threshold
        // 2 ms); one that waited 3 ms is.
        var q = new FqQueue(new FqOptions { CeThresholdNs = 2 * Ms, Pacing = false });
        var rig = new QueueRig(q);
        long now = 100 * Ms;
        rig.Offer(now, flow: 1, ecn: EcnCodepoint.Ect0, tstamp: now + 1); // backlogs a flow: no fast path below
        rig.Offer(now, flow: 2, ecn: EcnCodepoint.Ect0, tstamp: now - 5 * Ms);
        rig.Offer(now, flow: 3, ecn: EcnCodepoint.Ect0, tstamp: now - 5 * Ms);
        var fresh = rig.Take(now)!.Value;
        var waited = rig.Take(now + 3 * Ms)!.Value;
        Assert.That((fresh.Flow, fresh.Ecn, waited.Flow, waited.Ecn),
            Is.EqualTo((2, EcnCodepoint.Ect0, 3, EcnCodepoint.Ce)));
    }

    [Test]
    public void FullSizeIpPackets_CountAsEthernetFrames_InitialQuantumIsTenPackets()
    {
        // initial_quantum is 10 × psched_mtu and quantum 2 × psched_mtu (sch_fq.c fq_init) because the qdisc counts
        // the 1514-byte frame of a 1500-byte IP packet (qdisc_pkt_len): ten packets, then two per turn.
        var q = new FqQueue(new FqOptions { Pacing = false });
        var rig = new QueueRig(q);
        for (int i = 0; i < 16; i++)
        {
            rig.Offer(0, flow: 1, tstamp: 1, ipBytes: 1500);
            rig.Offer(0, flow: 2, tstamp: 1, ipBytes: 1500);
        }
        var order = string.Concat(Enumerable.Range(0, 28).Select(_ => rig.Take(1)!.Value.Flow.ToString()));
        Assert.That(order, Is.EqualTo("1111111111" + "2222222222" + "11" + "22" + "11" + "22"));
    }

    [Test]
    public void Limit_LeavesOutTheInternalQueuesFastPathPackets()
    {
        // fq_enqueue compares band_pkt_count[band] with limit; fast-path packets go to q->internal and are not in it.
        var q = new FqQueue(new FqOptions { Limit = 2 });
        var rig = new QueueRig(q);
        int refused = Enumerable.Range(0, 5).Count(_ => rig.Offer(0, flow: 1) < 0);
        Assert.That((refused, q.FastpathPackets, q.Length), Is.EqualTo((0, 5L, 5)));
    }

    [Test]
    public void CeThreshold_CountsEveryLatePacket_AndMarksOnlyEctOnes()
    {
        // sch_fq.c fq_dequeue: stat_ce_mark++ whether or not INET_ECN_set_ce took.
        var q = new FqQueue(new FqOptions { CeThresholdNs = 1 * Ms, Pacing = false });
        var rig = new QueueRig(q);
        rig.Offer(0, flow: 1, tstamp: 1); // not the fast path
        rig.Offer(0, flow: 1, ecn: EcnCodepoint.Ect0, tstamp: 1);
        var notEct = rig.Take(5 * Ms)!.Value;
        var ect = rig.Take(5 * Ms)!.Value;
        Assert.That((notEct.Ecn, ect.Ecn, q.CeMarks, q.Marks), Is.EqualTo((EcnCodepoint.NotEct, EcnCodepoint.Ce, 2L, 1L)));
    }
}
