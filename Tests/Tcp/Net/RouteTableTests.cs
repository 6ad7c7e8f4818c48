using System.Runtime.CompilerServices;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// Routes keep their first hops inline (<see cref="RouteEntry"/>) in a table whose entries sit within one line each;
/// a route longer than the inline part reads the rest from the network's list of hops.
/// </summary>
[Category("Tcp")]
public sealed class RouteTableTests
{
    [Test]
    public unsafe void Entries_AreOnTheirOwnBoundaries_AndKeepTheirValuesAsTheTableGrows()
    {
        Assert.That(Unsafe.SizeOf<RouteEntry>(), Is.EqualTo(32));
        var table = new RouteTable();
        for (int i = 0; i < 300; i++)
        {
            int id = table.Add();
            Assert.That(id, Is.EqualTo(i));
            table[id].Sink = i * 7;
            table[id].Near[4] = i;
        }
        for (int i = 0; i < 300; i++)
        {
            Assert.That((ulong)Unsafe.AsPointer(ref table[i]) % 32, Is.EqualTo(0UL));
            Assert.That((table[i].Sink, table[i].Near[4]), Is.EqualTo((i * 7, i)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => table[300].Sink = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[-1].Sink = 1);
    }

    [TestCase(1)]
    [TestCase(RouteEntry.NearCount)]
    [TestCase(RouteEntry.NearCount + 3)]
    public void AnyRouteLength_CarriesEachPacketOverEveryLinkInOrder(int length)
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        // Each link 1 ms of delay and a distinct rate, so the arrival time says the packet crossed every one.
        var links = Enumerable.Range(0, length)
            .Select(i => net.AddLink($"l{i}", 12_000_000L * (i + 1), SimTime.FromMilliseconds(1), new DropTailQueue(10)))
            .ToList();
        var sink = new RecordingSink(net);
        int other = net.AddRoute([net.AddLink("other", 1_000_000, SimTime.Zero, new DropTailQueue(1))], net.AddSink(new RecordingSink(net)));
        int route = net.AddRoute(links, net.AddSink(sink));
        Assert.That(other, Is.EqualTo(0));
        int p = net.Packets.Allocate();
        net.Packets[p].Route = route;
        net.Packets[p].SizeBytes = 1500;
        net.Send(p);
        sim.RunUntil(SimTime.FromSeconds(1));
        // 1500 B at 12 Mbit/s × (i + 1): 1 ms / (i + 1) of serialisation per link (ns, rounded up), plus 1 ms of
        // propagation each.
        long expected = Enumerable.Range(0, length).Sum(i => (1_000_000L + i) / (i + 1) + 1_000_000L);
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { expected }));
        Assert.That(links.Select(l => l.Stats.PacketsSent), Is.All.EqualTo(1L));
    }
}
