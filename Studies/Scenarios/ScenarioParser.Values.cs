using System.Globalization;
using BpfSim.Core.Simulation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>Reading one key's value: its type, unit and range, each problem reported at the value's line:column.</summary>
public sealed partial class ScenarioParser
{
    private Dictionary<string, YamlNode> Keys(YamlMappingNode map, string where, params string[] allowed) =>
        Keys(map, where, null, allowed);

    /// <param name="foreign">Keys of the other subsystem's scenarios, with what to say about each when found here.</param>
    private Dictionary<string, YamlNode> Keys(YamlMappingNode map, string where, IReadOnlyDictionary<string, string>? foreign, params string[] allowed)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        YamlScalarNode? open = null;
        foreach (var (k, v) in map.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (JoinsArgument(map, open, k, v))
            {
                continue;
            }
            open = v is YamlScalarNode { Value: { } text } sv && text.Contains('(') && !text.Contains(')') ? sv : null;
            if (foreign is not null && foreign.TryGetValue(key, out var why))
            {
                Error(k, why);
                continue;
            }
            if (!allowed.Contains(key))
            {
                Error(k, $"unknown key '{key}' in {where} (expected one of: {string.Join(", ", allowed)})");
                continue;
            }
            result[key] = v;
        }
        return result;
    }

    /// <summary>Distributions whose arguments a flow mapping split at their commas, joined again (<see cref="JoinsArgument"/>).</summary>
    private readonly Dictionary<YamlScalarNode, (string Text, List<(int Offset, YamlNode Part)> Parts)> _joined = [];

    /// <summary>
    /// In a flow mapping (<c>{ run: uniform(1ms, 3ms) }</c>) YAML ends a plain value at a comma, so
    /// <c>uniform(1ms</c> becomes a value and <c>3ms)</c> a key with no value. Such a key — ending in ')' with no
    /// '(' and no value — right after a value with an unclosed '(' is the rest of that value: join them back.
    /// </summary>
    private bool JoinsArgument(YamlMappingNode map, YamlScalarNode? open, YamlNode key, YamlNode value)
    {
        if (map.Style != YamlDotNet.Core.Events.MappingStyle.Flow || open is null || key is not YamlScalarNode { Value: { } k }
            || !k.EndsWith(')') || k.Contains('(') || value is not YamlScalarNode { Value: null or "" })
        {
            return false;
        }
        var (text, parts) = _joined.TryGetValue(open, out var j) ? j : (open.Value!, [(0, (YamlNode)open)]);
        parts.Add((text.Length + 2, key));
        _joined[open] = (text + ", " + k, parts);
        return true;
    }

    private string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode s && s.Value is not null)
        {
            return s.Value;
        }
        Error(node, $"{what} must be a single value, not a {(node is YamlMappingNode ? "mapping" : "list")}");
        return null;
    }

    private SimTime? Time(Dictionary<string, YamlNode> keys, string key, bool positive = false, long minNs = 0)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (node is YamlScalarNode { Style: not (ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) } && text is "~" or "null" or "")
        {
            Error(node, $"{key} has no value: give a time such as 2s");
            return null;
        }
        if (!SimTime.TryParse(text, out var t, out var error))
        {
            Error(node, $"{key}: {error}");
            return null;
        }
        if (positive && t.Nanoseconds <= 0)
        {
            Error(node, $"{key} must be greater than 0");
            return null;
        }
        if (t.Nanoseconds < minNs)
        {
            Error(node, $"{key} must be at least {new SimTime(minNs)} (see Limits in docs/scenarios.md); got {t}");
            return null;
        }
        if (t > s_maxTime)
        {
            Error(node, $"{key} must be at most {s_maxTime} (about 11.6 days; see Limits in docs/scenarios.md); got {text.Trim()}");
            return null;
        }
        return t;
    }

    private long? Rate(Dictionary<string, YamlNode> keys, string key)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!Quantity.TryParseRate(text, out long bps, out var error))
        {
            Error(node, $"{key}: {error}");
            return null;
        }
        if (bps <= 0)
        {
            Error(node, $"{key} must be greater than 0");
            return null;
        }
        if (bps > ScenarioLimits.MaxRateBps)
        {
            Error(node, $"{key} must be at most {Quantity.FormatRate(ScenarioLimits.MaxRateBps)} (see Limits in docs/scenarios.md); got {text.Trim()}");
            return null;
        }
        return bps;
    }

    private long? Size(Dictionary<string, YamlNode> keys, string key, long max = long.MaxValue)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!Quantity.TryParseSize(text, out long bytes, out var error))
        {
            Error(node, $"{key}: {error}");
            return null;
        }
        if (bytes <= 0)
        {
            Error(node, $"{key} must be greater than 0");
            return null;
        }
        if (bytes > max)
        {
            Error(node, $"{key} must be at most {max:N0} B (see Limits in docs/scenarios.md); got {text.Trim()}");
            return null;
        }
        return bytes;
    }

    private double? Number(Dictionary<string, YamlNode> keys, string key, double min, double max, bool minExclusive = false)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
        {
            Error(node, $"{key}: '{text}' is not a number");
            return null;
        }
        if (v < min || v > max || (minExclusive && v == min))
        {
            Error(node, $"{key} must be {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}" +
                        (double.IsPositiveInfinity(max) ? "" : $" and at most {max.ToString(CultureInfo.InvariantCulture)}") + $"; got {text}");
            return null;
        }
        return v;
    }

    private int? Integer(Dictionary<string, YamlNode> keys, string key, int min, int max = int.MaxValue)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
        {
            // Digits that do not fit a 64-bit number are a whole number still: say it is out of range.
            string trimmed = text.Trim();
            bool digits = trimmed.TrimStart('-', '+') is { Length: > 0 } d && d.All(char.IsAsciiDigit);
            Error(node, !digits ? $"{key}: '{text}' is not a whole number"
                : trimmed.StartsWith('-') ? $"{key} must be at least {min}; got {trimmed}" : $"{key} must be at most {max:N0}; got {trimmed}");
            return null;
        }
        if (v < min)
        {
            Error(node, $"{key} must be at least {min}; got {v}");
            return null;
        }
        if (v > max)
        {
            Error(node, $"{key} must be at most {max:N0} (see docs/scenarios.md); got {v}");
            return null;
        }
        return (int)v;
    }

    private bool? Bool(Dictionary<string, YamlNode> keys, string key)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!bool.TryParse(text, out bool v))
        {
            Error(node, $"{key}: '{text}' is not true or false");
            return null;
        }
        return v;
    }
}
