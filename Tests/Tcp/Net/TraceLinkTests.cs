using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// Trace-driven links against mm-link's rules (mahimahi src/frontend/link_queue.cc, LinkQueue::rationalize): an
/// opportunity gives 1504 bytes, a packet costs its IP size plus 4, bytes carry from one packet to the next within an
/// opportunity and a packet may finish in a later one, bytes unused when the queue is empty are lost, an opportunity
/// at the instant a packet arrives is not that packet's, and the trace loops at its last timestamp.
/// </summary>
[Category("Tcp")]
public sealed class TraceLinkTests
{
    private sealed class Sink(Network net) : IPacketSink
    {
        public readonly List<(long T, int Size, uint Seq)> Received = [];

        public void Receive(int packet)
        {
            ref var p = ref net.Packets[packet];
            Received.Add((net.Simulator.Now.Nanoseconds, p.SizeBytes, p.Segment.Seq));
            net.Packets.Free(packet);
        }
    }

    private static (Simulator Sim, Network Net, Link Link, Sink Sink, int Route) Make(DeliveryTrace trace, int limit = 100_000,
        long delayMs = 0)
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("mm", trace, SimTime.FromMilliseconds(delayMs), new DropTailQueue(limit));
        var sink = new Sink(net);
        int route = net.AddRoute([link], net.AddSink(sink));
        return (sim, net, link, sink, route);
    }

    private static void SendAt(Simulator sim, Network net, int route, long atNs, int size, uint seq = 0) =>
        sim.Schedule(new SimTime(atNs), () =>
        {
            int p = net.Packets.Allocate();
            ref var packet = ref net.Packets[p];
            packet.Route = route;
            packet.SizeBytes = size;
            packet.Segment.Seq = seq;
            net.Send(p);
        });

    private static DeliveryTrace Trace(params long[] ms) => DeliveryTrace.FromMilliseconds(ms, "test");

    private const long Ms = 1_000_000;

    [Test]
    public void FullSizePackets_OnePerOpportunity_LeaveAtTheOpportunity()
    {
        var (sim, net, link, sink, route) = Make(Trace(1), delayMs: 5);
        for (uint i = 0; i < 4; i++)
        {
            SendAt(sim, net, route, 0, 1500, i);
        }
        sim.RunUntil(SimTime.FromSeconds(1));
        // 1500 + 4 = 1504: one opportunity each, at 1, 2, 3, 4 ms, then 5 ms of propagation.
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { 6 * Ms, 7 * Ms, 8 * Ms, 9 * Ms }));
        Assert.That(sink.Received.Select(r => r.Seq), Is.EqualTo(new uint[] { 0, 1, 2, 3 }));
        Assert.That(link.Stats.PacketsSent, Is.EqualTo(4));
    }

    [Test]
    public void SmallPackets_ShareAnOpportunity_AndTheLeftoverStartsTheNextPacket()
    {
        // Opportunities at 10 and 20 ms. Two ACK-sized packets (52 + 4 = 56 B each) then a full one (1504 B): the
        // first opportunity delivers both ACKs and 1392 B of the full packet, which finishes at the second.
        var (sim, net, _, sink, route) = Make(Trace(10, 20));
        SendAt(sim, net, route, 1 * Ms, 52, 0);
        SendAt(sim, net, route, 1 * Ms, 52, 1);
        SendAt(sim, net, route, 1 * Ms, 1500, 2);
        sim.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(sink.Received.Select(r => (r.T, r.Seq)), Is.EqualTo(new[] { (10 * Ms, 0u), (10 * Ms, 1u), (20 * Ms, 2u) }));
    }

    [Test]
    public void UnusedBytes_AreLost_NotCredited()
    {
        // One ACK uses 56 of the 1504 bytes at 10 ms; a full packet arriving at 11 ms cannot use the other 1448 and
        // waits for the whole opportunity at 20 ms.
        var (sim, net, _, sink, route) = Make(Trace(10, 20));
        SendAt(sim, net, route, 1 * Ms, 52, 0);
        SendAt(sim, net, route, 11 * Ms, 1500, 1);
        sim.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { 10 * Ms, 20 * Ms }));
    }

    [Test]
    public void PacketArrivingAtAnOpportunity_WaitsForTheNextOne()
    {
        // mm-link's read_packet rationalizes up to now before queueing, so the opportunity at the arrival's instant
        // passes first; the packet leaves at the next (10 ms of the second loop = 20 ms).
        var (sim, net, _, sink, route) = Make(Trace(10));
        SendAt(sim, net, route, 10 * Ms, 1500);
        sim.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(sink.Received.Single().T, Is.EqualTo(20 * Ms));
    }

    [Test]
    public void Trace_LoopsAtItsLastTimestamp_RepeatingAZeroStart()
    {
        // Lines 0 and 5: period 5 ms. Loop k opens k×5 + 0 and k×5 + 5, so 5, 10, … each hold two opportunities
        // (mm-link's base_timestamp_ += schedule_.back()).
        var trace = Trace(0, 5);
        Assert.That(trace.OpportunitiesBetween(0, 11), Is.EqualTo(5)); // 0, 5, 5, 10, 10
        var (sim, net, _, sink, route) = Make(trace);
        for (uint i = 0; i < 5; i++)
        {
            SendAt(sim, net, route, Ms / 2, 1500, i);
        }
        sim.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(sink.Received.Select(r => r.T), Is.EqualTo(new[] { 5 * Ms, 5 * Ms, 10 * Ms, 10 * Ms, 15 * Ms }));
    }

    [Test]
    public void LongIdle_ThenTraffic_KeepsTheTracePhase()
    {
        // After an idle hour the opportunities are still at whole loops of the trace: 3 s + 7 ms, +10 ms.
        var (sim, net, link, sink, route) = Make(Trace(7, 10));
        SendAt(sim, net, route, 3_600_000 * Ms + 2 * Ms, 1500, 0);
        SendAt(sim, net, route, 3_600_000 * Ms + 2 * Ms, 1500, 1);
        sim.RunUntil(SimTime.FromSeconds(3601));
        Assert.That(sink.Received.Select(r => r.T - 3_600_000 * Ms), Is.EqualTo(new[] { 7 * Ms, 10 * Ms }));
        net.FinishAccounting();
        Assert.That(link.Stats.CapacityBytes, Is.EqualTo(Trace(7, 10).OpportunitiesBetween(0, 3_601_001) * DeliveryTrace.OpportunityBytes));
    }

    /// <summary>
    /// mm-link's algorithm written out plainly (a list of arrivals, a queue, the trace walked opportunity by
    /// opportunity): the departure time of each packet.
    /// </summary>
    private static List<(long T, uint Seq)> MmLinkReference(DeliveryTrace trace, IReadOnlyList<(long T, int Size, uint Seq)> arrivals)
    {
        var departures = new List<(long, uint)>();
        var queue = new Queue<(int Bytes, uint Seq)>();
        (int Left, uint Seq)? transit = null;
        int next = 0;
        long baseMs = 0;
        long NextNs() => (trace[next] + baseMs) * Ms;
        void Rationalize(long now)
        {
            while (NextNs() <= now)
            {
                long t = NextNs();
                int budget = 1504;
                if (++next == trace.Count)
                {
                    next = 0;
                    baseMs += trace.PeriodMs;
                }
                while (budget > 0)
                {
                    if (transit is null)
                    {
                        if (queue.Count == 0)
                        {
                            break;
                        }
                        var q = queue.Dequeue();
                        transit = (q.Bytes, q.Seq);
                    }
                    int used = Math.Min(budget, transit.Value.Left);
                    budget -= used;
                    transit = (transit.Value.Left - used, transit.Value.Seq);
                    if (transit.Value.Left == 0)
                    {
                        departures.Add((t, transit.Value.Seq));
                        transit = null;
                    }
                }
            }
        }
        foreach (var a in arrivals)
        {
            Rationalize(a.T);
            queue.Enqueue((a.Size + 4, a.Seq));
        }
        while (queue.Count > 0 || transit is not null)
        {
            Rationalize(NextNs());
        }
        return departures;
    }

    [Test]
    public void RandomTrafficOnARandomTrace_LeavesWhenMmLinksAlgorithmSays([Values(1, 2, 3)] int seed)
    {
        var random = new Random(seed);
        long t = 0;
        var ms = Enumerable.Range(0, 300).Select(_ => t += random.Next(4) == 0 ? random.Next(0, 30) : random.Next(0, 2)).ToList();
        var trace = Trace([.. ms, ms[^1] + 1]);
        var arrivals = new List<(long T, int Size, uint Seq)>();
        long now = 0;
        for (uint i = 0; i < 2000; i++)
        {
            // Arrivals in bursts and on whole milliseconds, so many coincide with opportunities.
            now += random.Next(3) == 0 ? random.Next(0, 4) * Ms : random.Next(0, 3_000_000);
            arrivals.Add((now, random.Next(2) == 0 ? 1500 : random.Next(40, 1501), i));
        }
        var (sim, net, _, sink, route) = Make(trace);
        foreach (var a in arrivals)
        {
            SendAt(sim, net, route, a.T, a.Size, a.Seq);
        }
        sim.RunUntil(new SimTime(now + 3_600_000 * Ms));
        Assert.That(sink.Received.Select(r => (r.T, r.Seq)), Is.EqualTo(MmLinkReference(trace, arrivals)));
    }

    [Test]
    public void Forwarding_ThroughATraceDrivenLink_WithItsMmLinkLog_AllocatesNothing()
    {
        var (sim, net, link, sink, route) = Make(Trace(1, 1, 2, 5, 9, 9, 9, 10));
        link.Recorder = new BpfSim.Studies.Mahimahi.MmLinkLog(new StreamWriter(Stream.Null), sim, link, "mm.mmlog", "test", "droptail");
        net.ScheduleChange(link, new LinkChange(SimTime.FromSeconds(100), Delay: SimTime.FromMilliseconds(1)));
        void Burst(int n)
        {
            for (int i = 0; i < n; i++)
            {
                int p = net.Packets.Allocate();
                ref var packet = ref net.Packets[p];
                packet.Route = route;
                packet.SizeBytes = i % 3 == 0 ? 52 : 1500;
                net.Send(p);
            }
            sim.RunUntil(sim.Now + SimTime.FromSeconds(10));
        }
        Burst(1000); // grows the queue's ring, the pool and the event queue once
        sink.Received.Clear();
        sink.Received.Capacity = 2000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Burst(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(sink.Received, Has.Count.EqualTo(1000));
        Assert.That(allocated, Is.Zero);
    }
}
