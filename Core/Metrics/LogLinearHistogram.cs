using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace BpfSim.Core.Metrics;

/// <summary>
/// Counts of non-negative values (ns) in log-linear buckets: exact below 32, then 32 buckets per power of two, so
/// a reported quantile (a bucket's midpoint) is within 1/64 ≈ 1.6 % of the true value. The count array covers
/// values up to 2^26 ns (67 ms) when created and doubles its range by whole octaves if a larger value comes
/// (rare: once per octave per histogram, never per value in the steady state).
/// </summary>
public sealed class LogLinearHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private int[] _counts = new int[BucketOf(1L << 26) + 1];

    // _counts.Length, kept beside Count/Sum/Max: a record then reads the object's line and the bucket's, not also
    // the array's header line (a wait is recorded at every switch, for a task whose histogram is rarely in cache).
    private int _capacity = BucketOf(1L << 26) + 1;

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The sum of the values recorded (ns).</summary>
    public double Sum { get; private set; }

    /// <summary>The largest value recorded (exact), 0 if none.</summary>
    public long Max { get; private set; }

    /// <summary>The mean, 0 if none.</summary>
    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Records <paramref name="value"/> (negative values count as 0).</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }
        int b = BucketOf(value);
        if ((uint)b >= (uint)_capacity)
        {
            Array.Resize(ref _counts, Math.Max(b + 1, _counts.Length + Sub * 4));
            _capacity = _counts.Length;
        }
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), b)++;
        Count++;
        Sum += value;
        if (value > Max)
        {
            Max = value;
        }
    }

    /// <summary>Adds every count of <paramref name="other"/> to this histogram.</summary>
    public void Add(LogLinearHistogram other)
    {
        if (other._counts.Length > _counts.Length)
        {
            Array.Resize(ref _counts, other._counts.Length);
            _capacity = _counts.Length;
        }
        for (int i = 0; i < other._counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The <paramref name="q"/>-quantile (0 … 1): the midpoint of the bucket holding it, capped at <see cref="Max"/>.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return 0;
        }
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int b = 0; b < _counts.Length; b++)
        {
            seen += _counts[b];
            if (seen >= rank)
            {
                var (lo, width) = Bounds(b);
                return Math.Min(lo + (width - 1) / 2.0, Max);
            }
        }
        return Max;
    }

    /// <summary>
    /// At most <paramref name="max"/> values standing for the distribution, ascending: each bucket's midpoint, as
    /// many times as its share of the counts (for plotting a distribution without keeping every value).
    /// </summary>
    public long[] Representatives(int max)
    {
        if (Count == 0 || max <= 0)
        {
            return [];
        }
        double scale = Math.Min(1.0, max / (double)Count);
        var values = new List<long>((int)Math.Min(Count, max) + 1);
        double carry = 0;
        for (int b = 0; b < _counts.Length && values.Count < max; b++)
        {
            if (_counts[b] == 0)
            {
                continue;
            }
            carry += _counts[b] * scale;
            var (lo, width) = Bounds(b);
            long v = (long)Math.Min(lo + (width - 1) / 2.0, Max);
            for (; carry >= 1 && values.Count < max; carry--)
            {
                values.Add(v);
            }
        }
        return values.ToArray();
    }

    /// <summary>The bucket of <paramref name="v"/>: v itself below 32, else (octave − 4) × 32 + the next 5 bits.</summary>
    private static int BucketOf(long v)
    {
        if (v < Sub)
        {
            return (int)v;
        }
        int e = 63 - BitOperations.LeadingZeroCount((ulong)v);
        return ((e - SubBits + 1) << SubBits) + (int)((v >> (e - SubBits)) & (Sub - 1));
    }

    private static (double Lo, double Width) Bounds(int b)
    {
        if (b < Sub)
        {
            return (b, 1);
        }
        int e = (b >> SubBits) + SubBits - 1;
        int sub = b & (Sub - 1);
        double width = Math.Pow(2, e - SubBits);
        return (Math.Pow(2, e) + sub * width, width);
    }
}
