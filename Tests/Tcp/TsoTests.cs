using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>TSO/GSO sizing and deferral (tcp_tso_autosize, tcp_tso_segs, tcp_tso_should_defer in net/ipv4/tcp_output.c).</summary>
[Category("Tcp")]
public sealed class TsoTests
{
    private const int Mss = 1448;

    [TestCase(12_500_000UL, 24_000u, 2u, 8u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_100Mbit")]
    [TestCase(100_000UL, 24_000u, 2u, 2u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_BelowOneSegmentGivesMinTso")]
    [TestCase(1_250_000_000UL, 24_000u, 2u, 45u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_CappedByGsoMaxSize")]
    [TestCase(12_500_000UL, 1_000u, 2u, 30u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_PlusHalfGsoMaxSizeAt1msMinRtt")]
    [TestCase(12_500_000UL, 16_384u, 2u, 8u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_NoRttAllowanceFrom16ms")]
    [TestCase(ulong.MaxValue, ~0u, 2u, 45u, TestName = "TsoAutosize_SegsFromPacingRateShiftedByTen_UnsetRateGivesAFullSkb")]
    public void TsoAutosize(ulong rate, uint minRttUs, uint minTso, uint expected)
    {
        // bytes = rate >> 10, + 65215 >> (min_rtt >> 9) while that shift is below 32, at most 65215; / mss, >= min_tso.
        Assert.That(TcpStack.TsoAutosize(rate, minRttUs, Mss, minTso), Is.EqualTo(expected));
    }

    [Test]
    public void MinTsoSegs_FromCongestionOpsOverridesSysctl()
    {
        // At 100 kB/s, rate >> 10 is under one segment: the skb size is the floor, tcp_min_tso_segs (2) unless the
        // algorithm has min_tso_segs. Each skb then takes one pacing step for all its bytes.
        const ulong rate = 100_000;
        foreach (var (minTso, expected) in new (uint?, int)[] { (null, 2), (5, 5), (1, 1) })
        {
            var (sc, path, flow) = FixedRatePacer.Start(rate, tso: true, minTsoSegs: minTso);
            sc.RunFor(1);
            Assert.That(sc.Stack.Sock(flow.Id).TsoSegs, Is.EqualTo((uint)expected), $"min_tso_segs {minTso}");
            var bursts = path.Bursts(path.Data[10].TimeNs);
            Assert.That(bursts.SkipLast(1).Select(b => b.Count), Is.All.EqualTo(expected), $"min_tso_segs {minTso}");
            long step = (long)((ulong)(expected * Mss) * 1_000_000_000UL / rate);
            Assert.That(bursts[2][0].TimeNs - bursts[1][0].TimeNs, Is.EqualTo(step), "one len_ns per skb");
        }
    }

    [Test]
    public void PacedBbr_SendsSkbsOfTheAutosizedLength()
    {
        // BBR's bandwidth on a 100 Mbit/s bottleneck is 12.07 MB/s of payload (1448 of every 1500 bytes); at gain 1 it
        // paces at 99 % of that, 11.95 MB/s >> 10 = 11 669 bytes: 8 segments (min_rtt 24 ms adds no allowance).
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = false });
        var path = new TappedPath(sc.Net, bottleneckBps: 100_000_000, queue: 250);
        Assert.That(sc.Stack.Open(path.Connect, "bbr", SimTime.Zero, out var flow).IsOk);
        sc.RunFor(4);
        ref var sk = ref sc.Stack.Sock(flow!.Id);
        uint expected = TcpStack.TsoAutosize(sk.SkPacingRate, sk.MinRttUs, sk.MssCache, 2);
        Assert.That(sk.TsoSegs, Is.EqualTo(expected));
        Assert.That(expected, Is.InRange(6u, 10u), "gain 0.75 to 1.25 of the same bandwidth");
        var sizes = path.Bursts(3_000_000_000).Select(b => b.Count).ToList();
        int mode = sizes.GroupBy(s => s).OrderByDescending(g => g.Count()).First().Key;
        Assert.That(mode, Is.EqualTo(8), "most skbs are the autosized length at gain 1");
        Assert.That(sizes.Max(), Is.LessThanOrEqualTo(45), "never more than sk_gso_max_size");
    }

    [Test]
    public void CwndTest_SkbAtMostHalfTheWindow()
    {
        // tcp_cwnd_test gives at most max(cwnd / 2, 1) segments per skb ("at least 2 GSO packets in flight"): with
        // cwnd 20 and tcp_tso_segs 45, the first skb holds 10, brings data_segs_out to 10 and so is paced, and the
        // second 10 leave len_ns of 10 segments later — less the credit of the handshake's idle RTT (tcp_wstamp_ns was
        // the SYN's departure), which takes half of it off.
        const ulong rate = 100_000_000;
        var (sc, path, _) = FixedRatePacer.Start(rate, tso: true, cwnd: 20);
        sc.RunFor(0.02); // the handshake takes 14 ms
        var bursts = path.Bursts();
        Assert.That(bursts.Take(2).Select(b => b.Count), Is.EqualTo(new[] { 10, 10 }));
        long len = (long)(10UL * Mss * 1_000_000_000UL / rate);
        Assert.That(bursts[1][0].TimeNs - bursts[0][0].TimeNs, Is.EqualTo(len - len / 2));
    }

    [Test]
    public void TsoOff_EverySkbIsOneSegment()
    {
        // sk_gso_max_segs = 1: tcp_tso_segs is 1 whatever the rate, so a paced flow takes one step per segment.
        var (sc, path, flow) = FixedRatePacer.Start(12_500_000, tso: false);
        sc.RunFor(0.5);
        Assert.That(sc.Stack.Sock(flow.Id).TsoSegs, Is.EqualTo(1u));
        Assert.That(path.Bursts(path.Data[10].TimeNs).Select(b => b.Count), Is.All.EqualTo(1));
    }

    [Test]
    public void UnpacedFlow_DefersSmallTsoBurst()
    {
        // CUBIC at 100 Mbit/s with an ACK every two segments (no GRO): each ACK frees two segments, below both
        // tcp_tso_segs (~10) and a third of cwnd, and the next ACK is due within min(srtt/2, 1 ms), so
        // tcp_tso_should_defer holds them until a bigger skb fits or 1 ms has passed since the last departure.
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = false });
        var path = new TappedPath(sc.Net, bottleneckBps: 100_000_000, queue: 10_000);
        Assert.That(sc.Stack.Open(path.Connect, "cubic", SimTime.Zero, out var flow).IsOk);
        sc.RunFor(3);
        var sk = sc.Stack.Sock(flow!.Id);
        Assert.That((sk.IcskCaState, flow.Stats.Retransmits), Is.EqualTo((TcpCaState.Open, 0L)), "no loss: only deferral shapes the bursts");
        var sizes = path.Bursts(2_000_000_000).Select(b => b.Count).ToList();
        double mean = sizes.Average();
        double twos = sizes.Count(s => s <= 2) / (double)sizes.Count;
        TestContext.Out.WriteLine($"tso_segs {sk.TsoSegs}, cwnd {sk.SndCwnd}, {sizes.Count} bursts, mean {mean:0.00}, <=2: {twos:P0}");
        Assert.That(mean, Is.GreaterThan(4), "bursts gather several ACKs' worth");
        Assert.That(twos, Is.LessThan(0.2), "few skbs leave as small as one ACK frees");
    }
}
