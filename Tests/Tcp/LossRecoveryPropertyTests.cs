using Bogus;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Properties of RACK-TLP recovery over randomized loss and reordering patterns (Bogus, fixed seeds): the transfer
/// completes, the counters tcp_packets_in_flight is made of match the scoreboard after every event, and a single
/// loss with data after it is repaired without an RTO.
/// </summary>
[Category("Tcp")]
public sealed class LossRecoveryPropertyTests
{
    private static IEnumerable<int> Seeds => Enumerable.Range(1, 12);

    /// <summary>sacked_out, lost_out, retrans_out and packets_out as the scoreboard has them.</summary>
    private static void AssertScoreboard(TcpStack stack, TcpConnection c, string when)
    {
        ref var sk = ref stack.Sock(c.Id);
        uint sacked = 0, lost = 0, retrans = 0;
        for (ulong s = c.SndUna; s < c.SndNxt; s++)
        {
            var f = c.Segment(s).Flags;
            sacked += (f & SegmentFlags.Sacked) != 0 ? 1u : 0;
            lost += (f & SegmentFlags.Lost) != 0 ? 1u : 0;
            retrans += (f & SegmentFlags.Retrans) != 0 ? 1u : 0;
        }
        if (c.State == TcpConnectionState.Closed)
        {
            return;
        }
        Assert.That((sk.PacketsOut, sk.SackedOut, sk.LostOut, sk.RetransOut), Is.EqualTo(((uint)(c.SndNxt - c.SndUna), sacked, lost, retrans)), when);
        Assert.That(sk.SackedOut + sk.LostOut, Is.LessThanOrEqualTo(sk.PacketsOut), when);
    }

    [TestCaseSource(nameof(Seeds))]
    public void RandomLossAndReordering_EveryByteAcked_ScoreboardConsistent(int seed)
    {
        var random = new Randomizer(seed);
        double p = random.Double(0.002, 0.05);
        double reorder = random.Double(0, 0.01);
        var path = new ScriptedPath(oneWayMs: random.Int(1, 20));
        const int segments = 800;
        var flow = path.Open(cc: random.ArrayElement(new[] { "undo_count", "cubic", "reno" }), bytes: segments * ScriptedPath.Mss);
        // Each transmission (retransmissions too) is lost with probability p; a few arrive late (reordering).
        var draw = new Randomizer(seed * 7919);
        path.Data.DropIf = (seg, tx) => draw.Double() < p;
        for (int i = 0; i < segments * reorder; i++)
        {
            path.Data.Delay[(draw.Long(0, segments - 1), 1)] = SimTime.FromMicroseconds(draw.Int(100, 8000));
        }
        int events = 0;
        path.Stack.Updated += c =>
        {
            events++;
            AssertScoreboard(path.Stack, c, $"seed {seed}, event {events}, t {path.Sim.Now.Nanoseconds} ns, state {path.Stack.Sock(c.Id).IcskCaState}");
        };
        path.RunFor(120);
        TestContext.Out.WriteLine($"p {p:0.000}, retrans {flow.Stats.Retransmits}, timeouts {flow.Stats.Timeouts}, probes {flow.Stats.LossProbes}, " +
                                  $"reo {flow.Stats.RackReoTimeouts}, lost retrans {flow.Stats.LostRetransmits}, dsacks {flow.Stats.DsacksReceived}");
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed), "the transfer finished");
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(segments * ScriptedPath.Mss), "every byte acknowledged");
        Assert.That(path.Net.Packets.InUse, Is.Zero, "every packet went back to the pool");
    }

    [TestCaseSource(nameof(Seeds))]
    public void SingleNonTailLoss_RepairedWithoutRto(int seed)
    {
        var random = new Randomizer(seed);
        const int segments = 600;
        long lost = random.Long(1, segments - 20); // at least 20 segments follow it
        var path = new ScriptedPath(oneWayMs: random.Int(1, 20));
        var flow = path.Open(bytes: segments * ScriptedPath.Mss);
        path.Data.Drop.Add((lost, 1));
        path.RunFor(10);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(segments * ScriptedPath.Mss));
        Assert.That((flow.Stats.Timeouts, path.Data.TxOf(lost)), Is.EqualTo((0L, 2)), $"segment {lost}");
    }
}
