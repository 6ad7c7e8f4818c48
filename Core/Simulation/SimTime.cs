using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BpfSim.Core.Simulation;

/// <summary>
/// A point in, or span of, simulated time: a whole number of nanoseconds. Never a <see cref="DateTime"/> or a
/// floating-point value, so runs are bit-identical on every machine.
/// </summary>
/// <remarks>Text form: a number with a unit, <c>ns</c>, <c>us</c>, <c>ms</c> or <c>s</c> (<c>250us</c>, <c>10ms</c>, <c>1.5s</c>).</remarks>
public readonly record struct SimTime(long Nanoseconds) : IComparable<SimTime>
{
    public const long NanosPerMicro = 1_000;
    public const long NanosPerMilli = 1_000_000;
    public const long NanosPerSecond = 1_000_000_000;

    public static SimTime Zero => default;
    public static SimTime MaxValue => new(long.MaxValue);

    public static SimTime FromNanoseconds(long ns) => new(ns);
    public static SimTime FromMicroseconds(long us) => new(checked(us * NanosPerMicro));
    public static SimTime FromMilliseconds(long ms) => new(checked(ms * NanosPerMilli));
    public static SimTime FromSeconds(long s) => new(checked(s * NanosPerSecond));

    /// <summary>Seconds as a double, for reports only; simulation logic stays in nanoseconds.</summary>
    public double TotalSeconds => Nanoseconds / (double)NanosPerSecond;
    public double TotalMilliseconds => Nanoseconds / (double)NanosPerMilli;
    public long TotalMicroseconds => Nanoseconds / NanosPerMicro;

    public static SimTime operator +(SimTime a, SimTime b) => new(a.Nanoseconds + b.Nanoseconds);
    public static SimTime operator -(SimTime a, SimTime b) => new(a.Nanoseconds - b.Nanoseconds);
    public static SimTime operator *(SimTime a, long k) => new(a.Nanoseconds * k);
    public static bool operator <(SimTime a, SimTime b) => a.Nanoseconds < b.Nanoseconds;
    public static bool operator >(SimTime a, SimTime b) => a.Nanoseconds > b.Nanoseconds;
    public static bool operator <=(SimTime a, SimTime b) => a.Nanoseconds <= b.Nanoseconds;
    public static bool operator >=(SimTime a, SimTime b) => a.Nanoseconds >= b.Nanoseconds;

    public int CompareTo(SimTime other) => Nanoseconds.CompareTo(other.Nanoseconds);

    /// <summary>Parses <c>250us</c>, <c>10ms</c>, <c>1.5s</c>, <c>100ns</c>; a bare <c>0</c> is zero.</summary>
    /// <exception cref="FormatException">The text is not a number followed by one of the units, or the value does not fit.</exception>
    public static SimTime Parse(string text)
    {
        if (TryParse(text, out var value, out var error))
        {
            return value;
        }
        throw new FormatException(error);
    }

    /// <summary>Parses like <see cref="Parse"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out SimTime value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            error = "empty time: expected a number with a unit such as 250us, 10ms or 1.5s";
            return false;
        }
        int unitStart = s.Length;
        while (unitStart > 0 && char.IsAsciiLetter(s[unitStart - 1]))
        {
            unitStart--;
        }
        var number = s[..unitStart].Trim();
        var unit = s[unitStart..];
        long scale = unit switch
        {
            "ns" => 1,
            "us" or "µs" => NanosPerMicro,
            "ms" => NanosPerMilli,
            "s" => NanosPerSecond,
            "" when number == "0" => 1,
            _ => 0,
        };
        if (scale == 0)
        {
            error = unit.Length == 0
                ? $"time '{s}' has no unit: write e.g. {s}ms or {s}s (units: ns, us, ms, s)"
                : $"time '{s}' has unknown unit '{unit}' (units: ns, us, ms, s)";
            return false;
        }
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            error = $"time '{s}' is not a non-negative number with a unit (e.g. 250us, 10ms, 1.5s)";
            return false;
        }
        try
        {
            var ns = amount * scale;
            if (ns != decimal.Truncate(ns))
            {
                error = $"time '{s}' is finer than one nanosecond";
                return false;
            }
            value = new SimTime(decimal.ToInt64(ns));
        }
        catch (OverflowException)
        {
            error = $"time '{s}' is too large: simulated time is a 64-bit count of nanoseconds, at most {MaxValue}";
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>The shortest exact text in the largest fitting unit: <c>1.5s</c>, <c>250us</c>, <c>0s</c>.</summary>
    public override string ToString()
    {
        long ns = Nanoseconds;
        if (ns == 0)
        {
            return "0s";
        }
        long abs = ns == long.MinValue ? long.MaxValue : Math.Abs(ns);
        (long scale, string unit) = abs >= NanosPerSecond ? (NanosPerSecond, "s")
            : abs >= NanosPerMilli ? (NanosPerMilli, "ms")
            : abs >= NanosPerMicro ? (NanosPerMicro, "us")
            : (1L, "ns");
        decimal amount = (decimal)ns / scale;
        return amount.ToString("0.#########", CultureInfo.InvariantCulture) + unit;
    }
}
