using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>The measurement keys of a TCP scenario: the steady-state window and the FCT size bins (docs/scenarios.md).</summary>
public sealed partial class ScenarioParser
{
    /// <summary>
    /// Reads <c>measure_from</c>, <c>measure_to</c> (inside the run, from before to) and <c>fct_bins</c> (ascending
    /// positive sizes), each error at the value that is wrong. <paramref name="spec"/>'s duration is already read.
    /// </summary>
    private TcpScenarioSpec ParseMeasurement(Dictionary<string, YamlNode> keys, TcpScenarioSpec spec)
    {
        var from = Time(keys, "measure_from");
        var to = Time(keys, "measure_to", positive: true);
        if (from is { } f && f >= spec.Duration)
        {
            Error(keys["measure_from"], $"measure_from ({f}) must be before the end of the run (duration {spec.Duration})");
            from = null;
        }
        if (to is { } t && t > spec.Duration)
        {
            Error(keys["measure_to"], $"measure_to ({t}) must be at most the duration ({spec.Duration})");
            to = null;
        }
        if (from is { } a && to is { } b && b <= a)
        {
            Error(keys["measure_to"], $"measure_to ({b}) must be after measure_from ({a})");
            to = null;
        }
        spec = spec with { MeasureFrom = from, MeasureTo = to };
        if (keys.TryGetValue("fct_bins", out var node))
        {
            if (ParseFctBins(node) is { } bins)
            {
                spec = spec with { FctBins = bins };
            }
        }
        return spec;
    }

    private List<long>? ParseFctBins(YamlNode node)
    {
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "fct_bins must be a list of sizes, the bins' upper edges in ascending order, e.g. [100KB, 1MB]");
            return null;
        }
        if (seq.Children.Count == 0)
        {
            Error(node, "fct_bins is empty: give the bins' upper edges, e.g. [100KB, 1MB], or leave the key out for those two");
            return null;
        }
        var bins = new List<long>();
        bool ok = true;
        foreach (var item in seq)
        {
            if (item is not YamlScalarNode scalar || scalar.Value is not { } text)
            {
                Error(item, "each fct_bins entry is a size, e.g. 100KB");
                ok = false;
                continue;
            }
            if (!Quantity.TryParseSize(text, out long bytes, out var error) || bytes <= 0)
            {
                Error(item, $"fct_bins: {error ?? "a bin edge must be greater than 0"}");
                ok = false;
                continue;
            }
            if (bins.Count > 0 && bytes <= bins[^1])
            {
                Error(item, $"fct_bins must ascend: {text.Trim()} is not above the edge before it ({bins[^1]:N0} B)");
                ok = false;
                continue;
            }
            bins.Add(bytes);
        }
        if (ok && bins.Count > ScenarioLimits.MaxFctBins)
        {
            Error(node, $"fct_bins takes at most {ScenarioLimits.MaxFctBins} edges");
            ok = false;
        }
        return ok ? bins : null;
    }
}
