using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp;

[Category("Tcp")]
public sealed class MetricsTests
{
    /// <summary>Values worked out by hand from (Σx)² / (n·Σx²).</summary>
    [TestCase(new double[] { 5, 5, 5, 5 }, 1.0, TestName = "Jain_EqualShares_IsOne")]
    [TestCase(new double[] { 10, 0, 0, 0 }, 0.25, TestName = "Jain_OneFlowTakesAll_IsOneOverN")]
    [TestCase(new double[] { 3, 1 }, 0.8, TestName = "Jain_ThreeToOne_Is16Over20")]            // 16 / (2·10)
    [TestCase(new double[] { 1, 2, 3 }, 36.0 / 42, TestName = "Jain_OneTwoThree_Is36Over42")]  // 36 / (3·14)
    [TestCase(new double[] { 90, 5, 5 }, 10000.0 / 24450, TestName = "Jain_OneHogTwoCrumbs")]    // 100² / (3·8150)
    [TestCase(new double[] { 0, 0 }, 1.0, TestName = "Jain_AllZero_CountsAsFair")]
    [TestCase(new double[0], 1.0, TestName = "Jain_Empty_CountsAsFair")]
    public void Jain_KnownAllocations_MatchHandComputedValues(double[] shares, double expected)
    {
        Assert.That(Fairness.Jain(shares), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void Jain_NegativeShare_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Fairness.Jain([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fairness.Jain([1, double.NaN]));
    }

    /// <summary>
    /// The index's defining properties on random allocations (fixed seed), each against an independent computation:
    /// 1/n ≤ J ≤ 1; J is the squared mean over the mean square; scaling every share leaves J unchanged; J = 1 exactly
    /// when all shares are equal, and giving one flow more makes it smaller.
    /// </summary>
    [Test]
    public void Jain_RandomAllocations_BoundedScaleInvariantOneOnlyWhenEqual()
    {
        var random = new Bogus.Randomizer(20240611);
        for (int trial = 0; trial < 2000; trial++)
        {
            int n = random.Int(1, 12);
            double[] x = Enumerable.Range(0, n).Select(_ => random.Double() * random.ArrayElement(new[] { 1.0, 100.0, 1e6 })).ToArray();
            double j = Fairness.Jain(x);
            string at = $"trial {trial}: [{string.Join(", ", x)}]";

            double mean = x.Average();
            double meanSquare = x.Select(v => v * v).Average();
            double independent = meanSquare == 0 ? 1 : mean * mean / meanSquare;
            Assert.That(j, Is.EqualTo(independent).Within(1e-9), at);
            Assert.That(j, Is.InRange(1.0 / n - 1e-12, 1.0 + 1e-12), at);

            double k = random.Double(0.001, 1000);
            Assert.That(Fairness.Jain(x.Select(v => v * k).ToArray()), Is.EqualTo(j).Within(1e-9), $"{at} scaled by {k}");

            double c = random.Double(0.1, 100);
            Assert.That(Fairness.Jain(Enumerable.Repeat(c, n).ToArray()), Is.EqualTo(1.0).Within(1e-12), $"{n} equal shares of {c}");
            if (n > 1)
            {
                double[] unequal = Enumerable.Repeat(c, n).ToArray();
                unequal[random.Int(0, n - 1)] += random.Double(0.01, 10) * c;
                Assert.That(Fairness.Jain(unequal), Is.LessThan(1.0 - 1e-9), $"{at}: one share raised");
            }
        }
    }

    [Test]
    public void GetCcInfo_IsTheInetDiagCallSite_AnsweringOnlyWhatIsAskedOfOpenSockets()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new EcnThresholdQueue(20, 1000) });
        var dctcp = sc.Flow("dctcp");
        var cubic = sc.Flow("cubic");
        var bbr = sc.Flow("bbr", stop: SimTime.FromSeconds(1));
        Span<byte> info = stackalloc byte[TcpCcInfo.UnionSize];
        Assert.That(sc.Stack.GetCcInfo(dctcp.Id, TcpCcInfo.SsExtensions, info, out _), Is.Zero, "not connected yet (TCP_CLOSE)");
        sc.RunFor(2);

        Assert.That(sc.Stack.GetCcInfo(dctcp.Id, 0, info, out _), Is.Zero, "no INET_DIAG_DCTCPINFO or VEGASINFO asked");
        Assert.That(sc.Stack.GetCcInfo(dctcp.Id, 1u << (TcpCcInfo.InetDiagDctcpInfo - 1), info, out int attr), Is.EqualTo(16));
        Assert.That(attr, Is.EqualTo(TcpCcInfo.InetDiagDctcpInfo));
        var values = TcpCcInfo.Decode(attr, info).ToDictionary(v => v.Name, v => v.Value);
        Assert.That(values["dctcp_enabled"], Is.EqualTo(1));
        Assert.That(values["dctcp_alpha"], Is.EqualTo(DctcpAlpha(sc, dctcp) / 1024.0));
        Assert.That(values["dctcp_ab_tot"], Is.GreaterThanOrEqualTo(values["dctcp_ab_ecn"]));
        Assert.That(values["dctcp_ab_tot"] % sc.Stack.Sock(dctcp.Id).MssCache, Is.Zero, "whole segments of mss_cache bytes");

        Assert.That(sc.Stack.GetCcInfo(cubic.Id, TcpCcInfo.SsExtensions, info, out _), Is.Zero, "cubic has no get_info");
        Assert.That(sc.Stack.GetCcInfo(bbr.Id, TcpCcInfo.SsExtensions, info, out _), Is.Zero, "closed: no longer below TCP_TIME_WAIT");
        Assert.Throws<ArgumentOutOfRangeException>(() => sc.Stack.GetCcInfo(dctcp.Id, TcpCcInfo.SsExtensions, new byte[8], out _));
    }

    [Test]
    public void DctcpRenoFallback_GetInfoReportsNotEnabled()
    {
        var sk = new BpfSim.Tcp.Stack.TcpSock();
        Span<byte> info = stackalloc byte[TcpCcInfo.UnionSize];
        info.Fill(0xAA);
        int attr = 0;
        Assert.That(Dctcp.RenoFallbackOps.GetInfo!(ref sk, TcpCcInfo.SsExtensions, ref attr, info), Is.EqualTo(16));
        Assert.That(attr, Is.EqualTo(TcpCcInfo.InetDiagDctcpInfo));
        Assert.That(info[..16].ToArray(), Is.All.Zero, "memset, and nothing filled in for dctcp_reno");
    }

    [Test]
    public void Sampler_RecordsWhatGetInfoReports_PerAlgorithm()
    {
        var ecn = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new EcnThresholdQueue(20, 1000) });
        ecn.Flow("dctcp");
        var dctcpSampler = new TcpSampler(ecn.Sim, ecn.Stack, [ecn.Bell.Bottleneck], SimTime.FromMilliseconds(50));
        dctcpSampler.Start(SimTime.Zero);
        ecn.RunFor(10);
        var alpha = dctcpSampler.Flow(0, "dctcp_alpha").Select(p => p.Value).ToList();
        Assert.That(alpha, Is.Not.Empty.And.All.InRange(0.0, 1.0));
        Assert.That(alpha.Skip(alpha.Count / 2).Average(), Is.GreaterThan(0).And.LessThan(0.5), "marking at K = 20 keeps alpha small but non-zero");

        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(200) });
        sc.Flow("bbr");
        sc.Flow("cubic");
        var sampler = new TcpSampler(sc.Sim, sc.Stack, [sc.Bell.Bottleneck], SimTime.FromMilliseconds(50));
        sampler.Start(SimTime.Zero);
        sc.RunFor(10);
        var bw = sampler.Flow(0, "bbr_bw").Select(p => p.Value).ToList();
        Assert.That(bw.Max(), Is.GreaterThan(10).And.LessThanOrEqualTo(100.5), "BBR's bandwidth estimate, bounded by the bottleneck");
        Assert.That(sampler.Flow(0, "bbr_min_rtt").Last().Value, Is.EqualTo(24).Within(1), "the propagation RTT, 2 × (1 + 10 + 1) ms");
        Assert.That(sampler.Flow(0, "bbr_pacing_gain").Select(p => p.Value), Has.Some.EqualTo(1.25), "PROBE_BW's probing gain");
        Assert.That(sampler.Flow(0, "dctcp_alpha"), Is.Empty);
        var cubicMetrics = sampler.Points().Where(p => p.Subject == "2").Select(p => p.Metric).Distinct().ToList();
        Assert.That(cubicMetrics, Does.Contain("cwnd"));
        Assert.That(cubicMetrics, Has.None.StartsWith("dctcp_").And.None.StartsWith("bbr_"), "cubic has no get_info");
    }

    private static uint DctcpAlpha(TcpScenario sc, BpfSim.Tcp.Stack.TcpConnection conn) =>
        DctcpMath.Ca(ref sc.Stack.Sock(conn.Id)).DctcpAlpha;

    [Test]
    public void Sampler_RecordsSlowStartThenSawtooth_AndQueue()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(100) });
        sc.Flow("reno");
        var sampler = new TcpSampler(sc.Sim, sc.Stack, [sc.Bell.Bottleneck], SimTime.FromMilliseconds(10));
        sampler.Start(SimTime.Zero);
        sc.RunFor(5);
        var cwnd = sampler.Flow(0, "cwnd").ToList();
        Assert.That(sampler.Count, Is.EqualTo(501));
        Assert.That(cwnd[0].Value, Is.EqualTo(10), "TCP_INIT_CWND");
        double peak = cwnd.Max(c => c.Value);
        Assert.That(peak, Is.GreaterThan(200), "slow start overshoots BDP (200) + buffer (100)");
        Assert.That(cwnd.Skip(cwnd.Count / 2).Select(c => c.Value), Has.Some.LessThan(peak / 2 + 5), "a loss halved it");
        var rate = sampler.Flow(0, "delivery_rate").Skip(100).Select(r => r.Value).ToList();
        Assert.That(rate, Has.All.GreaterThan(0).And.All.LessThanOrEqualTo(100.5), "rate samples are bounded by the 100 Mbit/s bottleneck");
        Assert.That(rate.Average(), Is.GreaterThan(80), "a bulk flow delivers near the bottleneck rate");
        var points = sampler.Points().ToList();
        Assert.That(points, Has.Some.Matches<TimeSeriesPoint>(p => p.Subject == "bottleneck" && p.Metric == "queue" && p.Value > 50));
        Assert.That(points.Where(p => p.Metric == "srtt").Select(p => p.Unit).Distinct(), Is.EqualTo(new[] { "ms" }));
    }
}
