using BpfSim.Core.Simulation;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp;

[Category("Tcp")]
public sealed class MetricsTests
{
    [Test]
    public void Jain_EqualSharesIsOne_OneHogIsOneOverN()
    {
        Assert.That(Fairness.Jain([5, 5, 5, 5]), Is.EqualTo(1.0));
        Assert.That(Fairness.Jain([10, 0, 0, 0]), Is.EqualTo(0.25));
        Assert.That(Fairness.Jain([3, 1]), Is.EqualTo(16.0 / 20).Within(1e-12));
        Assert.That(Fairness.Jain([]), Is.EqualTo(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fairness.Jain([-1]));
    }

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
