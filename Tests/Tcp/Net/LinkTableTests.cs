using System.Runtime.CompilerServices;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// The links' records (<see cref="LinkState"/> in the network's table) and the drop-tail FIFO the network runs in
/// them: the layout the many-flow runs depend on, and that the public views (LinkStats, the queue's counters) follow
/// the record as the old per-object counters did.
/// </summary>
[Category("Tcp")]
public sealed class LinkTableTests
{
    private sealed class Tap : ILinkTap
    {
        public readonly List<uint> Seen = [];

        public void Departing(Link link, in Packet packet, in SackBlocks sacks, long departureNs) => Seen.Add(packet.Segment.Seq);
    }

    private static int Packet(Network net, int route, uint seq, int size = 1500)
    {
        int p = net.Packets.Allocate();
        ref var packet = ref net.Packets[p];
        packet.Route = route;
        packet.SizeBytes = size;
        packet.Segment.Seq = seq;
        return p;
    }

    [Test]
    public unsafe void Records_AreTwoLines_OnLineBoundaries_AndKeepTheirValuesAsTheTableGrows()
    {
        Assert.That(Unsafe.SizeOf<LinkState>(), Is.EqualTo(128));
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var first = net.AddLink("first", 12_000_000, SimTime.FromMilliseconds(1), new DropTailQueue(100));
        var sink = new RecordingSink(net);
        int route = net.AddRoute([first], net.AddSink(sink));
        for (uint i = 0; i < 3; i++)
        {
            net.Send(Packet(net, route, i));
        }
        // Two packets wait, then 99 more links make the table grow several times.
        var links = new List<Link> { first };
        for (int i = 0; i < 99; i++)
        {
            links.Add(net.AddLink($"l{i}", 1_000_000_000, SimTime.Zero, new DropTailQueue(10)));
        }
        foreach (var link in links)
        {
            Assert.That((ulong)Unsafe.AsPointer(ref link.State) % 128, Is.EqualTo(0UL), link.Name);
        }
        Assert.That((first.Stats.PacketsArrived, first.Stats.PacketsSent, first.Stats.MaxQueuePackets, first.Queue.Length),
            Is.EqualTo((3L, 1L, 2, 2)));
        Assert.That((first.RateBps, first.Delay), Is.EqualTo((12_000_000L, SimTime.FromMilliseconds(1))));
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(new uint[] { 0, 1, 2 }), "the FIFO survived the moves");
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new long[] { 2_000_000, 3_000_000, 4_000_000 }),
            "1500 B at 12 Mbit/s: 1 ms each, then 1 ms of propagation");
    }

    [Test]
    public unsafe void Packets_StartOnLineBoundaries_AndKeepTheirValuesAsThePoolGrows()
    {
        var pool = new PacketPool(16);
        var held = Enumerable.Range(0, 100).Select(_ => pool.Allocate()).ToArray();
        foreach (int p in held)
        {
            pool[p].Flow = p * 3;
        }
        var more = Enumerable.Range(0, 1000).Select(_ => pool.Allocate()).ToArray();
        Assert.That(held.Select(p => pool[p].Flow), Is.EqualTo(held.Select(p => p * 3)));
        foreach (int p in held.Concat(more))
        {
            Assert.That((ulong)Unsafe.AsPointer(ref pool[p]) % 64, Is.EqualTo(0UL));
        }
        Assert.Throws<IndexOutOfRangeException>(() => pool[pool.Capacity].Flow = 1);
        Assert.Throws<IndexOutOfRangeException>(() => pool[-1].Flow = 1);
    }

    [Test]
    public void DropTailQueue_OnALink_CountsAsItsOwnFifoDid_AndRefusesDirectUse()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("l", 1_000_000, SimTime.Zero, new DropTailQueue(5));
        int route = net.AddRoute([link], net.AddSink(new RecordingSink(net)));
        for (uint i = 0; i < 20; i++)
        {
            net.Send(Packet(net, route, i, size: 100 + (int)i));
        }
        // The first goes to the wire; 1..5 wait (100 + 1 + ... + 100 + 5 bytes); 6..19 are refused.
        var queue = link.Queue;
        Assert.That((queue.Length, queue.Bytes, queue.Enqueued, queue.Drops), Is.EqualTo((5, 515L, 6L, 14L)));
        Assert.That((link.Stats.PacketsArrived, link.Stats.PacketsSent, link.Stats.BytesSent, link.Stats.QueueDrops),
            Is.EqualTo((20L, 1L, 100L, 14L)));
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(net.Packets, net.Packets.Allocate(), 0));
        Assert.Throws<InvalidOperationException>(() => queue.Dequeue(net.Packets, 0));
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That((queue.Length, queue.Bytes, link.Stats.PacketsSent, link.Stats.BytesSent), Is.EqualTo((0, 0L, 6L, 615L)));
    }

    [Test]
    public void ALinkThatGainsATapMidRun_KeepsItsFifoOrder_AndTheTapSeesWhatLeavesFromThen()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("l", 12_000_000, SimTime.Zero, new DropTailQueue(100));
        var sink = new RecordingSink(net);
        int route = net.AddRoute([link], net.AddSink(sink));
        for (uint i = 0; i < 10; i++)
        {
            net.Send(Packet(net, route, i));
        }
        var tap = new Tap();
        // 1 ms per packet: 0 leaves at 0 (untapped), 1 at 1 ms, ...; the tap is on from 3.5 ms and off from 7.5 ms.
        sim.Schedule(new SimTime(3_500_000), () => link.Tap = tap);
        sim.Schedule(new SimTime(7_500_000), () => link.Tap = null);
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (uint)i)));
        Assert.That(tap.Seen, Is.EqualTo(new uint[] { 4, 5, 6, 7 }));
        Assert.That(link.Stats.MaxQueuePackets, Is.EqualTo(9));
    }
}
