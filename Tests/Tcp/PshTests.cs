using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// PSH on the sender's segments (tcp_push → tcp_mark_push in net/ipv4/tcp.c; __tcp_transmit_skb's PSH on every GSO
/// skb in tcp_output.c) and the receiver's ACK of a pushed segment when the application reads it (tcp_measure_rcv_mss
/// in tcp_input.c, __tcp_cleanup_rbuf in tcp.c).
/// </summary>
[Category("Tcp")]
public sealed class PshTests
{
    private const int Mss = 1448;

    /// <summary>Which of each burst's segments (an skb each, separated by the pacing clock) carry PSH.</summary>
    private static List<bool[]> PshPerSkb(TappedPath path, long fromNs) =>
        [.. path.Bursts(fromNs).Select(b => b.Select(d => d.Psh).ToArray())];

    private static bool[] LastOnly(int n) => [.. Enumerable.Range(0, n).Select(i => i == n - 1)];

    [Test]
    public void MultiSegmentSkb_LastSegmentCarriesPsh()
    {
        // An endless transfer paced at 100 kB/s: skbs of tcp_min_tso_segs = 2 segments. No write ends in it, but
        // __tcp_transmit_skb sets PSH on every skb of more than one segment and GSO leaves it on the last.
        var (sc, path, _) = FixedRatePacer.Start(100_000, tso: true);
        sc.RunFor(1);
        var skbs = PshPerSkb(path, path.Data[10].TimeNs);
        Assert.That(skbs, Has.Count.GreaterThan(20));
        Assert.That(skbs, Is.All.EqualTo(LastOnly(2)));
    }

    [Test]
    public void OneSegmentSkbs_OnlyTheLastSegmentOfEachWriteCarriesPsh()
    {
        // Skbs of one segment (min_tso_segs 1) carry PSH only where tcp_sendmsg's tcp_push marked the write queue's
        // tail: the last of each 5-segment write, every 200 ms (sent well before the next write).
        var (sc, path, _) = FixedRatePacer.Start(100_000, tso: true, minTsoSegs: 1,
            writes: new TcpWritePattern(5 * Mss, SimTime.FromMilliseconds(200)));
        sc.RunFor(2);
        Assert.That(path.Data, Has.Count.EqualTo(50), "ten writes");
        Assert.That(path.Data.Select(d => d.Psh), Is.EqualTo(Enumerable.Range(1, 50).Select(k => k % 5 == 0)));
    }

    [Test]
    public void WriteAppendedToTheUnsentTailSkb_ClearsTheEarlierWritesPsh()
    {
        // Writes of 3 segments every 10 ms from 0, the connection up at 14 ms, skbs of one segment. The first 10
        // segments are not paced (tcp_update_skb_after_send) and leave as written: write 2 (10 ms) appended to write
        // 1's unsent skb, and tcp_sendmsg's first copy cleared the PSH write 1's tcp_push had set there (no PSH on
        // segment 3, 1-based); segments 6 and 9 leave before the next write and keep theirs. Write 4 (30 ms) finds
        // everything sent and begins a new skb at segment 9. From then on pacing (100 kB/s, about 69 segments/s)
        // falls behind the writes (300/s): each appends to the unsent tail skb and clears the previous write's mark,
        // which stays only where that skb was full (the size goal, 45 segments): segments 54, 99, 144, ...
        var (sc, path, _) = FixedRatePacer.Start(100_000, tso: true, minTsoSegs: 1,
            writes: new TcpWritePattern(3 * Mss, SimTime.FromMilliseconds(10)));
        sc.RunFor(3);
        int n = path.Data.Count;
        Assert.That(n, Is.GreaterThan(150));
        var pushed = path.Data.Select((d, i) => (d, k: i + 1)).Where(x => x.d.Psh).Select(x => x.k);
        Assert.That(pushed, Is.EqualTo(new[] { 6, 9 }.Concat(Enumerable.Range(1, (n - 9) / 45).Select(k => 9 + 45 * k))));
    }

    [Test]
    public void LostLastSegment_ItsRetransmissionCarriesPshToo()
    {
        // The transfer's last segment carries PSH (its write's end); lost, it is sent again by the tail loss probe
        // (tcp_send_loss_probe retransmits the last skb), and the retransmit queue's skb still has PSH.
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = false });
        var path = new TappedPath(sc.Net, bottleneckBps: 100_000_000);
        uint lastSeq = (uint)(1 + 20 * Mss);
        bool dropped = false;
        path.OnDeparture = d => d.Seq == lastSeq && !dropped && (dropped = true);
        Assert.That(sc.Stack.Open(path.Connect, "cubic", SimTime.Zero, out var flow, 21 * Mss).IsOk);
        sc.RunFor(2);
        Assert.That(flow!.State, Is.EqualTo(TcpConnectionState.Closed));
        var sends = path.Data.Where(d => d.Seq == lastSeq).ToList();
        Assert.That(sends.Select(d => d.Psh), Is.EqualTo(new[] { true, true }));
    }

    private static double FctMs(long bytes, bool gro)
    {
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = gro });
        var flow = sc.Flow("cubic", bytes: bytes);
        sc.RunFor(2);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        return (flow.EndTime - flow.StartTime).TotalSeconds * 1e3;
    }

    [TestCase(20, 0, false)]
    [TestCase(100, 0, false)]
    [TestCase(20, 0, true)]
    [TestCase(20, 700, false)]
    public void SizedTransfer_LoneLastSegment_AckedWhenReadNotAfterTheDelayedAckTimer(int segments, int shortBy, bool gro)
    {
        // 100 Mbit/s, 24 ms RTT: one more segment after an even count arrives alone once the quick ACKs are used up.
        // It carries PSH (the write's end), so tcp_measure_rcv_mss sets ICSK_ACK_PUSHED — for a full frame with PSH,
        // or a short one — and the application's read sends the ACK at once (__tcp_cleanup_rbuf): it costs its
        // serialization (0.12 ms), not TCP_ATO_MIN (40 ms).
        double even = FctMs(segments * Mss, gro);
        double odd = FctMs((segments + 1) * Mss - shortBy, gro);
        TestContext.Out.WriteLine($"{segments} segments: {even:0.000} ms; one more: {odd:0.000} ms");
        Assert.That(odd - even, Is.InRange(0, 1));
    }
}
