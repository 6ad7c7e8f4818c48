using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>Links that change: Mahimahi traces (<c>mahimahi</c>, <c>mahimahi_up</c>) and <c>changes</c> of the bottleneck.</summary>
public sealed partial class ScenarioParser
{
    private NetworkSpec ParseChangingLinks(Dictionary<string, YamlNode> keys, NetworkSpec spec, SimTime duration)
    {
        spec = spec with { Mahimahi = Trace(keys, "mahimahi"), MahimahiUp = Trace(keys, "mahimahi_up") };
        if (spec.Mahimahi is not null && spec.MahimahiUp is not null && keys.TryGetValue("rate", out var rate))
        {
            Error(rate, "rate has no direction to apply to: both directions follow Mahimahi traces (mahimahi, mahimahi_up)");
        }
        if (keys.TryGetValue("changes", out var changes))
        {
            spec = spec with { Changes = ParseChanges(changes, spec, duration) };
        }
        return spec;
    }

    /// <summary>
    /// Reads the Mahimahi trace a key names, relative to the scenario's folder; a file that cannot be read is an error at
    /// the key's value, a line of the trace that breaks mm-link's rules an error at that line of the trace.
    /// </summary>
    private DeliveryTrace? Trace(Dictionary<string, YamlNode> keys, string key)
    {
        if (!keys.TryGetValue(key, out var node) || Scalar(node, key) is not { } path)
        {
            return null;
        }
        if (path.Trim().Length == 0)
        {
            Error(node, $"{key} is the path of a Mahimahi trace file (one delivery opportunity per line, in ms)");
            return null;
        }
        string full = Path.GetFullPath(Path.Combine(_baseDirectory, path));
        string text;
        try
        {
            var info = new FileInfo(full);
            if (info.Exists && info.Length > (long)DeliveryTrace.MaxLines * 12)
            {
                Error(node, $"{key}: {path} is {info.Length:N0} bytes, more than a trace of {DeliveryTrace.MaxLines:N0} lines can be");
                return null;
            }
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file"
                : Directory.Exists(full) ? "it is a directory, not a trace file" : e.Message;
            Error(node, $"{key}: cannot read the trace {path} ({full}): {why}");
            return null;
        }
        try
        {
            return DeliveryTrace.Parse(text, path);
        }
        catch (DeliveryTraceException e)
        {
            // The problem is in the trace, so the location is the trace's line; the scenario's key says who read it.
            _errors.Add(new ScenarioError(full, e.Line, 1, $"{e.Reason} (the Mahimahi trace of {key}, {_file}:{node.Start.Line}:{node.Start.Column})"));
            return null;
        }
    }

    private List<LinkChange> ParseChanges(YamlNode node, NetworkSpec spec, SimTime duration)
    {
        var list = new List<LinkChange>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "changes must be a list such as [ { at: 10s, rate: 20Mbps }, { at: 20s, delay: 40ms, loss: 0.01 } ]");
            return list;
        }
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each change must be a mapping { at: TIME, rate: RATE, delay: TIME, loss: NUMBER }");
                continue;
            }
            var keys = Keys(map, "a change", "at", "rate", "delay", "loss");
            var at = Time(keys, "at");
            if (!keys.ContainsKey("at"))
            {
                Error(map, "a change needs at (when it applies)");
            }
            if (!keys.ContainsKey("rate") && !keys.ContainsKey("delay") && !keys.ContainsKey("loss"))
            {
                Error(map, "a change sets at least one of rate, delay and loss");
            }
            var change = new LinkChange(at ?? SimTime.Zero, Rate(keys, "rate"), Time(keys, "delay"), Number(keys, "loss", 0, 1));
            if (keys.TryGetValue("rate", out var rate) && spec.Mahimahi is not null)
            {
                Error(rate, spec.MahimahiUp is null
                    ? "rate cannot change on a bottleneck whose data direction follows a Mahimahi trace (the trace is its rate)"
                    : "rate has no direction to apply to: both directions follow Mahimahi traces");
            }
            if (at is { } t)
            {
                if (t >= duration)
                {
                    Error(keys["at"], $"at ({t}) is not before the end of the run ({duration}): the change would never apply");
                }
                if (list.Count > 0 && t < list[^1].At)
                {
                    Error(keys["at"], $"changes must be in time order: {t} comes after {list[^1].At}");
                }
            }
            list.Add(change);
        }
        return list;
    }
}
