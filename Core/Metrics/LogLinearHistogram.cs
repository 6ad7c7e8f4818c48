using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace BpfSim.Core.Metrics;

/// <summary>
/// Counts of non-negative values (ns) in log-linear buckets: exact below 32, then 32 buckets per power of two, so
/// a reported quantile (a bucket's midpoint) is within 1/64 ≈ 1.6 % of the true value. A window of buckets is stored,
/// by default every bucket up to 2^26 ns (67 ms), widened by whole octaves when a value falls outside (at most once
/// per octave per histogram, never per value in the steady state). One made with nothing preallocated holds only the
/// octaves its values reached: a one-way delay that stays within 10–40 ms needs 3 octaves of 32 counts, not the 22
/// below them, which matters when every flow of 100,000 keeps one.
/// </summary>
public sealed class LogLinearHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private int[] _counts = [];

    // The bucket _counts[0] counts, and _counts.Length kept beside Count/Sum/Max: a record then reads the object's
    // line and the bucket's, not also the array's header line (a wait is recorded at every switch, for a task whose
    // histogram is rarely in cache).
    private int _first;
    private int _capacity;

    /// <summary>A histogram whose buckets up to 2^26 ns (67 ms) are made at once: recording below that never allocates.</summary>
    public LogLinearHistogram()
        : this(1L << 26)
    {
    }

    /// <param name="preallocateNs">
    /// Values up to this (ns) are recorded without allocating; 0 makes buckets only as values come, for one histogram
    /// per flow of 100,000 (a few hundred bytes each instead of 2.8 KB), at an allocation per octave first reached.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="preallocateNs"/> is negative.</exception>
    public LogLinearHistogram(long preallocateNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(preallocateNs);
        if (preallocateNs > 0)
        {
            _capacity = BucketOf(preallocateNs) + 1;
            _counts = new int[_capacity];
        }
    }

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
        int i = BucketOf(value) - _first;
        if ((uint)i >= (uint)_capacity)
        {
            i = Widen(i + _first, i + _first + 1) - _first;
        }
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), i)++;
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
        if (other._capacity > 0)
        {
            Widen(other._first, other._first + other._capacity);
            for (int i = 0; i < other._capacity; i++)
            {
                _counts[other._first + i - _first] += other._counts[i];
            }
        }
        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The bucket <see cref="Record"/> counts <paramref name="value"/> in (negative values count as 0), for counts kept outside a histogram and added with <see cref="AddCounts(ReadOnlySpan{int}, double, long)"/>.</summary>
    public static int BucketIndex(long value) => BucketOf(Math.Max(0, value));

    /// <summary>
    /// Adds counts kept outside a histogram: <paramref name="counts"/>[i] values in bucket i (<see cref="BucketIndex"/>),
    /// whose sum is <paramref name="sum"/> and largest value <paramref name="max"/>. Into an empty histogram this gives
    /// the histogram that recording the same values one by one would have (the sum accumulated in the same order).
    /// </summary>
    public void AddCounts(ReadOnlySpan<int> counts, double sum, long max) => AddCountsOf(counts, sum, max);

    /// <inheritdoc cref="AddCounts(ReadOnlySpan{int}, double, long)"/>
    public void AddCounts(ReadOnlySpan<ushort> counts, double sum, long max) => AddCountsOf(counts, sum, max);

    private void AddCountsOf<T>(ReadOnlySpan<T> counts, double sum, long max)
        where T : unmanaged, IBinaryInteger<T>
    {
        // The first and last non-zero counts by a vectorised search: a summary adds the window of every task, most
        // of whose buckets are zero.
        int lo = counts.IndexOfAnyExcept(T.Zero);
        if (lo >= 0)
        {
            int hi = counts.LastIndexOfAnyExcept(T.Zero);
            Widen(lo, hi + 1);
            long n = 0;
            for (int i = lo; i <= hi; i++)
            {
                int c = int.CreateTruncating(counts[i]);
                _counts[i - _first] += c;
                n += c;
            }
            Count += n;
        }
        Sum += sum;
        Max = Math.Max(Max, max);
    }

    /// <summary>
    /// Adds <paramref name="count"/> values that all fall in bucket <paramref name="bucket"/> (<see cref="BucketIndex"/>),
    /// whose sum is <paramref name="sum"/> and largest value <paramref name="max"/>: for a recorder that keeps a run of
    /// values in one bucket beside its own state and adds the run when the bucket changes.
    /// </summary>
    /// <remarks>
    /// The histogram then answers as recording the values one by one would as long as <paramref name="sum"/> is the
    /// exact sum (whole nanoseconds below 2^53 are added exactly in any order).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bucket"/> is not a bucket of a value, or <paramref name="count"/> is negative.</exception>
    public void AddRun(int bucket, int count, double sum, long max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bucket, BucketOf(long.MaxValue));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return;
        }
        int i = bucket - _first;
        if ((uint)i >= (uint)_capacity)
        {
            i = Widen(bucket, bucket + 1) - _first;
        }
        _counts[i] += count;
        Count += count;
        Sum += sum;
        if (max > Max)
        {
            Max = max;
        }
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
        for (int i = 0; i < _capacity; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var (lo, width) = Bounds(_first + i);
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
        for (int i = 0; i < _capacity && values.Count < max; i++)
        {
            if (_counts[i] == 0)
            {
                continue;
            }
            carry += _counts[i] * scale;
            var (lo, width) = Bounds(_first + i);
            long v = (long)Math.Min(lo + (width - 1) / 2.0, Max);
            for (; carry >= 1 && values.Count < max; carry--)
            {
                values.Add(v);
            }
        }
        return values.ToArray();
    }

    /// <summary>
    /// Widens the stored window to hold buckets [<paramref name="from"/>, <paramref name="to"/>), in whole octaves
    /// (the exact buckets below 32 count as one), with one spare octave on the side it grows (so a histogram whose
    /// values drift widens a few times, not once per octave). Returns <paramref name="from"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Widen(int from, int to)
    {
        int lo = _capacity == 0 ? from : Math.Min(from, _first);
        int hi = _capacity == 0 ? to : Math.Max(to, _first + _capacity);
        lo &= ~(Sub - 1);
        hi = (hi + Sub - 1) & ~(Sub - 1);
        if (_capacity > 0)
        {
            lo = lo < _first ? Math.Max(0, lo - Sub) : lo;
            hi = hi > _first + _capacity ? hi + Sub : hi;
        }
        if (lo != _first || hi - lo != _capacity)
        {
            var counts = new int[hi - lo];
            if (_capacity > 0)
            {
                Array.Copy(_counts, 0, counts, _first - lo, _capacity);
            }
            _counts = counts;
            _first = lo;
            _capacity = hi - lo;
        }
        return from;
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
