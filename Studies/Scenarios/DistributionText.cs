using System.Globalization;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Reads a time distribution as scenarios write it (DESIGN §5): <c>const(5ms)</c>, <c>exp(10ms)</c> (mean),
/// <c>uniform(1ms, 3ms)</c>, <c>lognormal(10ms, 0.5)</c> (median, σ); a bare time is a constant.
/// </summary>
public static class DistributionText
{
    /// <summary>The largest σ of a lognormal: e^(5·4) ≈ 5·10⁸ times the median is already far past any run.</summary>
    public const double MaxSigma = 5;

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <param name="offset">On failure, where in <paramref name="text"/> the problem is (0 = its start).</param>
    public static bool TryParse(string text, double maxNs, out Distribution value, out string error, out int offset)
    {
        value = default;
        offset = 0;
        string t = text.TrimEnd();
        int open = t.IndexOf('(');
        if (open < 0)
        {
            // A bare time: a constant.
            if (!Time(t, 0, maxNs, "time", out double ns, out error, ref offset))
            {
                error += "; a distribution is const(5ms), exp(10ms), uniform(1ms, 3ms) or lognormal(10ms, 0.5)";
                return false;
            }
            value = new Distribution(DistributionKind.Const, ns);
            return true;
        }
        string name = t[..open].Trim();
        if (!t.EndsWith(')'))
        {
            (error, offset) = ($"'{t}' lacks its closing ')'", t.Length);
            return false;
        }
        int argsAt = open + 1;
        var args = Split(t[argsAt..^1], argsAt);
        (DistributionKind Kind, int Args, string Shape)? shape = name switch
        {
            "const" => (DistributionKind.Const, 1, "const(TIME)"),
            "exp" => (DistributionKind.Exp, 1, "exp(MEAN)"),
            "uniform" => (DistributionKind.Uniform, 2, "uniform(LOW, HIGH)"),
            "lognormal" => (DistributionKind.LogNormal, 2, "lognormal(MEDIAN, SIGMA)"),
            _ => null,
        };
        if (shape is not { } s)
        {
            (error, offset) = ($"unknown distribution '{name}' (expected const, exp, uniform or lognormal)", 0);
            return false;
        }
        if (args.Count != s.Args)
        {
            (error, offset) = ($"{s.Shape} takes {s.Args} argument{(s.Args == 1 ? "" : "s")}, not {args.Count}", argsAt);
            return false;
        }
        var (a, aAt) = args[0];
        offset = aAt;
        switch (s.Kind)
        {
            case DistributionKind.Const:
            case DistributionKind.Exp:
                if (!Time(a, s.Kind == DistributionKind.Exp ? 1 : 0, maxNs, s.Kind == DistributionKind.Exp ? "the mean" : "the time", out double v, out error, ref offset))
                {
                    return false;
                }
                value = new Distribution(s.Kind, v);
                return true;
            case DistributionKind.Uniform:
                if (!Time(a, 0, maxNs, "the low bound", out double lo, out error, ref offset))
                {
                    return false;
                }
                offset = args[1].At;
                if (!Time(args[1].Text, 0, maxNs, "the high bound", out double hi, out error, ref offset))
                {
                    return false;
                }
                if (hi <= lo)
                {
                    error = $"uniform needs low < high; got {args[0].Text} and {args[1].Text}";
                    return false;
                }
                value = new Distribution(DistributionKind.Uniform, lo, hi);
                return true;
            default:
                if (!Time(a, 1, maxNs, "the median", out double median, out error, ref offset))
                {
                    return false;
                }
                offset = args[1].At;
                if (!double.TryParse(args[1].Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double sigma) || !double.IsFinite(sigma))
                {
                    error = $"σ '{args[1].Text}' is not a number (lognormal(MEDIAN, SIGMA): SIGMA has no unit)";
                    return false;
                }
                if (sigma is < 0 or > MaxSigma)
                {
                    error = $"σ must be 0 to {MaxSigma.ToString(CultureInfo.InvariantCulture)}; got {args[1].Text}";
                    return false;
                }
                value = new Distribution(DistributionKind.LogNormal, median, sigma);
                return true;
        }
    }

    private static bool Time(string text, long minNs, double maxNs, string what, out double ns, out string error, ref int offset)
    {
        ns = 0;
        if (!SimTime.TryParse(text, out var t, out var e))
        {
            error = e;
            return false;
        }
        if (t.Nanoseconds < minNs || t.Nanoseconds < 0)
        {
            error = $"{what} must be {(minNs > 0 ? "greater than 0" : "at least 0")}; got {text}";
            return false;
        }
        if (t.Nanoseconds > maxNs)
        {
            error = $"{what} must be at most {new SimTime((long)maxNs)}; got {text}";
            return false;
        }
        ns = t.Nanoseconds;
        error = "";
        return true;
    }

    /// <summary>The comma-separated arguments, trimmed, each with its offset in the whole text.</summary>
    private static List<(string Text, int At)> Split(string inner, int at)
    {
        var result = new List<(string, int)>();
        if (inner.Trim().Length == 0)
        {
            return result;
        }
        int start = 0;
        for (int i = 0; i <= inner.Length; i++)
        {
            if (i == inner.Length || inner[i] == ',')
            {
                string part = inner[start..i];
                int lead = part.Length - part.TrimStart().Length;
                result.Add((part.Trim(), at + start + lead));
                start = i + 1;
            }
        }
        return result;
    }
}
