using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>fq_codel's rules as net/sched/sch_fq_codel.c applies them.</summary>
[Category("Tcp")]
public sealed class FqCodelQueueTests
{
    private static FqCodelQueue Make(FqCodelOptions? options = null) => new(options ?? new FqCodelOptions(), SimRandom.For(7, "queue"));

    /// <summary>Two flow ids that land in different buckets.</summary>
    private static (int A, int B) TwoFlows(FqCodelQueue q)
    {
        int b = 1;
        while (q.BucketOf(b) == q.BucketOf(0))
        {
            b++;
        }
        return (0, b);
    }

    [Test]
    public void Defaults_AreFqCodelInit()
    {
        var o = new FqCodelOptions();
        Assert.That((o.Limit, o.Flows, o.Quantum, o.MemoryLimit, o.DropBatchSize, o.Codel.Ecn), Is.EqualTo((10240, 1024, 1514, 32L << 20, 64, true)));
        Assert.That((CodelAlgorithm.ToNs(o.Codel.Target), CodelAlgorithm.ToNs(o.Codel.Interval)), Is.EqualTo((4_999_168L, 99_999_744L)),
            "MS2TIME(5) and MS2TIME(100): 5 ms and 100 ms in 1.024 us units");
    }

    [Test]
    public void NewFlow_IsServedBeforeABackloggedOldFlow()
    {
        var q = Make();
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        for (int i = 0; i < 10; i++)
        {
            rig.Offer(0, flow: a);
        }
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(a));
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(a), "A used its quantum and moved to the old list; it is the only flow");
        rig.Offer(0, flow: b);
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(b), "B is new: the new list is served first");
        Assert.That(q.NewFlowCount, Is.EqualTo(2));
    }

    [Test]
    public void DeficitRoundRobin_ServesQuantumBytesPerTurn()
    {
        var q = Make();
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        for (int i = 0; i < 20; i++)
        {
            rig.Offer(0, flow: a, size: 500);
        }
        for (int i = 0; i < 20; i++)
        {
            rig.Offer(0, flow: b, size: 500);
        }
        var order = string.Concat(Enumerable.Range(0, 20).Select(_ => rig.Take(0)!.Value.Flow == a ? 'A' : 'B'));
        // Deficit 1514: 500-byte packets until it is <= 0 (4 packets, leaving -486); then +1514 = 1028 (3 packets,
        // -472), then 1042 (3 packets, -458), ...
        Assert.That(order, Is.EqualTo("AAAABBBBAAABBBAAABBB"));
    }

    [Test]
    public void EmptiedNewFlow_PassesThroughTheOldList_WithoutNewFlowPriority()
    {
        var q = Make();
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        for (int i = 0; i < 20; i++)
        {
            rig.Offer(0, flow: a, size: 500);
        }
        for (int i = 0; i < 5; i++)
        {
            rig.Take(0); // A: 4 packets as a new flow, then its deficit is refilled (1028) on the old list: 528 left
        }
        rig.Offer(0, flow: b, size: 500);
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(b), "B is new");
        // B, empty with deficit left, goes to the end of the old list (the old list has A) instead of leaving the lists.
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(a));
        rig.Offer(0, flow: b, size: 500);
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(a), "B is still on the old list: its packet waits its turn");
        Assert.That(rig.Take(0)!.Value.Flow, Is.EqualTo(b));
        Assert.That(q.NewFlowCount, Is.EqualTo(2));
    }

    [Test]
    public void OverLimit_DropsFromTheFattestFlowsHead_UpToHalfItsBacklog()
    {
        var q = Make(new FqCodelOptions { Limit = 20 });
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        var first = Enumerable.Range(0, 15).Select(_ => rig.Offer(0, flow: a)).ToList();
        for (int i = 0; i < 5; i++)
        {
            rig.Offer(0, flow: b);
        }
        int arriving = rig.Offer(0, flow: b);
        // A holds 15 × 1514 B: threshold 7.5 packets' worth, so 8 head packets go; B's arrival stays.
        Assert.That(arriving, Is.Not.EqualTo(-1));
        Assert.That((q.Drops, q.DropOverlimit, q.Length), Is.EqualTo((8L, 8L, 13)));
        Assert.That(q.BacklogOf(q.BucketOf(a)), Is.EqualTo(7 * 1514));
        Assert.That(q.VarsOf(q.BucketOf(a)).Count, Is.EqualTo(8u), "fq_codel_drop adds the packets dropped to the flow's CoDel count");
        Assert.That(rig.Pool.InUse, Is.EqualTo(13));
        Assert.That(first.Take(8), Has.None.EqualTo(-1));
    }

    [Test]
    public void OverLimit_DropBatchSize_CapsOneDrop()
    {
        var q = Make(new FqCodelOptions { Limit = 200, DropBatchSize = 3 });
        var rig = new QueueRig(q);
        for (int i = 0; i < 201; i++)
        {
            rig.Offer(0, flow: 5);
        }
        Assert.That((q.Drops, q.Length), Is.EqualTo((3L, 198)));
    }

    [Test]
    public void MemoryLimit_CountsTruesize_AndDropsOverMemory()
    {
        long truesize = FqCodelQueue.Truesize(1514);
        var q = Make(new FqCodelOptions { MemoryLimit = 10 * truesize });
        var rig = new QueueRig(q);
        for (int i = 0; i < 11; i++)
        {
            rig.Offer(0, flow: 1);
        }
        // 11 × truesize > memory_limit: from the only flow, packets until half its 11 × 1514 B are gone (6).
        Assert.That((q.Drops, q.DropOvermemory, q.MemoryUsage), Is.EqualTo((6L, 6L, 5 * truesize)));
    }

    [Test]
    public void OneArrivingPacketInAFlowOfItsOwn_IsTheOneDropped_WhenItsFlowIsTheFattest()
    {
        var q = Make(new FqCodelOptions { Limit = 1 });
        var rig = new QueueRig(q);
        rig.Offer(0, flow: 1, size: 100);
        int p = rig.Offer(0, flow: 2, size: 1500);
        Assert.That((p, q.Drops, q.Length), Is.EqualTo((-1, 1L, 1)));
        Assert.That(rig.Pool.InUse, Is.EqualTo(1));
    }

    [Test]
    public void PerFlowCodel_MarksTheStandingFlowOnly()
    {
        var q = Make();
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        const long ms = 1_000_000;
        // A keeps a standing queue; B sends one packet per 2 ms that leaves at once.
        for (int i = 0; i < 3000; i++)
        {
            rig.Offer(0, flow: a, ecn: EcnCodepoint.Ect0);
        }
        int bMarked = 0, aMarked = 0;
        for (long t = ms; t < 400 * ms; t += ms / 10)
        {
            if (t % (2 * ms) == 0)
            {
                rig.Offer(t, flow: b, ecn: EcnCodepoint.Ect0);
            }
            if (rig.Take(t) is { } p && p.Ecn == EcnCodepoint.Ce)
            {
                _ = p.Flow == a ? aMarked++ : bMarked++;
            }
        }
        Assert.That(aMarked, Is.GreaterThan(0));
        Assert.That(bMarked, Is.Zero, "B's own queue never stands above target");
        Assert.That(q.Drops, Is.Zero, "ECN is on by default: ECT packets are marked, not dropped");
    }

    [Test]
    public void FullSizeIpPackets_CountAsEthernetFrames_ServeOnePacketPerTurn()
    {
        // TCP's full-size packets are 1500 IP bytes; the qdisc counts the 1514-byte frame (qdisc_pkt_len), and the
        // default quantum is psched_mtu = 1514 (sch_fq_codel.c fq_codel_init): one packet per DRR turn from the start.
        var q = Make();
        var (a, b) = TwoFlows(q);
        var rig = new QueueRig(q);
        for (int i = 0; i < 8; i++)
        {
            rig.Offer(0, flow: a, ipBytes: 1500);
            rig.Offer(0, flow: b, ipBytes: 1500);
        }
        var order = string.Concat(Enumerable.Range(0, 12).Select(_ => rig.Take(0)!.Value.Flow == a ? 'A' : 'B'));
        Assert.That((order, q.Bytes), Is.EqualTo(("ABABABABABAB", 4 * 1514L)));
    }

    [Test]
    public void EmptiedFlow_LeavesTheListsAtTheLinksNextDequeue_SoAnEarlierArrivalGoesFirst()
    {
        // After the link takes a qdisc's last packet, __qdisc_run (sch_generic.c) dequeues once more; fq_codel then
        // finds A's flow empty and, the old list being empty, unlinks it (sch_fq_codel.c fq_codel_dequeue). B, which
        // arrives first while the wire is busy, is then ahead of A's next packet on the new list.
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var q = Make();
        var (a, b) = TwoFlows(q);
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, q); // 1 Mbit/s: 500 B take 4 ms
        var received = new List<int>();
        int route = net.AddRoute([link], net.AddSink(new Sink(net, received)));
        void Send(int flow, int bytes)
        {
            int p = net.Packets.Allocate();
            ref var packet = ref net.Packets[p];
            packet.Route = route;
            packet.Flow = flow;
            packet.SizeBytes = bytes;
            net.Send(p);
        }
        Send(a, 486); // 500 B counted: A keeps 1014 B of deficit on the new list while its queue is empty
        sim.RunUntil(SimTime.FromMilliseconds(1));
        Send(b, 1500);
        sim.RunUntil(SimTime.FromMilliseconds(2));
        Send(a, 1500);
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(received, Is.EqualTo(new[] { a, b, a }));
    }

    private sealed class Sink(Network net, List<int> received) : IPacketSink
    {
        public void Receive(int packet)
        {
            received.Add(net.Packets[packet].Flow);
            net.Packets.Free(packet);
        }
    }
}
