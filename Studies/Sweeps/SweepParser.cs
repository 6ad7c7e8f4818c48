using System.Globalization;
using BpfSim.Studies.Output;
using BpfSim.Studies.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// Reads a sweep file (<c>base:</c>, <c>grid:</c>, <c>seeds:</c>, <c>name:</c>; docs/sweeps.md) with the scenario
/// reader's guards, reporting every problem at file:line:column as scenario files do.
/// </summary>
public static class SweepParser
{
    /// <summary>The most runs (points × seeds) one sweep may have.</summary>
    public const int MaxRuns = 100_000;

    private static readonly string[] s_keys = ["base", "grid", "seeds", "name"];

    /// <summary>Reads the sweep file at <paramref name="path"/>.</summary>
    /// <exception cref="ScenarioException">The file is missing or has problems.</exception>
    public static SweepFile Load(string path) => Parse(ScenarioText.Read(path, path), path);

    /// <summary>Reads a sweep file's text; <paramref name="path"/> names it in messages and anchors <c>base:</c>.</summary>
    /// <exception cref="ScenarioException">The text has problems.</exception>
    public static SweepFile Parse(string text, string path)
    {
        YamlGuard.Check(text, path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw YamlGuard.Error(path, e.Start, $"not valid YAML: {YamlGuard.Message(e)}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, $"not valid YAML: {e.Message}")]);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1,
                "a sweep file is one mapping with base: (a scenario file), grid: (scenario keys and their values) and seeds: (e.g. 1..10)")]);
        }
        var errors = new List<ScenarioError>();
        void Error(YamlNode node, string message) => errors.Add(new ScenarioError(path, (int)node.Start.Line, (int)node.Start.Column, message));

        var keys = new Dictionary<string, (YamlNode Key, YamlNode Value)>(StringComparer.Ordinal);
        foreach (var (key, value) in root.Children)
        {
            string keyName = (key as YamlScalarNode)?.Value ?? "";
            if (!s_keys.Contains(keyName))
            {
                Error(key, $"unknown key '{keyName}' in a sweep file (keys: {string.Join(", ", s_keys)})");
                continue;
            }
            keys[keyName] = (key, value);
        }
        string? basePath = null;
        int baseLine = 1, baseColumn = 1;
        if (!keys.TryGetValue("base", out var baseEntry))
        {
            errors.Add(new ScenarioError(path, 1, 1, "base: is missing: the scenario file the grid changes, relative to this file"));
        }
        else if (Scalar(baseEntry.Value) is not { Length: > 0 } baseText)
        {
            Error(baseEntry.Value, "base: must name a scenario file (relative to this file)");
        }
        else
        {
            string folder = System.IO.Path.GetDirectoryName(path) ?? "";
            basePath = System.IO.Path.IsPathRooted(baseText) ? baseText : System.IO.Path.Combine(folder, baseText);
            (baseLine, baseColumn) = ((int)baseEntry.Value.Start.Line, (int)baseEntry.Value.Start.Column);
        }
        string name = System.IO.Path.GetFileNameWithoutExtension(path);
        if (keys.TryGetValue("name", out var nameEntry))
        {
            if (Scalar(nameEntry.Value) is { Length: > 0 } given && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                name = given;
            }
            else
            {
                Error(nameEntry.Value, "name: letters, digits, '_', '-' and '.' only (it names the output folder)");
            }
        }
        var axes = new List<GridAxis>();
        if (keys.TryGetValue("grid", out var gridEntry))
        {
            if (gridEntry.Value is YamlMappingNode grid)
            {
                foreach (var (key, values) in grid.Children)
                {
                    if (Axis(key, values, Error) is { } axis)
                    {
                        if (axes.FirstOrDefault(a => a.Path.Overlaps(axis.Path)) is { } other)
                        {
                            Error(key, $"grid: {axis.Key} and {other.Key} (line {other.Line}) change the same part of the scenario");
                            continue;
                        }
                        axes.Add(axis);
                    }
                }
            }
            else if (!(gridEntry.Value is YamlScalarNode { Value: null or "" }))
            {
                Error(gridEntry.Value, "grid: a mapping of scenario keys to lists of values, e.g. flows[0].cc: [cubic, bbr]");
            }
        }
        IReadOnlyList<ulong> seeds = [];
        if (!keys.TryGetValue("seeds", out var seedsEntry))
        {
            errors.Add(new ScenarioError(path, 1, 1, "seeds: is missing: a range such as 1..10 or a list such as [1, 2, 3]"));
        }
        else
        {
            seeds = Seeds(seedsEntry.Value, Error);
        }
        if (errors.Count == 0)
        {
            long runs = (long)seeds.Count * axes.Aggregate(1L, (n, a) => n * a.Values.Count);
            if (runs > MaxRuns)
            {
                Error(seedsEntry.Key, $"the sweep has {runs:N0} runs (points × seeds), more than {MaxRuns:N0}; split it into several sweeps");
            }
        }
        if (errors.Count > 0)
        {
            throw new ScenarioException(errors);
        }
        return new SweepFile(path, name, basePath!, baseLine, baseColumn, axes, seeds);
    }

    private static GridAxis? Axis(YamlNode key, YamlNode values, Action<YamlNode, string> error)
    {
        string text = ((YamlScalarNode)key).Value ?? "";
        if (ScenarioPath.TryParse(text, out var why) is not { } path)
        {
            error(key, $"grid: {why}");
            return null;
        }
        if (text == "seed")
        {
            error(key, "grid: seed: the seeds are not a grid key; give them as seeds: (e.g. seeds: 1..10)");
            return null;
        }
        if (values is not YamlSequenceNode { Children.Count: > 0 } list)
        {
            error(values, $"grid: {text}: a list of the values it takes, e.g. [a, b] (one value is a list of one)");
            return null;
        }
        var rendered = list.Children.Select(v => new GridValue(GridValueText.Yaml(v), GridValueText.Cell(v), (int)v.Start.Line, (int)v.Start.Column)).ToList();
        var duplicate = rendered.GroupBy(v => v.Yaml).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            var second = duplicate.Skip(1).First();
            error(list.Children[rendered.IndexOf(second)], $"grid: {text}: the value {second.Cell} is listed twice");
            return null;
        }
        // A number column when every value is a single number, so pandas reads it as one.
        bool scalars = list.Children.All(v => v is YamlScalarNode);
        var kind = scalars && rendered.All(v => long.TryParse(v.Cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            ? ResultColumnKind.Integer
            : scalars && rendered.All(v => double.TryParse(v.Cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                ? ResultColumnKind.Double
                : ResultColumnKind.String;
        return new GridAxis(path, rendered, kind, (int)key.Start.Line, (int)key.Start.Column);
    }

    private static IReadOnlyList<ulong> Seeds(YamlNode node, Action<YamlNode, string> error)
    {
        const string Usage = "seeds: a range such as 1..10, or a list of whole numbers such as [1, 2, 3]";
        var seeds = new List<ulong>();
        if (node is YamlSequenceNode list)
        {
            foreach (var item in list.Children)
            {
                if (Scalar(item) is { } s && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
                {
                    if (seeds.Contains(seed))
                    {
                        error(item, $"seeds: {seed} is listed twice");
                        return [];
                    }
                    seeds.Add(seed);
                }
                else
                {
                    error(item, $"{Usage}; '{Scalar(item) ?? "(a list or mapping)"}' is not a whole number");
                    return [];
                }
            }
            if (seeds.Count == 0)
            {
                error(node, $"{Usage}; the list is empty");
            }
            return seeds;
        }
        string? text = Scalar(node);
        if (text is not null && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong one))
        {
            return [one];
        }
        int dots = text?.IndexOf("..", StringComparison.Ordinal) ?? -1;
        if (text is null || dots < 0 ||
            !ulong.TryParse(text[..dots].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong first) ||
            !ulong.TryParse(text[(dots + 2)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong last))
        {
            error(node, $"{Usage}, not '{text ?? "(a mapping)"}'");
            return [];
        }
        if (last < first)
        {
            error(node, $"seeds: the range {text} is empty (the first seed is above the last)");
            return [];
        }
        if (last - first >= MaxRuns)
        {
            error(node, $"seeds: the range {text} has more than {MaxRuns:N0} seeds");
            return [];
        }
        for (ulong s = first; ; s++)
        {
            seeds.Add(s);
            if (s == last)
            {
                break;
            }
        }
        return seeds;
    }

    private static string? Scalar(YamlNode node) => (node as YamlScalarNode)?.Value;
}
