using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>GRO at the receiving host (net/core/gro.c, tcp_gro_receive) and the ACKs TCP sends for merged skbs.</summary>
[Category("Tcp")]
public sealed class GroTests
{
    private const int Mss = 1448;

    /// <summary>Segments each ACK newly acknowledges, in order, for a flow with no loss.</summary>
    private static List<long> AckAdvances(TappedPath path)
    {
        var advances = new List<long>();
        uint last = 1;
        foreach (var a in path.Acks.Skip(1)) // the SYN-ACK
        {
            if (a.Ack != last)
            {
                advances.Add((long)(a.Ack - last + Mss - 1) / Mss);
                last = a.Ack;
            }
        }
        return advances;
    }

    private static (TcpConnection Flow, TappedPath Path) Transfer(bool gro, long bytes = 20_000_000)
    {
        // 10 Gbit/s links: a segment every 1.2 µs, so a 100 µs interrupt window gathers over 64, the NAPI budget.
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = gro, NapiCoalesce = SimTime.FromMicroseconds(100) });
        var path = new TappedPath(sc.Net, bottleneckBps: 10_000_000_000, bottleneckDelay: SimTime.FromMilliseconds(1), queue: 100_000);
        Assert.That(sc.Stack.Open(path.Connect, "cubic", SimTime.Zero, out var flow, bytes).IsOk);
        sc.RunFor(2);
        Assert.That((flow!.State, flow.Stats.Retransmits), Is.EqualTo((TcpConnectionState.Closed, 0L)), "done without loss");
        return (flow, path);
    }

    [Test]
    public void Gro_MergedArrivals_YieldStretchAcks()
    {
        // One skb per merged run, and __tcp_ack_snd_check ACKs at once when more than one rcv_mss (the skb's
        // gso_size) is unacknowledged: one ACK per merged skb, covering all its segments.
        var (_, path) = Transfer(gro: true);
        var advances = AckAdvances(path);
        TestContext.Out.WriteLine($"{advances.Count} ACKs, mean {advances.Average():0.0} segments, max {advances.Max()}");
        Assert.That(advances.Average(), Is.GreaterThan(8), "stretch ACKs");
        // gro_max_size: 52 header bytes + n × 1448 must stay under 65 536, so an skb holds at most 45 segments.
        Assert.That(advances.Max(), Is.EqualTo((TcpStack.GroMaxSize - 52 - 1) / Mss));
    }

    [Test]
    public void GroOff_EverySecondFullFrameAcked()
    {
        // Over veth (GRO off) each segment is its own skb: an ACK for every second one, or a delayed ACK for one.
        var (_, path) = Transfer(gro: false);
        var advances = AckAdvances(path);
        Assert.That(advances.Max(), Is.LessThanOrEqualTo(2));
        Assert.That(advances.Average(), Is.GreaterThan(1.5));
    }

    private static IEnumerable<TestCaseData> MergeRules()
    {
        // (what changes at which packet, how many merge from the first): tcp_gro_receive and inet_gro_flush.
        yield return new TestCaseData("none", 0, 8).SetName("GroRun_MergesAConsecutiveRun");
        yield return new TestCaseData("gap", 3, 3).SetName("GroRun_SequenceGap_StartsANewSkb");
        yield return new TestCaseData("cwr", 3, 3).SetName("GroRun_CwrOnTheNewcomer_StartsANewSkb");
        yield return new TestCaseData("cwr", 0, 8).SetName("GroRun_CwrOnTheHeldSkb_StillMerges");
        yield return new TestCaseData("ce", 3, 3).SetName("GroRun_EcnCodepointChange_StartsANewSkb");
        yield return new TestCaseData("next_ms", 3, 3).SetName("GroRun_TimestampOptionChange_StartsANewSkb");
        yield return new TestCaseData("same_ms", 3, 8).SetName("GroRun_TsvalWithinTheSameMillisecond_Merges");
        yield return new TestCaseData("short", 2, 3).SetName("GroRun_ShortSegment_MergedThenFlushes");
        yield return new TestCaseData("short", 0, 1).SetName("GroRun_LongerThanTheHeldGsoSize_StartsANewSkb");
        yield return new TestCaseData("many", 0, 45).SetName("GroRun_StopsBelowGroMaxSize");
    }

    [TestCaseSource(nameof(MergeRules))]
    public void GroRun_FollowsTcpGroReceive(string change, int at, int expected)
    {
        var sc = new TcpScenario();
        int n = change == "many" ? 60 : 8;
        var batch = new int[n];
        uint seq = 1;
        for (int i = 0; i < n; i++)
        {
            batch[i] = sc.Net.Packets.Allocate();
            ref var p = ref sc.Net.Packets[batch[i]];
            p.PayloadBytes = change == "short" && i == at ? 1000 : Mss;
            p.SizeBytes = p.PayloadBytes + 52;
            p.Ecn = change == "ce" && i == at ? EcnCodepoint.Ce : EcnCodepoint.Ect0;
            p.Segment.Flags = TcpFlags.Ack | (change == "cwr" && i == at ? TcpFlags.Cwr : TcpFlags.None);
            p.Segment.Seq = change == "gap" && i == at ? seq + Mss : seq;
            p.Segment.TsVal = 5_000 + (i == at ? change switch { "next_ms" => 1000u, "same_ms" => 999u, _ => 0u } : 0u);
            seq = p.Segment.Seq + (uint)p.PayloadBytes;
        }
        Assert.That(sc.Stack.GroRun(batch, 0, n), Is.EqualTo(expected));
    }

    [Test]
    public void Gro_WithLossesAndRetransmissions_SizedTransfersCompleteExactly()
    {
        // Merged runs arrive out of order, fill holes and overlap what arrived before (a retransmission merged with
        // the data after it starts below rcv_nxt): every byte is delivered once and every connection finishes.
        var sc = new TcpScenario(new DumbbellOptions
        {
            BottleneckRateBps = 5_000_000_000,
            AccessRateBps = 10_000_000_000,
            BottleneckDelay = SimTime.FromMilliseconds(2),
            BottleneckLoss = new BernoulliLoss(0.002),
            BottleneckQueue = _ => new DropTailQueue(500),
        }, stack: new TcpStackOptions { NapiCoalesce = SimTime.FromMicroseconds(100) });
        const long size = 10_000_000;
        var flows = new[] { "cubic", "reno", "bbr", "cubic" }.Select((cc, i) => sc.Flow(cc, startS: 0.01 * i, bytes: size)).ToList();
        sc.RunFor(10);
        foreach (var f in flows)
        {
            Assert.That((f.State, f.Stats.BytesAcked), Is.EqualTo((TcpConnectionState.Closed, size)), f.Ops.Name);
        }
        Assert.That(flows.Sum(f => f.Stats.Retransmits), Is.GreaterThan(20), "the losses happened");
        Assert.That(sc.Net.Packets.InUse, Is.Zero, "every packet went back to the pool");
    }

    [Test]
    public void Gro_MergedSkbStartingBelowRcvNxt_AdvancesRcvNxtToItsEnd()
    {
        // tcp_data_queue's partial packet (seq < rcv_nxt < end_seq): a run of five segments of which the first two
        // were already received moves rcv_nxt to the run's end, not two segments beyond it.
        var (_, deliver, flow) = GroReceiver();
        deliver(0, 5);
        Assert.That(flow.RcvNxt, Is.EqualTo(5UL));
        deliver(3, 8);
        Assert.That(flow.RcvNxt, Is.EqualTo(8UL));
    }

    /// <summary>Records the ACKs a receiver sends: cumulative ACK and SACK blocks (D-SACK first), in segments.</summary>
    private sealed class AckRecorder(Network net) : IPacketSink
    {
        public List<(long Ack, (long Start, long End)[] Blocks)> Acks { get; } = [];

        public void Receive(int packet)
        {
            var s = net.Packets[packet].Segment;
            static long Seg(uint seq) => (seq - 1) / Mss;
            var b = net.Packets.SacksOf(packet);
            var all = new[] { (b.Sack0Start, b.Sack0End), (b.Sack1Start, b.Sack1End), (b.Sack2Start, b.Sack2End) };
            Acks.Add((Seg(s.Ack), all[..s.SackCount].Select(b => (Seg(b.Item1), Seg(b.Item2))).ToArray()));
            net.Packets.Free(packet);
        }
    }

    /// <summary>A GRO receiver whose ACKs are recorded, and a way to hand it runs of segments [from, to) in one poll.</summary>
    private static (AckRecorder Acks, Action<int, int> Deliver, TcpConnection Flow) GroReceiver()
    {
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = true });
        var acks = new AckRecorder(sc.Net);
        IPacketSink? receiver = null;
        FlowPath Connect(IPacketSink sender, IPacketSink rcv)
        {
            receiver = rcv;
            var link = sc.Net.AddLink("rec", 1_000_000_000, SimTime.Zero, new DropTailQueue(100));
            int route = sc.Net.AddRoute([link], sc.Net.AddSink(acks));
            return new FlowPath(route, route, SimTime.FromMilliseconds(1));
        }
        Assert.That(sc.Stack.Open(Connect, "cubic", SimTime.FromSeconds(10), out var flow).IsOk);
        void Deliver(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                int p = sc.Net.Packets.Allocate();
                ref var packet = ref sc.Net.Packets[p];
                packet.Flow = flow!.Id;
                packet.PayloadBytes = Mss;
                packet.SizeBytes = Mss + 52;
                packet.Segment.Flags = TcpFlags.Ack;
                packet.Segment.Seq = (uint)(1 + i * Mss);
                packet.Segment.TsVal = 1_000;
                receiver!.Receive(p);
            }
            sc.RunFor(0.001); // the poll, and the ACK
        }
        return (acks, Deliver, flow!);
    }

    [Test]
    public void Gro_InOrderRunOverQueuedData_DsacksTheQueuedPart()
    {
        // net/ipv4/tcp_input.c tcp_ofo_queue: an in-order skb (here a GRO-merged run 3..8 filling the hole at 3..4)
        // that runs on over out-of-order data already queued (5..6) leaves that data below rcv_nxt (dsack_high):
        // tcp_dsack_extend D-SACKs it, [5, 7), in the next ACK.
        var (acks, deliver, _) = GroReceiver();
        deliver(0, 3);
        deliver(5, 7);
        Assert.That(acks.Acks[^1], Is.EqualTo((3L, new[] { (5L, 7L) })).UsingPropertiesComparer(), "a SACK of the queued run");
        deliver(3, 9);
        var (ack, blocks) = acks.Acks[^1];
        Assert.That(ack, Is.EqualTo(9L));
        Assert.That(blocks, Is.EqualTo(new[] { (5L, 7L) }), "the D-SACK of the duplicated queued run");
    }

    [Test]
    public void Gro_OutOfOrderRunInAHoleOverQueuedData_DsacksTheCoveredRun()
    {
        // net/ipv4/tcp_input.c tcp_data_queue_ofo: a GRO-merged run 5..8 inserted in the hole after rcv_nxt = 3 covers
        // the queued 6..7; merge_right drops that skb and tcp_dsack_extend reports it: D-SACK [6, 8) first, then the
        // SACK block of the merged data [5, 9).
        var (acks, deliver, _) = GroReceiver();
        deliver(0, 3);
        deliver(6, 8);
        deliver(5, 9);
        var (ack, blocks) = acks.Acks[^1];
        Assert.That(ack, Is.EqualTo(3L));
        Assert.That(blocks, Is.EqualTo(new[] { (6L, 8L), (5L, 9L) }));
    }

    [Test]
    public void Gro_InterruptCoalescing_DelaysDeliveryByTheWindow()
    {
        // The first packet of a poll waits NapiCoalesce before TCP sees it: the handshake's RTT grows by it (the SYN is
        // taken by a poll too), and so does the smallest RTT sample of a flow at 100 Mbit/s (nothing to merge).
        var off = new TcpScenario(stack: new TcpStackOptions { Gro = false });
        var on = new TcpScenario(stack: new TcpStackOptions { Gro = true });
        var a = off.Flow("cubic", bytes: 100_000);
        var b = on.Flow("cubic", bytes: 100_000);
        off.RunFor(1);
        on.RunFor(1);
        double extraUs = (b.Stats.RttMinMs - a.Stats.RttMinMs) * 1000;
        Assert.That(extraUs, Is.EqualTo(50).Within(1), "rx-usecs 50");
    }
}
