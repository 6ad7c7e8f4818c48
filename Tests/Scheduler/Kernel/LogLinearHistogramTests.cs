using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Tests.Scheduler.Kernel;

public sealed class LogLinearHistogramTests
{
    [Test]
    public void Quantiles_AreWithinThreePercentOfTheExactOnes()
    {
        var random = new SimRandom(42);
        var h = new LogLinearHistogram();
        var values = new long[100_000];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (long)(Math.Exp(random.NextDouble() * 25)); // 1 ns … 72 s, log-uniform
            h.Record(values[i]);
        }
        Array.Sort(values);
        Assert.Multiple(() =>
        {
            foreach (double q in new[] { 0.01, 0.1, 0.5, 0.9, 0.99, 0.999 })
            {
                long exact = values[(int)Math.Ceiling(q * values.Length) - 1];
                Assert.That(h.Quantile(q), Is.EqualTo((double)exact).Within(Math.Max(0.5, exact * 0.03)), $"q = {q}");
            }
            Assert.That(h.Max, Is.EqualTo(values[^1]));
            Assert.That(h.Mean, Is.EqualTo(values.Average()).Within(1e-6).Percent);
            Assert.That(h.Count, Is.EqualTo(values.Length));
        });
    }

    [Test]
    public void SmallValues_AreExact()
    {
        var h = new LogLinearHistogram();
        for (int v = 0; v < 32; v++)
        {
            h.Record(v);
        }
        Assert.Multiple(() =>
        {
            Assert.That(h.Quantile(0.5), Is.EqualTo(15));
            Assert.That(h.Quantile(1), Is.EqualTo(31));
            Assert.That(h.Representatives(100), Is.EqualTo(Enumerable.Range(0, 32).Select(i => (long)i)));
        });
    }
}
