using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Links, queues, loss and topologies of the packet-level network.</summary>
[Category("Tcp")]
public sealed class NetworkTests
{
    private sealed class Recorder(Network net) : IPacketSink
    {
        public readonly List<(long T, int Packet, EcnCodepoint Ecn, uint Seq)> Received = [];

        public void Receive(int packet)
        {
            ref var p = ref net.Packets[packet];
            Received.Add((net.Simulator.Now.Nanoseconds, packet, p.Ecn, p.Segment.Seq));
            net.Packets.Free(packet);
        }
    }

    private static (Simulator Sim, Network Net, Recorder Sink) Make(ulong seed = 1)
    {
        var sim = new Simulator();
        var net = new Network(sim, seed);
        return (sim, net, new Recorder(net));
    }

    private static int Packet(Network net, int route, int size = 1500, EcnCodepoint ecn = EcnCodepoint.NotEct, uint seq = 0)
    {
        int p = net.Packets.Allocate();
        ref var packet = ref net.Packets[p];
        packet.Route = route;
        packet.SizeBytes = size;
        packet.Ecn = ecn;
        packet.Segment.Seq = seq;
        return p;
    }

    [Test]
    public void SinglePacket_ArrivesAfterSerialisationPlusPropagation()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 100_000_000, SimTime.FromMilliseconds(10), new DropTailQueue(10));
        int route = net.AddRoute([link], net.AddSink(sink));
        net.Send(Packet(net, route));
        sim.RunUntil(SimTime.FromSeconds(1));
        // 1500 B at 100 Mbit/s = 120 us on the wire, then 10 ms in flight.
        Assert.That(sink.Received.Single().T, Is.EqualTo(120_000 + 10_000_000));
        Assert.That(net.Packets.InUse, Is.Zero);
    }

    [Test]
    public void BackToBackPackets_AreSpacedBySerialisationTime_InOrder()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 12_000_000, SimTime.FromMilliseconds(1), new DropTailQueue(100));
        int route = net.AddRoute([link], net.AddSink(sink));
        for (uint i = 0; i < 5; i++)
        {
            net.Send(Packet(net, route, seq: i));
        }
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(new uint[] { 0, 1, 2, 3, 4 }));
        var gaps = sink.Received.Zip(sink.Received.Skip(1), (a, b) => b.T - a.T);
        Assert.That(gaps, Is.All.EqualTo(1_000_000), "1500 B at 12 Mbit/s is 1 ms each");
        Assert.That(link.Stats.MaxQueuePackets, Is.EqualTo(4));
    }

    [Test]
    public void RandomArrivals_LeaveAsAFifoServerSays_IncludingArrivalsWhenTheWireFrees()
    {
        // Reference: a FIFO single server. Packet i starts at max(arrival_i, finish_{i-1}) and reaches the sink
        // serialisation + propagation later. Arrival times are drawn on a 120 us grid so many land exactly when
        // the transmitter frees (the instant a pending transmission-complete event is due).
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 100_000_000, SimTime.FromMilliseconds(2), new DropTailQueue(100_000));
        int route = net.AddRoute([link], net.AddSink(sink));
        var random = new Random(4);
        var arrivals = new List<(long T, int Size)>();
        long t = 0;
        for (int i = 0; i < 5000; i++)
        {
            t += 120_000L * random.Next(0, 3);
            arrivals.Add((t, random.Next(2) == 0 ? 1500 : 66));
        }
        for (int i = 0; i < arrivals.Count; i++)
        {
            var (at, size) = arrivals[i];
            uint seq = (uint)i;
            sim.Schedule(new SimTime(at), () => net.Send(Packet(net, route, size, seq: seq)));
        }
        sim.RunUntil(SimTime.FromSeconds(100));

        long free = 0;
        var expected = new List<long>();
        foreach (var (at, size) in arrivals)
        {
            long start = Math.Max(at, free);
            free = start + link.SerializationTime(size).Nanoseconds;
            expected.Add(free + 2_000_000);
        }
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(Enumerable.Range(0, arrivals.Count).Select(i => (uint)i)));
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(expected));
        Assert.That(link.Stats.PacketsSent, Is.EqualTo(arrivals.Count));
        Assert.That(net.Packets.InUse, Is.Zero);
    }

    [Test]
    public void MultiHopRoute_AddsEachHopsDelays()
    {
        var (sim, net, sink) = Make();
        var a = net.AddLink("a", 1_000_000_000, SimTime.FromMilliseconds(2), new DropTailQueue(10));
        var b = net.AddLink("b", 100_000_000, SimTime.FromMilliseconds(3), new DropTailQueue(10));
        int route = net.AddRoute([a, b], net.AddSink(sink));
        net.Send(Packet(net, route));
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Single().T, Is.EqualTo(12_000 + 2_000_000 + 120_000 + 3_000_000));
        Assert.That(net.PropagationDelay(route), Is.EqualTo(SimTime.FromMilliseconds(5)));
    }

    [Test]
    public void DropTail_PacketLimit_DropsTheExcess()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, new DropTailQueue(5));
        int route = net.AddRoute([link], net.AddSink(sink));
        for (int i = 0; i < 20; i++)
        {
            net.Send(Packet(net, route));
        }
        sim.RunUntil(SimTime.FromSeconds(10));
        // One packet goes straight to the transmitter; five wait; the rest are dropped.
        Assert.That((sink.Received.Count, link.Stats.QueueDrops), Is.EqualTo((6, 14L)));
        Assert.That(net.Packets.InUse, Is.Zero, "dropped packets go back to the pool");
    }

    [Test]
    public void DropTail_ByteLimit()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, new DropTailQueue(0, limitBytes: 4000));
        int route = net.AddRoute([link], net.AddSink(sink));
        for (int i = 0; i < 10; i++)
        {
            net.Send(Packet(net, route, size: 1000));
        }
        sim.RunUntil(SimTime.FromSeconds(10));
        Assert.That((sink.Received.Count, link.Stats.QueueDrops), Is.EqualTo((5, 5L)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropTailQueue(0, 0));
    }

    [Test]
    public void EcnThreshold_MarksEcnCapableAboveK_NeverNonEct()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, new EcnThresholdQueue(k: 3, limitPackets: 100));
        int route = net.AddRoute([link], net.AddSink(sink));
        for (uint i = 0; i < 8; i++)
        {
            net.Send(Packet(net, route, ecn: i % 2 == 0 ? EcnCodepoint.Ect0 : EcnCodepoint.NotEct, seq: i));
        }
        sim.RunUntil(SimTime.FromSeconds(10));
        // Packet 0 is transmitted at once; 1..7 find 0..6 queued ahead; ECT ones finding >= 3 are marked: 4 and 6.
        var marked = sink.Received.Where(r => r.Ecn == EcnCodepoint.Ce).Select(r => r.Seq);
        Assert.That(marked, Is.EqualTo(new uint[] { 4, 6 }));
        Assert.That(link.Stats.EcnMarks, Is.EqualTo(2));
    }

    [Test]
    public void Red_BelowMinNothing_AboveMaxMarksEcnOrDrops_Deterministic()
    {
        static (long Marks, long Drops) Run(bool ecn, ulong seed)
        {
            var (sim, net, sink) = Make(seed);
            var red = new RedQueue(5, 15, 0.1, limitPackets: 1000, ecn, net.RandomFor("red"), weight: 0.2);
            var link = net.AddLink("l", 1_000_000, SimTime.Zero, red);
            int route = net.AddRoute([link], net.AddSink(sink));
            for (int i = 0; i < 200; i++)
            {
                net.Send(Packet(net, route, ecn: EcnCodepoint.Ect0));
            }
            sim.RunUntil(SimTime.FromSeconds(100));
            return (link.Stats.EcnMarks, link.Stats.QueueDrops);
        }
        var withEcn = Run(ecn: true, seed: 1);
        var withoutEcn = Run(ecn: false, seed: 1);
        Assert.That(withEcn.Drops, Is.Zero, "ECN-capable packets are marked, not dropped");
        Assert.That(withEcn.Marks, Is.GreaterThan(150), "a standing queue far above max marks nearly everything");
        Assert.That(withoutEcn.Marks, Is.Zero);
        Assert.That(withoutEcn.Drops, Is.GreaterThan(0));
        Assert.That(Run(ecn: true, seed: 1), Is.EqualTo(withEcn), "same seed, same marks");
    }

    [Test]
    public void Red_AverageBelowMinThreshold_NeverActs()
    {
        var (sim, net, sink) = Make();
        var red = new RedQueue(30, 90, 0.1, limitPackets: 250, ecn: false, net.RandomFor("red"));
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, red);
        int route = net.AddRoute([link], net.AddSink(sink));
        for (int i = 0; i < 25; i++)
        {
            net.Send(Packet(net, route));
        }
        sim.RunUntil(SimTime.FromSeconds(10));
        Assert.That(link.Stats.QueueDrops, Is.Zero);
        Assert.That(red.Average, Is.LessThan(30));
    }

    [TestCase(0.01)]
    [TestCase(0.1)]
    public void BernoulliLoss_LosesTheRequestedFraction(double p)
    {
        var (sim, net, sink) = Make(seed: 7);
        var link = net.AddLink("l", 10_000_000_000, SimTime.Zero, new DropTailQueue(1_000_000), new BernoulliLoss(p));
        int route = net.AddRoute([link], net.AddSink(sink));
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            net.Send(Packet(net, route, size: 100));
        }
        sim.RunUntil(SimTime.FromSeconds(100));
        double lost = link.Stats.RandomLosses / (double)n;
        Assert.That(lost, Is.EqualTo(p).Within(4 * Math.Sqrt(p * (1 - p) / n)));
        Assert.That(sink.Received.Count + link.Stats.RandomLosses, Is.EqualTo(n));
    }

    [Test]
    public void GilbertElliott_MeanLossAndBurstLength()
    {
        var model = new GilbertElliottLoss(p: 0.01, r: 0.25);
        var random = SimRandom.For(3, "ge");
        int lost = 0, bursts = 0;
        bool previous = false;
        const int n = 400_000;
        for (int i = 0; i < n; i++)
        {
            bool l = model.Lose(random);
            lost += l ? 1 : 0;
            bursts += l && !previous ? 1 : 0;
            previous = l;
        }
        Assert.That(model.MeanLossRate, Is.EqualTo(0.01 / 0.26).Within(1e-12));
        Assert.That(lost / (double)n, Is.EqualTo(model.MeanLossRate).Within(0.004));
        Assert.That(lost / (double)bursts, Is.EqualTo(1 / 0.25).Within(0.3), "mean burst length is 1/r with certain loss in Bad");
    }

    [Test]
    public void LossModels_RejectBadProbabilities()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BernoulliLoss(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GilbertElliottLoss(-0.1, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GilbertElliottLoss(0, 0));
    }

    [Test]
    public void Utilization_AndMeanQueue_AreTimeWeighted()
    {
        var (sim, net, sink) = Make();
        var link = net.AddLink("l", 12_000_000, SimTime.Zero, new DropTailQueue(100));
        int route = net.AddRoute([link], net.AddSink(sink));
        for (int i = 0; i < 3; i++)
        {
            net.Send(Packet(net, route));
        }
        sim.RunUntil(SimTime.FromMilliseconds(6));
        net.FinishAccounting();
        Assert.That(link.Stats.Utilization(sim.Now.Nanoseconds), Is.EqualTo(0.5).Within(1e-9), "3 ms busy of 6");
        // Two queued for the first 1 ms, one for the next, none after: (2 + 1) ms·packets over 6 ms.
        Assert.That(link.Stats.MeanQueuePackets(sim.Now.Nanoseconds), Is.EqualTo(0.5).Within(1e-9));
    }

    [Test]
    public void Dumbbell_RoundTripIsTwiceTheOneWayPropagationPlusSerialisation()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var bell = new Dumbbell(net, new DumbbellOptions { BottleneckDelay = SimTime.FromMilliseconds(10), AccessDelay = SimTime.FromMilliseconds(1) });
        var receiver = new Echo(net);
        var sender = new Recorder(net);
        var path = bell.AddFlow(sender, receiver, senderAccessDelay: SimTime.FromMilliseconds(20));
        receiver.Reverse = path.Reverse;
        Assert.That(path.BaseRtt, Is.EqualTo(SimTime.FromMilliseconds(62)));
        int p = Packet(net, path.Forward, size: 100);
        net.Send(p);
        sim.RunUntil(SimTime.FromSeconds(1));
        long serialisation = 2 * (800 + 8_000 + 800); // 100 B over 1G, 100M, 1G each way
        Assert.That(sender.Received.Single().T, Is.EqualTo(62_000_000 + serialisation));
    }

    [Test]
    public void ParkingLot_LongFlowCrossesEveryHop_ShortFlowOne()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var lot = new ParkingLot(net, new ParkingLotOptions { Hops = 3, HopDelay = SimTime.FromMilliseconds(5), AccessDelay = SimTime.FromMilliseconds(1) });
        var longFlow = lot.AddFlow(new Recorder(net), new Recorder(net), 0, 3);
        var shortFlow = lot.AddFlow(new Recorder(net), new Recorder(net), 1, 2);
        Assert.That(longFlow.BaseRtt, Is.EqualTo(SimTime.FromMilliseconds(34)));
        Assert.That(shortFlow.BaseRtt, Is.EqualTo(SimTime.FromMilliseconds(14)));
        Assert.That(net.PropagationDelay(longFlow.Forward), Is.EqualTo(SimTime.FromMilliseconds(17)));
        Assert.Throws<ArgumentOutOfRangeException>(() => lot.AddFlow(new Recorder(net), new Recorder(net), 2, 2));
    }

    [Test]
    public void PacketPool_ReusesFreedSlots_DetectsDoubleFree()
    {
        var pool = new PacketPool(16);
        int a = pool.Allocate();
        int b = pool.Allocate();
        pool.Free(a);
        Assert.That(pool.Allocate(), Is.EqualTo(a));
        pool.Free(b);
        Assert.Throws<InvalidOperationException>(() => pool.Free(b));
        for (int i = 0; i < 1000; i++)
        {
            pool.Free(pool.Allocate());
        }
        Assert.That((pool.InUse, pool.Peak), Is.EqualTo((1, 2)));
    }

    [Test]
    public void Packet_Is64Bytes_AndThePoolGrowsItsSackBlocksAlong()
    {
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<Packet>(), Is.EqualTo(64), "one packet: at most two cache lines");
        var pool = new PacketPool(16);
        var held = Enumerable.Range(0, 40).Select(_ => pool.Allocate()).ToArray();
        pool.SacksOf(held[^1]).Sack2End = 7;
        Assert.That((pool.Capacity, pool.SacksOf(held[^1]).Sack2End), Is.EqualTo((64, 7u)));
        pool[held[0]].Flow = 5;
        pool.Free(held[0]);
        Assert.That(pool[pool.Allocate()].Flow, Is.Zero, "an allocated packet is zeroed, the free list's link too");
    }

    /// <summary>Turns each data packet around on the reverse route, as a receiver's ACK would.</summary>
    private sealed class Echo(Network net) : IPacketSink
    {
        public int Reverse { get; set; }

        public void Receive(int packet)
        {
            net.Packets[packet].Route = Reverse;
            net.Send(packet);
        }
    }
}
