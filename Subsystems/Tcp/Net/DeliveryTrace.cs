using System.Globalization;
using System.Text;

namespace BpfSim.Tcp.Net;

/// <summary>
/// A Mahimahi packet-delivery trace (mm-link's input): one line per delivery opportunity, each the millisecond offset
/// from the trace's start at which the link may deliver one MTU; several lines with the same value are several
/// opportunities in that millisecond. The trace loops: after its last line it starts again with its times shifted by
/// the last timestamp (<see cref="PeriodMs"/>), so a file holding only <c>1</c> is one MTU every millisecond.
/// Immutable; a link keeps its own position in it.
/// </summary>
/// <remarks>
/// Mirrors <c>LinkQueue::LinkQueue</c> and <c>use_a_delivery_opportunity</c> in mahimahi's src/frontend/link_queue.cc:
/// the same validation (no empty line, non-decreasing values, at least one, a last value above 0) and the same
/// wrap-around (<c>base_timestamp_ += schedule_.back()</c>).
/// </remarks>
public sealed class DeliveryTrace
{
    /// <summary>
    /// Bytes one opportunity delivers: mahimahi's <c>PACKET_SIZE</c>, the largest TUN read, i.e. a 1500-byte IP packet
    /// with the 4-byte packet-information header the TUN device (IFF_TUN without IFF_NO_PI) puts in front of it.
    /// </summary>
    public const int OpportunityBytes = 1504;

    /// <summary>What mm-link counts on top of each IP packet (the TUN packet-information header).</summary>
    public const int TunHeaderBytes = 4;

    /// <summary>The IP bytes one opportunity carries: an MTU, which is how mm-link(1) states a trace's rate.</summary>
    public const int MtuBytes = OpportunityBytes - TunHeaderBytes;

    /// <summary>The most lines a trace may have (Mahimahi's bundled traces have at most a few hundred thousand).</summary>
    public const int MaxLines = 20_000_000;

    private readonly long[] _ms;

    private DeliveryTrace(long[] ms, string source)
    {
        _ms = ms;
        Source = source;
    }

    /// <summary>Where the trace came from (its path as the scenario wrote it, or a generator's name).</summary>
    public string Source { get; }

    /// <summary>Opportunities per period (lines of the file).</summary>
    public int Count => _ms.Length;

    /// <summary>The loop's length in milliseconds: the last line's value.</summary>
    public long PeriodMs => _ms[^1];

    /// <summary>The <paramref name="index"/>-th line's value (ms from the start of a period).</summary>
    public long this[int index] => _ms[index];

    /// <summary>The average rate in IP bits per second: one MTU per line over the period.</summary>
    public double MeanRateBps => _ms.Length * (double)MtuBytes * 8 * 1000 / PeriodMs;

    /// <summary>A trace from its opportunity times (ms), checked as <see cref="Parse"/> checks a file.</summary>
    /// <exception cref="DeliveryTraceException">The times break a rule of the format.</exception>
    public static DeliveryTrace FromMilliseconds(IEnumerable<long> ms, string source)
    {
        var list = new List<long>();
        foreach (long v in ms)
        {
            Check(list, v, source, list.Count + 1);
            list.Add(v);
        }
        return Finish(list, source);
    }

    /// <summary>Reads a trace file's text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="DeliveryTraceException">A line is empty or not a whole number, values decrease, there are none, or the last is 0.</exception>
    public static DeliveryTrace Parse(string text, string source)
    {
        var list = new List<long>();
        int line = 0;
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            int next = end < 0 ? text.Length : end + 1;
            var span = text.AsSpan(start, (end < 0 ? text.Length : end) - start);
            line++;
            if (span.Length > 0 && span[^1] == '\r')
            {
                span = span[..^1]; // a file written on Windows; mm-link itself would refuse the '\r'
            }
            if (span.Length == 0)
            {
                throw new DeliveryTraceException(source, line, "invalid empty line (mm-link refuses empty lines)");
            }
            if (!long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            {
                throw new DeliveryTraceException(source, line,
                    $"'{Shorten(span)}' is not a whole number of milliseconds (a trace is one number per line, nothing else)");
            }
            Check(list, v, source, line);
            list.Add(v);
            start = next;
        }
        return Finish(list, source);
    }

    private static void Check(List<long> list, long v, string source, int line)
    {
        if (v < 0)
        {
            throw new DeliveryTraceException(source, line, $"{v} is negative");
        }
        if (v > 1_000_000_000_000L)
        {
            throw new DeliveryTraceException(source, line, $"{v} ms is more than 30 years");
        }
        if (list.Count > 0 && v < list[^1])
        {
            throw new DeliveryTraceException(source, line, $"timestamps must be monotonically nondecreasing ({v} after {list[^1]})");
        }
        if (list.Count >= MaxLines)
        {
            throw new DeliveryTraceException(source, line, $"more than {MaxLines:N0} lines");
        }
    }

    private static DeliveryTrace Finish(List<long> list, string source)
    {
        if (list.Count == 0)
        {
            throw new DeliveryTraceException(source, 1, "no valid timestamps found (the file is empty)");
        }
        if (list[^1] == 0)
        {
            throw new DeliveryTraceException(source, list.Count, "trace must last for a nonzero amount of time (the last value is 0)");
        }
        return new DeliveryTrace([.. list], source);
    }

    private static string Shorten(ReadOnlySpan<char> s) => s.Length <= 40 ? s.ToString() : s[..40].ToString() + "…";

    /// <summary>
    /// Opportunities of the looped trace at times in [<paramref name="fromMs"/>, <paramref name="toMs"/>) from the
    /// trace's start. Line i opens at k × period + value_i for every loop k ≥ 0.
    /// </summary>
    public long OpportunitiesBetween(long fromMs, long toMs) => Before(toMs) - Before(fromMs);

    /// <summary>Opportunities at times before <paramref name="ms"/>.</summary>
    private long Before(long ms)
    {
        long count = 0;
        long period = PeriodMs;
        foreach (long v in _ms)
        {
            if (ms > v)
            {
                count += (ms - v + period - 1) / period; // loops k with k × period + v < ms
            }
        }
        return count;
    }

    /// <summary>The trace as mm-link reads it: one value per line, each line ending in '\n'.</summary>
    public string ToText()
    {
        var sb = new StringBuilder(_ms.Length * 6);
        foreach (long v in _ms)
        {
            sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
