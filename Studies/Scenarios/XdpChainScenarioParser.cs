using System.Globalization;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads.XdpChain;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Reads the scenario file of <c>bpfsim experiment xdp-chain</c> (docs/multi-prog.md §scenario) into an
/// <see cref="XdpChainScenario"/>, reporting every problem as file:line:column.
/// </summary>
public sealed class XdpChainScenarioParser(string file)
{
    /// <summary>The embedded default: the seed's A/B scenario (also scenarios/experiments/xdp_chain_ab.yaml).</summary>
    public const string DefaultName = "xdp_chain_ab.yaml";

    private readonly List<ScenarioError> _errors = [];

    /// <summary>The text of the embedded default scenario.</summary>
    public static string DefaultText()
    {
        using var stream = typeof(XdpChainScenarioParser).Assembly.GetManifestResourceStream("BpfSim.Studies.xdp_chain_ab.yaml")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <exception cref="ScenarioException">The file has problems.</exception>
    public XdpChainScenario Parse(string text)
    {
        YamlGuard.Check(text, file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw YamlGuard.Error(file, e.Start, $"not valid YAML: {YamlGuard.Message(e)}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ScenarioException([new ScenarioError(file, 1, 1,
                "an xdp-chain scenario is one mapping with keys such as seed, duration, packet_rate, components")]);
        }
        var keys = Keys(root, "the scenario", "seed", "duration", "packet_rate", "libxdp_flock", "chain_map", "max_retries", "mprog_links", "components");
        ulong seed = keys.TryGetValue("seed", out var s) ? (ulong)Integer(s, "seed", 0, long.MaxValue, 1) : 1;
        var duration = Time(keys, "duration") ?? SimTime.FromMilliseconds(100);
        long rate = keys.TryGetValue("packet_rate", out var pr) ? Integer(pr, "packet_rate", 1, 100_000_000, 1_000_000) : 1_000_000;
        bool flock = !keys.TryGetValue("libxdp_flock", out var fl) || Bool(fl, "libxdp_flock");
        bool whole = false;
        if (keys.TryGetValue("chain_map", out var cm) && Scalar(cm, "chain_map") is { } mode)
        {
            whole = mode == "whole_map";
            if (mode is not ("entries" or "whole_map"))
            {
                Error(cm, $"chain_map must be 'entries' or 'whole_map', not '{mode}'");
            }
        }
        bool links = keys.TryGetValue("mprog_links", out var ml) && Bool(ml, "mprog_links");
        int retries = keys.TryGetValue("max_retries", out var mr) ? (int)Integer(mr, "max_retries", 0, 1000, 10) : 10;
        var components = new List<ChainComponentSpec>();
        var locations = new List<string>();
        if (!keys.TryGetValue("components", out var cs) || cs is not YamlSequenceNode list || list.Children.Count == 0)
        {
            Error(keys.TryGetValue("components", out var where) ? where : root, "components: a list of 1 to 10 components is required");
        }
        else
        {
            if (list.Children.Count > 10)
            {
                Error(list, $"at most 10 components (libxdp's dispatcher has 10 slots); got {list.Children.Count}");
            }
            foreach (var node in list.Children)
            {
                if (Component(node, seed) is { } c)
                {
                    if (components.Any(o => o.Name == c.Name))
                    {
                        Error(node, $"a second component named '{c.Name}'");
                    }
                    components.Add(c);
                    locations.Add($"{file}:{node.Start.Line}:{node.Start.Column}");
                }
            }
        }
        if (_errors.Count > 0)
        {
            throw new ScenarioException(_errors);
        }
        var scenario = new XdpChainScenario
        {
            Seed = seed,
            Duration = duration,
            PacketRate = rate,
            LibxdpFlock = flock,
            ChainMapWholeReplace = whole,
            MaxRetries = retries,
            MprogLinks = links,
            Components = components,
            ComponentLocations = locations,
        };
        try
        {
            scenario.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ScenarioException([new ScenarioError(file, (int)root.Start.Line, (int)root.Start.Column, e.Message)]);
        }
        return scenario;
    }

    private ChainComponentSpec? Component(YamlNode node, ulong seed)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, "a component is a mapping with name, priority, versions and timeline (or random_timeline)");
            return null;
        }
        var keys = Keys(map, "a component", "name", "priority", "versions", "timeline", "random_timeline");
        string name = keys.TryGetValue("name", out var n) ? Scalar(n, "name") ?? "?" : "?";
        if (!keys.ContainsKey("name"))
        {
            Error(map, "a component needs a name");
        }
        else if (name.Length == 0 || name.Length > 12 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
        {
            Error(keys["name"], $"name '{name}' must be 1 to 12 characters of [A-Za-z0-9_] (program names are NAME_VERSION, at most 15)");
        }
        int priority = keys.TryGetValue("priority", out var p) ? (int)Integer(p, "priority", 0, 1000, 50) : 50;
        var versions = new List<ComponentVersionSpec>();
        if (keys.TryGetValue("versions", out var vs) && vs is YamlSequenceNode vlist && vlist.Children.Count > 0)
        {
            foreach (var v in vlist.Children)
            {
                if (Version(v) is { } version)
                {
                    if (versions.Any(o => o.Name == version.Name))
                    {
                        Error(v, $"component {name}: a second version named '{version.Name}'");
                    }
                    versions.Add(version);
                }
            }
        }
        else
        {
            Error(keys.TryGetValue("versions", out var w) ? w : map, $"component {name}: versions: a list of at least one version is required");
        }
        IReadOnlyList<ComponentActionSpec> timeline = [];
        if (keys.TryGetValue("timeline", out var tl))
        {
            timeline = Timeline(tl, name, versions);
            if (keys.ContainsKey("random_timeline"))
            {
                Error(keys["random_timeline"], $"component {name}: give timeline or random_timeline, not both");
            }
        }
        else if (keys.TryGetValue("random_timeline", out var rt))
        {
            timeline = Random(rt, name, versions.Count, seed);
        }
        else
        {
            Error(map, $"component {name}: a timeline (or random_timeline) is required");
        }
        return new ChainComponentSpec { Name = name, Priority = priority, Versions = versions, Timeline = timeline };
    }

    private ComponentVersionSpec? Version(YamlNode node)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, "a version is a mapping: { name: v1, cost: 30ns }");
            return null;
        }
        var keys = Keys(map, "a version", "name", "cost");
        string name = keys.TryGetValue("name", out var n) ? Scalar(n, "name") ?? "v" : "v";
        if (!keys.ContainsKey("name"))
        {
            Error(map, "a version needs a name");
        }
        else if (name.Length == 0 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
        {
            Error(keys["name"], $"version name '{name}' must be letters, digits and _");
        }
        var cost = Time(keys, "cost") ?? SimTime.FromNanoseconds(20);
        return new ComponentVersionSpec(name, cost.Nanoseconds);
    }

    private List<ComponentActionSpec> Timeline(YamlNode node, string component, List<ComponentVersionSpec> versions)
    {
        var list = new List<ComponentActionSpec>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, $"component {component}: timeline is a list of {{ at: 1ms, action: start, version: v1 }}");
            return list;
        }
        foreach (var e in seq.Children)
        {
            if (e is not YamlMappingNode map)
            {
                Error(e, "a timeline entry is a mapping: { at: 1ms, action: start|replace|stop, version: v1 }");
                continue;
            }
            var keys = Keys(map, "a timeline entry", "at", "action", "version");
            var at = Time(keys, "at");
            if (at is null)
            {
                if (!keys.ContainsKey("at"))
                {
                    Error(map, "a timeline entry needs at: (a time such as 1ms)");
                }
                continue; // reported already, or just now
            }
            string action = keys.TryGetValue("action", out var a) ? Scalar(a, "action") ?? "" : "";
            ComponentActionKind kind;
            switch (action)
            {
                case "start": kind = ComponentActionKind.Start; break;
                case "replace": kind = ComponentActionKind.Replace; break;
                case "stop": kind = ComponentActionKind.Stop; break;
                default:
                    Error(keys.TryGetValue("action", out var an) ? an : map, $"action must be start, replace or stop, not '{action}'");
                    continue;
            }
            int version = 0;
            if (kind != ComponentActionKind.Stop)
            {
                string vname = keys.TryGetValue("version", out var v) ? Scalar(v, "version") ?? "" : "";
                version = versions.FindIndex(x => x.Name == vname);
                if (version < 0)
                {
                    Error(keys.TryGetValue("version", out var vn) ? vn : map,
                        $"component {component}: {action} needs version: one of {string.Join(", ", versions.Select(x => x.Name))}");
                    continue;
                }
            }
            else if (keys.TryGetValue("version", out var sv))
            {
                Error(sv, "stop takes no version");
            }
            var spec = new ComponentActionSpec(at.Value, kind, version);
            if (CheckStep(list, spec, component) is { } problem)
            {
                Error(map, problem);
                continue;
            }
            list.Add(spec);
        }
        return list;
    }

    /// <summary>What is wrong with appending <paramref name="next"/> to <paramref name="list"/>, or null.</summary>
    private static string? CheckStep(List<ComponentActionSpec> list, ComponentActionSpec next, string component)
    {
        int current = -1;
        foreach (var a in list)
        {
            current = a.Kind == ComponentActionKind.Stop ? -1 : a.Version;
        }
        if (list.Count > 0 && next.At < list[^1].At)
        {
            return $"component {component}: timeline entries must be in time order ({next.At} comes after {list[^1].At})";
        }
        return next.Kind switch
        {
            ComponentActionKind.Start when current >= 0 => $"component {component}: start while already started (stop first)",
            ComponentActionKind.Replace or ComponentActionKind.Stop when current < 0 =>
                $"component {component}: {next.Kind.ToString().ToLowerInvariant()} while not started",
            ComponentActionKind.Replace when next.Version == current => $"component {component}: replace with the version already running",
            _ => null,
        };
    }

    private IReadOnlyList<ComponentActionSpec> Random(YamlNode node, string component, int versions, ulong seed)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, "random_timeline is a mapping: { actions: 20, from: 1ms, mean_gap: 5ms }");
            return [];
        }
        var keys = Keys(map, "random_timeline", "actions", "from", "mean_gap");
        int actions = keys.TryGetValue("actions", out var a) ? (int)Integer(a, "actions", 0, 100_000, 10) : 10;
        var from = Time(keys, "from") ?? SimTime.Zero;
        var gap = Time(keys, "mean_gap") ?? SimTime.FromMilliseconds(5);
        if (gap.Nanoseconds <= 0 || versions == 0)
        {
            if (gap.Nanoseconds <= 0)
            {
                Error(keys["mean_gap"], "mean_gap must be greater than 0");
            }
            return [];
        }
        return RandomTimeline.Generate(SimRandom.For(seed, $"timeline/{component}"), versions, actions, from, gap);
    }

    private void Error(YamlNode node, string message) =>
        _errors.Add(new ScenarioError(file, (int)node.Start.Line, (int)node.Start.Column, message));

    private Dictionary<string, YamlNode> Keys(YamlMappingNode map, string where, params string[] allowed)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(key))
            {
                Error(k, $"unknown key '{key}' in {where} (expected one of: {string.Join(", ", allowed)})");
                continue;
            }
            if (!result.TryAdd(key, v))
            {
                Error(k, $"'{key}' given twice in {where}");
            }
        }
        return result;
    }

    private string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } text })
        {
            return text;
        }
        Error(node, $"{what} must be a single value, not a {(node is YamlMappingNode ? "mapping" : "list")}");
        return null;
    }

    private long Integer(YamlNode node, string what, long min, long max, long fallback)
    {
        if (Scalar(node, what) is not { } text)
        {
            return fallback;
        }
        if (!long.TryParse(text.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            Error(node, $"{what}: '{text}' is not a whole number from {min} to {max}");
            return fallback;
        }
        return value;
    }

    private bool Bool(YamlNode node, string what)
    {
        string? text = Scalar(node, what);
        if (text is "true" or "false")
        {
            return text == "true";
        }
        if (text is not null)
        {
            Error(node, $"{what} must be true or false, not '{text}'");
        }
        return true;
    }

    private SimTime? Time(Dictionary<string, YamlNode> keys, string key)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } text)
        {
            return null;
        }
        if (!SimTime.TryParse(text, out var t, out var error))
        {
            Error(node, $"{key}: {error}");
            return null;
        }
        if (t.Nanoseconds < 0 || t > SimTime.FromSeconds(3600))
        {
            Error(node, $"{key} must be between 0 and 1h; got {text.Trim()}");
            return null;
        }
        return t;
    }
}
