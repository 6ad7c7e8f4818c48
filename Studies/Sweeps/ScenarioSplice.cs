using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// Where a grid key's value goes in the base scenario's text, found by walking the scenario's YAML node tree by the
/// key's path: the span of the node it replaces, or — for a final mapping key the base does not have — the place after
/// the mapping's last entry where a new line (block style) or a new entry (flow style) is inserted. Values are spliced
/// into the base's own text rather than written out from the tree, so a point's scenario keeps the base's comments and
/// layout and a problem found in it is reported at the base file's own line.
/// </summary>
internal sealed record ScenarioSplice(int Start, int End, string Before, string After)
{
    /// <summary>Finds where <paramref name="path"/> is in <paramref name="root"/>; null with <paramref name="error"/> when the base has no such place.</summary>
    public static ScenarioSplice? Find(YamlMappingNode root, string text, ScenarioPath path, out string? error)
    {
        error = null;
        YamlNode node = root;
        var steps = path.Steps;
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Name is { } name)
            {
                if (node is not YamlMappingNode map)
                {
                    error = $"{path.Prefix(i)} is not a mapping in the base scenario, so it has no key '{name}'";
                    return null;
                }
                var entry = map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var k } && k == name);
                if (entry.Key is null)
                {
                    if (i == steps.Count - 1)
                    {
                        return Insert(map, name, text);
                    }
                    error = $"the base scenario has no {path.Prefix(i + 1)} (only the last key of a path may be new)";
                    return null;
                }
                node = entry.Value;
            }
            else
            {
                if (node is not YamlSequenceNode list)
                {
                    error = $"{path.Prefix(i)} is not a list in the base scenario, so it has no entry [{step.Index}]";
                    return null;
                }
                if (step.Index >= list.Children.Count)
                {
                    error = $"{path.Prefix(i)} has {list.Children.Count} entr{(list.Children.Count == 1 ? "y" : "ies")} in the base scenario; " +
                            $"[{step.Index}] is not one of them (entries count from 0)";
                    return null;
                }
                node = list.Children[step.Index];
            }
        }
        return new ScenarioSplice((int)node.Start.Index, ContentEnd(node, text), "", "");
    }

    /// <summary>The base's text with each splice's value put in (<paramref name="edits"/> must not overlap).</summary>
    public static string Apply(string text, IReadOnlyList<(ScenarioSplice Splice, string Yaml)> edits)
    {
        // From the end, so earlier offsets stay valid; at one offset the later key first, so the keys end up in grid order.
        var ordered = edits.Select((e, i) => (e.Splice, e.Yaml, Order: i))
            .OrderByDescending(e => e.Splice.Start).ThenByDescending(e => e.Order);
        var result = new System.Text.StringBuilder(text);
        foreach (var (splice, yaml, _) in ordered)
        {
            result.Remove(splice.Start, splice.End - splice.Start).Insert(splice.Start, splice.Before + yaml + splice.After);
        }
        return result.ToString();
    }

    private static ScenarioSplice Insert(YamlMappingNode map, string key, string text)
    {
        if (map.Style == YamlDotNet.Core.Events.MappingStyle.Flow)
        {
            if (map.Children.Count == 0)
            {
                int open = (int)map.Start.Index + 1;
                return new ScenarioSplice(open, open, $"{key}: ", "");
            }
            int after = ContentEnd(map.Children[^1].Value, text);
            return new ScenarioSplice(after, after, $", {key}: ", "");
        }
        // A block mapping: a new line at the indentation of its keys, after its last value.
        int end = ContentEnd(map.Children[^1].Value, text);
        string newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        return new ScenarioSplice(end, end, $"{newline}{new string(' ', (int)map.Start.Column - 1)}{key}: ", "");
    }

    /// <summary>
    /// Where the node's own text ends: a block collection ends with its last entry, a flow collection at the bracket
    /// that closes it (the reader's end mark of a collection node is where it started, so it is found from its entries).
    /// </summary>
    private static int ContentEnd(YamlNode node, string text) => node switch
    {
        YamlMappingNode { Style: YamlDotNet.Core.Events.MappingStyle.Flow } map =>
            Closing(map.Children.Count > 0 ? ContentEnd(map.Children[^1].Value, text) : (int)map.Start.Index + 1, '}', text),
        YamlSequenceNode { Style: YamlDotNet.Core.Events.SequenceStyle.Flow } list =>
            Closing(list.Children.Count > 0 ? ContentEnd(list.Children[^1], text) : (int)list.Start.Index + 1, ']', text),
        YamlMappingNode { Children.Count: > 0 } map => ContentEnd(map.Children[^1].Value, text),
        YamlSequenceNode { Children.Count: > 0 } list => ContentEnd(list.Children[^1], text),
        _ => (int)node.End.Index,
    };

    /// <summary>Just past the first <paramref name="bracket"/> at or after <paramref name="from"/> (the end of the last entry).</summary>
    private static int Closing(int from, char bracket, string text) => text.IndexOf(bracket, from) + 1;
}
