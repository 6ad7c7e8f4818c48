using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// A task's own waits, counted by <see cref="SchedMetrics"/> in a window of buckets beside its counters, come out as
/// the histogram that recording them one by one in a <see cref="LogLinearHistogram"/> gives (sum bit for bit).
/// </summary>
public sealed class SchedMetricsWaitTests
{
    private static (LogLinearHistogram Own, LogLinearHistogram Reference) Record(IEnumerable<long> waits)
    {
        var m = new SchedMetrics(1, 0);
        m.AddTask(0, null);
        m.AddTask(1, null); // a neighbour in the same window array, to catch a wrong offset
        var reference = new LogLinearHistogram();
        long now = 0;
        foreach (long w in waits)
        {
            m.Runnable(0, now);
            m.Runnable(1, now);
            now += w;
            m.Running(0, now);
            reference.Record(w);
        }
        return (m.Waits(0), reference);
    }

    private static void AssertSame(LogLinearHistogram a, LogLinearHistogram b)
    {
        Assert.Multiple(() =>
        {
            Assert.That(a.Count, Is.EqualTo(b.Count));
            Assert.That(BitConverter.DoubleToInt64Bits(a.Sum), Is.EqualTo(BitConverter.DoubleToInt64Bits(b.Sum)), "sum");
            Assert.That(a.Max, Is.EqualTo(b.Max));
            foreach (double q in new[] { 0, 0.01, 0.5, 0.9, 0.99, 0.999, 1 })
            {
                Assert.That(a.Quantile(q), Is.EqualTo(b.Quantile(q)), $"q = {q}");
            }
            Assert.That(a.Representatives(500), Is.EqualTo(b.Representatives(500)));
        });
    }

    [Test]
    public void OwnWaits_EqualTheHistogramOfTheSameWaitsRecordedOneByOne()
    {
        var random = new SimRandom(7);
        var waits = Enumerable.Range(0, 20_000).Select(_ => (long)Math.Exp(random.NextDouble() * 21)).ToArray(); // 1 ns … 1.3 ms
        var (own, reference) = Record(waits);
        AssertSame(own, reference);
    }

    [Test]
    public void AWaitBeyondTheWindow_MovesTheTaskToAHistogramWithTheSameCounts()
    {
        var random = new SimRandom(8);
        var waits = Enumerable.Range(0, 5_000).Select(i => i == 2_500 ? 5_000_000_000L : (long)Math.Exp(random.NextDouble() * 22)).ToArray();
        var (own, reference) = Record(waits);
        Assert.That(own.Max, Is.EqualTo(5_000_000_000L), "the 5 s wait is counted");
        AssertSame(own, reference);
    }

    [Test]
    public void A65536thWaitInOneBucket_MovesTheTaskToAHistogramWithTheSameCounts()
    {
        // The window's counts are 16-bit: the bucket of 1 µs fills at 65,535 and its next wait must not wrap to 0.
        var random = new SimRandom(9);
        var waits = Enumerable.Range(0, 80_000).Select(i => i % 10 == 3 ? (long)Math.Exp(random.NextDouble() * 20) : 1_000L).ToArray();
        var (own, reference) = Record(waits);
        Assert.That(own.Count, Is.EqualTo(80_000)); // 72,000 of them in the bucket of 1 µs
        AssertSame(own, reference);
    }

    [Test]
    public void WaitsReadWhileTheWindowFills_EqualTheWaitsRecordedSoFar()
    {
        // Reads at 65,535 + a few waits in one bucket: the read flushes the pending waits, which fills the bucket then.
        var m = new SchedMetrics(1, 0);
        m.AddTask(0, null);
        var reference = new LogLinearHistogram();
        long now = 0;
        for (int i = 1; i <= 65_600; i++)
        {
            m.Runnable(0, now);
            now += 2_000;
            m.Running(0, now);
            reference.Record(2_000);
            if (i is 65_534 or 65_535 or 65_536 or 65_540 or 65_600)
            {
                var read = m.Waits(0);
                Assert.That(read.Count, Is.EqualTo(i), $"after {i} waits");
                Assert.That(read.Quantile(1), Is.EqualTo(reference.Quantile(1)));
            }
        }
        AssertSame(m.Waits(0), reference);
    }

    [Test]
    public void AddCounts_IntoAnEmptyHistogram_EqualsRecordingTheValues()
    {
        var values = new long[] { 0, 3, 31, 32, 1_000, 65_537, 4_000_000, 4_000_000, 90_000_000 };
        var counts = new int[LogLinearHistogram.BucketIndex(values.Max()) + 1];
        var reference = new LogLinearHistogram();
        double sum = 0;
        foreach (long v in values)
        {
            counts[LogLinearHistogram.BucketIndex(v)]++;
            sum += v;
            reference.Record(v);
        }
        var h = new LogLinearHistogram(0);
        h.AddCounts(counts, sum, values.Max());
        AssertSame(h, reference);
    }
}
