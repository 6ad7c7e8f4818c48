using System.Globalization;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// A key of a scenario by path, as a sweep's grid names it: mapping keys joined by dots, list entries by index in
/// brackets (<c>flows[1].cc</c>, <c>network.bottleneck.queue.limit</c>, <c>structops[0].globals.x</c>).
/// </summary>
public sealed class ScenarioPath
{
    private ScenarioPath(string text, IReadOnlyList<PathStep> steps)
    {
        (Text, Steps) = (text, steps);
    }

    /// <summary>The path as written.</summary>
    public string Text { get; }

    /// <summary>The steps from the scenario's root: a mapping key, or a list index.</summary>
    public IReadOnlyList<PathStep> Steps { get; }

    /// <summary>Reads <paramref name="text"/>; null with <paramref name="error"/> saying why when it is not a path.</summary>
    public static ScenarioPath? TryParse(string text, out string? error)
    {
        var steps = new List<PathStep>();
        error = null;
        foreach (var part in text.Split('.'))
        {
            int bracket = part.IndexOf('[', StringComparison.Ordinal);
            string key = bracket < 0 ? part : part[..bracket];
            if (key.Length == 0 || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
            {
                error = key.Length == 0
                    ? $"'{text}' has an empty key (paths look like flows[1].cc or network.bottleneck.queue.limit)"
                    : $"'{text}': '{key}' is not a scenario key (letters, digits, '_' and '-')";
                return null;
            }
            steps.Add(PathStep.Key(key));
            string rest = bracket < 0 ? "" : part[bracket..];
            while (rest.Length > 0)
            {
                int close = rest.IndexOf(']', StringComparison.Ordinal);
                if (rest[0] != '[' || close < 0 ||
                    !int.TryParse(rest[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    error = $"'{text}': '{part}' is not key[index] with a whole number index (e.g. flows[0])";
                    return null;
                }
                steps.Add(PathStep.At(index));
                rest = rest[(close + 1)..];
            }
        }
        return new ScenarioPath(text, steps);
    }

    /// <summary>True when one path is the other or leads into it (both would change the same part of the scenario).</summary>
    public bool Overlaps(ScenarioPath other)
    {
        int n = Math.Min(Steps.Count, other.Steps.Count);
        for (int i = 0; i < n; i++)
        {
            if (Steps[i] != other.Steps[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The first <paramref name="count"/> steps as text (<c>flows[1]</c>), for messages.</summary>
    public string Prefix(int count)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            var step = Steps[i];
            if (step.Name is { } name)
            {
                text.Append(text.Length > 0 ? "." : "").Append(name);
            }
            else
            {
                text.Append('[').Append(step.Index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
        }
        return text.Length == 0 ? "the scenario" : text.ToString();
    }

    public override string ToString() => Text;
}
