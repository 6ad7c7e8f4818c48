using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// The network's prefetch hint (<see cref="IEventPrefetcher"/>) is asked about events that may never come, with
/// arguments from stale or cancelled entries: it must accept any (kind, arg) and change nothing.
/// </summary>
[Category("Tcp")]
public sealed class NetworkPrefetchTests
{
    private static (Simulator Sim, Network Net, RecordingSink Sink, int Route) Build()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var a = net.AddLink("a", 12_000_000, SimTime.FromMilliseconds(1), new DropTailQueue(8));
        var b = net.AddLink("b", 6_000_000, SimTime.FromMilliseconds(2), new DropTailQueue(4));
        var sink = new RecordingSink(net);
        return (sim, net, sink, net.AddRoute([a, b], net.AddSink(sink)));
    }

    private static void Send(Network net, int route, uint seq)
    {
        int p = net.Packets.Allocate();
        ref var packet = ref net.Packets[p];
        packet.Route = route;
        packet.SizeBytes = 1500;
        packet.Segment.Seq = seq;
        net.Send(p);
    }

    [Test]
    public void AnyKindAndArgument_ThrowsNothing_AndTheRunIsUnchanged()
    {
        var plain = Build();
        var hinted = Build();
        var random = new Random(16);
        for (uint seq = 0; seq < 20; seq++)
        {
            Send(plain.Net, plain.Route, seq);
            Send(hinted.Net, hinted.Route, seq);
        }
        while (plain.Sim.Step())
        {
        }
        var prefetcher = (IEventPrefetcher)hinted.Net;
        do
        {
            for (int i = 0; i < 50; i++)
            {
                // Real kinds and beyond, arguments in range, out of range, negative, and with garbage above bit 32,
                // at every distance and beyond.
                int distance = random.Next(0, IEventPrefetcher.Distances + 2);
                Assert.DoesNotThrow(() => prefetcher.Prefetch(random.Next(-1, 8), random.NextInt64(long.MinValue, long.MaxValue), distance));
                Assert.DoesNotThrow(() => prefetcher.Prefetch(random.Next(0, 2), random.Next(-3, 40), distance));
                // An arrival at a sink (−(sink + 1) above the packet index), sinks that exist and that do not.
                Assert.DoesNotThrow(() => prefetcher.Prefetch(1, ((long)-random.Next(1, 4) << 32) | (uint)random.Next(0, 40), distance));
            }
        }
        while (hinted.Sim.Step());

        Assert.That(hinted.Sink.Received, Is.EqualTo(plain.Sink.Received));
        // 20 at once into a: one on the wire, 8 queued, 11 dropped; b drains at half a's rate but its queue of 4 holds.
        Assert.That(hinted.Sink.Received, Has.Count.EqualTo(9), "drops and queueing: the run is not trivial");
    }
}
