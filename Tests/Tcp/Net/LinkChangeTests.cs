using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Links whose rate, delay and loss change at set times (<see cref="Network.ScheduleChange"/>).</summary>
[Category("Tcp")]
public sealed class LinkChangeTests
{
    private const long Ms = 1_000_000;

    private static (Simulator Sim, Network Net, Link Link, RecordingSink Sink, int Route) Make(long rateBps, long delayMs)
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("l", rateBps, SimTime.FromMilliseconds(delayMs), new DropTailQueue(10_000));
        var sink = new RecordingSink(net);
        return (sim, net, link, sink, net.AddRoute([link], net.AddSink(sink)));
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
    public void RateChange_AppliesFromTheNextPacket_ThePacketOnTheWireKeepsItsTime()
    {
        // 12 Mbit/s: 1 ms per packet. At 1.5 ms the rate becomes 6 Mbit/s: packet 1 (on the wire since 1 ms) still
        // ends at 2 ms, as netem/tbf keep a scheduled packet's time; packets 2 and 3 take 2 ms each.
        var (sim, net, _, sink, route) = Make(12_000_000, 0);
        for (uint i = 0; i < 4; i++)
        {
            Send(net, route, i);
        }
        net.ScheduleChange(net.Links[0], new LinkChange(new SimTime(1_500_000), RateBps: 6_000_000));
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { 1 * Ms, 2 * Ms, 4 * Ms, 6 * Ms }));
        Assert.That(net.Links[0].RateBps, Is.EqualTo(6_000_000));
    }

    [Test]
    public void DelayChange_AppliesToPacketsPutOnTheWireAfterIt_AndAShorterDelayNeverReorders()
    {
        // 1 ms per packet, 10 ms of delay; at 2.5 ms the delay becomes 1 ms. Packets 0, 1 and 2 were put on the wire
        // before the change (arrive 11, 12, 13 ms). Packet 3 starts at 3 ms, leaves at 4 ms and would arrive at 5 ms,
        // ahead of packet 2: it follows it (13 ms), as on one wire; packet 12 leaves at 13 ms and arrives at 14 ms.
        var (sim, net, link, sink, route) = Make(12_000_000, 10);
        for (uint i = 0; i < 13; i++)
        {
            Send(net, route, i);
        }
        net.ScheduleChange(link, new LinkChange(new SimTime(2_500_000), Delay: SimTime.FromMilliseconds(1)));
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.Seq), Is.Ordered);
        Assert.That(sink.Received.Take(4).Select(r => r.T), Is.EqualTo(new[] { 11 * Ms, 12 * Ms, 13 * Ms, 13 * Ms }));
        Assert.That(sink.Received[^1].T, Is.EqualTo(14 * Ms));
    }

    [Test]
    public void LossChange_LosesFromThenOn()
    {
        var (sim, net, link, sink, route) = Make(1_000_000_000, 0);
        net.ScheduleChange(link, new LinkChange(SimTime.FromMilliseconds(10), Loss: 1.0));
        net.ScheduleChange(link, new LinkChange(SimTime.FromMilliseconds(20), Loss: 0.0));
        for (int ms = 0; ms < 30; ms++)
        {
            uint seq = (uint)ms;
            sim.Schedule(SimTime.FromMilliseconds(ms) + new SimTime(1), () => Send(net, route, seq));
        }
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(Enumerable.Range(0, 10).Concat(Enumerable.Range(20, 10)).Select(i => (uint)i)));
        Assert.That(link.Stats.RandomLosses, Is.EqualTo(10));
    }

    [Test]
    public void RateChange_OnATraceDrivenLink_IsRefused()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("mm", DeliveryTrace.FromMilliseconds([1], "one"), SimTime.Zero, new DropTailQueue(10));
        Assert.Throws<ArgumentException>(() => net.ScheduleChange(link, new LinkChange(SimTime.FromSeconds(1), RateBps: 1_000_000)));
        Assert.DoesNotThrow(() => net.ScheduleChange(link, new LinkChange(SimTime.FromSeconds(1), Delay: SimTime.FromMilliseconds(3), Loss: 0.1)));
    }
}
