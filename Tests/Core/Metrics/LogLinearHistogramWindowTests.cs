using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Core.Metrics;

/// <summary>
/// The histogram stores only a window of buckets, widened as values come: whatever order values arrive in and however
/// histograms are merged, it must answer exactly as one dense array of every bucket would (the reference below).
/// </summary>
public sealed class LogLinearHistogramWindowTests
{
    private static readonly double[] Qs = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];

    [Test]
    public void AnyArrivalOrder_AnswersAsTheDenseReference([Values(1, 2, 3, 4, 5)] int seed, [Values(0L, 1L << 26)] long preallocateNs)
    {
        var random = new SimRandom((ulong)seed);
        var values = new List<long>();
        // Drifting: a run of small values, a jump up, a jump down below the first run, and spikes at the ends.
        foreach (var (lo, hi, n) in new[] { (10_000.0, 40_000.0, 500), (1e7, 4e7, 500), (0.0, 100.0, 200), (1e9, 1e10, 5), (1e3, 1e8, 1000) })
        {
            for (int i = 0; i < n; i++)
            {
                values.Add((long)(lo + random.NextDouble() * (hi - lo)));
            }
        }
        var h = new LogLinearHistogram(preallocateNs);
        foreach (long v in values)
        {
            h.Record(v);
        }
        AssertMatches(h, values);
    }

    [Test]
    public void Merging_WindowsThatDoNotOverlap_AnswersAsTheDenseReference()
    {
        var random = new SimRandom(7);
        var a = new LogLinearHistogram(0);
        var b = new LogLinearHistogram(0);
        var empty = new LogLinearHistogram(0);
        var values = new List<long>();
        for (int i = 0; i < 300; i++)
        {
            long x = (long)(1e6 + random.NextDouble() * 1e6), y = (long)(random.NextDouble() * 50);
            a.Record(x);
            b.Record(y);
            values.Add(x);
            values.Add(y);
        }
        var merged = new LogLinearHistogram(0);
        merged.Add(new LogLinearHistogram());
        merged.Add(empty);
        merged.Add(a);
        merged.Add(b);
        merged.Add(empty);
        AssertMatches(merged, values);
        Assert.That(empty.Quantile(0.5), Is.EqualTo(0));
    }

    [Test]
    public void RunsAddedPerBucket_AnswerAsRecordingOneByOne([Values(1, 2, 3)] int seed)
    {
        // A drifting one-way delay, µs resolution like TCP's: consecutive values mostly share a bucket, sometimes not.
        var random = new SimRandom((ulong)seed);
        var values = new List<long>();
        double level = 9e6;
        for (int i = 0; i < 5000; i++)
        {
            level = Math.Clamp(level + (random.NextDouble() - 0.5) * 4e5, 1e3, 6e7);
            values.Add((long)(level / 1000) * 1000);
        }
        var runs = new LogLinearHistogram(0);
        int bucket = -1, count = 0;
        long sum = 0, max = 0;
        foreach (long v in values)
        {
            int b = LogLinearHistogram.BucketIndex(v);
            if (b != bucket && count > 0)
            {
                runs.AddRun(bucket, count, sum, max);
                count = 0;
                sum = max = 0;
            }
            bucket = b;
            count++;
            sum += v;
            max = Math.Max(max, v);
        }
        runs.AddRun(bucket, count, sum, max);
        var oneByOne = new LogLinearHistogram(0);
        foreach (long v in values)
        {
            oneByOne.Record(v);
        }
        AssertMatches(runs, values);
        Assert.That(runs.Sum, Is.EqualTo(oneByOne.Sum), "whole-ns sums are exact either way");
        Assert.That(runs.Mean, Is.EqualTo(oneByOne.Mean));
    }

    [Test]
    public void AddRun_OfNothing_ChangesNothing_AndANegativeBucketIsRefused()
    {
        var h = new LogLinearHistogram(0);
        h.AddRun(100, 0, 0, 0);
        Assert.That(h.Count, Is.Zero);
        Assert.That(h.Quantile(0.5), Is.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => h.AddRun(-1, 1, 5, 5));
    }

    [Test]
    public void Default_RecordsBelow67Ms_WithoutAllocating()
    {
        var h = new LogLinearHistogram();
        h.Record(1); // JIT and first-call work outside the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long v = 0; v < 1L << 26; v = v * 3 + 1)
        {
            h.Record(v);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void AssertMatches(LogLinearHistogram h, List<long> values)
    {
        var dense = new long[BucketOf(values.Max()) + 1];
        foreach (long v in values)
        {
            dense[BucketOf(v)]++;
        }
        long max = values.Max();
        Assert.Multiple(() =>
        {
            foreach (double q in Qs)
            {
                Assert.That(h.Quantile(q), Is.EqualTo(DenseQuantile(dense, values.Count, max, q)), $"q = {q}");
            }
            Assert.That(h.Representatives(97), Is.EqualTo(DenseRepresentatives(dense, values.Count, max, 97)));
            Assert.That(h.Count, Is.EqualTo(values.Count));
            Assert.That(h.Max, Is.EqualTo(max));
        });
    }

    // The documented bucketing: exact below 32, then 32 buckets per power of two.
    private static int BucketOf(long v)
    {
        if (v < 32)
        {
            return (int)v;
        }
        int e = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)v);
        return ((e - 4) << 5) + (int)((v >> (e - 5)) & 31);
    }

    private static double Mid(int b, long max)
    {
        if (b < 32)
        {
            return Math.Min(b, max);
        }
        int e = (b >> 5) + 4;
        double width = Math.Pow(2, e - 5);
        return Math.Min(Math.Pow(2, e) + (b & 31) * width + (width - 1) / 2.0, max);
    }

    private static double DenseQuantile(long[] dense, long count, long max, double q)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(q * count)), seen = 0;
        for (int b = 0; b < dense.Length; b++)
        {
            seen += dense[b];
            if (seen >= rank)
            {
                return Mid(b, max);
            }
        }
        return max;
    }

    private static long[] DenseRepresentatives(long[] dense, long count, long max, int n)
    {
        double scale = Math.Min(1.0, n / (double)count), carry = 0;
        var values = new List<long>();
        for (int b = 0; b < dense.Length && values.Count < n; b++)
        {
            if (dense[b] == 0)
            {
                continue;
            }
            carry += dense[b] * scale;
            for (; carry >= 1 && values.Count < n; carry--)
            {
                values.Add((long)Mid(b, max));
            }
        }
        return [.. values];
    }
}
