using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BpfSim.Core.Simulation;

/// <summary>Rates and sizes with units, as scenario files write them: <c>100Mbps</c>, <c>1Gbps</c>, <c>64KB</c> (1 KB = 1000 B).</summary>
public static class Quantity
{
    private static readonly (string Unit, double Scale)[] s_rates = [("Gbps", 1e9), ("Mbps", 1e6), ("Kbps", 1e3), ("bps", 1)];
    private static readonly (string Unit, double Scale)[] s_sizes = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)];

    /// <summary>Parses a rate into bits per second.</summary>
    public static bool TryParseRate(string? text, out long bitsPerSecond, [NotNullWhen(false)] out string? error) =>
        TryParse(text, s_rates, "rate", "100Mbps, 1Gbps, 500Kbps", out bitsPerSecond, out error);

    /// <summary>Parses a size into bytes.</summary>
    public static bool TryParseSize(string? text, out long bytes, [NotNullWhen(false)] out string? error) =>
        TryParse(text, s_sizes, "size", "64KB, 10MB, 1500B", out bytes, out error);

    private static bool TryParse(string? text, (string Unit, double Scale)[] units, string what, string examples, out long value,
        [NotNullWhen(false)] out string? error)
    {
        value = 0;
        var s = (text ?? "").Trim();
        foreach (var (unit, scale) in units)
        {
            if (!s.EndsWith(unit, StringComparison.Ordinal))
            {
                continue;
            }
            var number = s[..^unit.Length].Trim();
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount) || number.Length == 0)
            {
                error = $"{what} '{s}' is not a non-negative number with a unit (e.g. {examples})";
                return false;
            }
            double v = Math.Round(amount * scale);
            if (v > long.MaxValue / 2)
            {
                error = $"{what} '{s}' is too large";
                return false;
            }
            value = (long)v;
            error = null;
            return true;
        }
        error = $"{what} '{s}' needs a unit: {string.Join(", ", units.Select(u => u.Unit))} (e.g. {examples})";
        return false;
    }

    /// <summary>Formats bits per second with the largest fitting unit.</summary>
    public static string FormatRate(long bps) => bps switch
    {
        >= 1_000_000_000 when bps % 1_000_000 == 0 => $"{bps / 1e9:0.###}Gbps",
        >= 1_000_000 => $"{bps / 1e6:0.###}Mbps",
        >= 1_000 => $"{bps / 1e3:0.###}Kbps",
        _ => $"{bps}bps",
    };

    /// <summary>Formats bytes with the largest fitting unit (KB = 1000 B, as sizes are read).</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1_000_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1e9:0.###}GB"),
        >= 1_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1e6:0.###}MB"),
        >= 1_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1e3:0.###}KB"),
        _ => $"{bytes}B",
    };
}
