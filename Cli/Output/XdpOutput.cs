using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Studies;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Cli.Output;

/// <summary>
/// <c>bpfsim run --list-interfaces</c> (the topology's interfaces, what <c>xdp:</c> entries name) and
/// <c>--dump-map NAME</c> (an XDP object's maps of that name after the run, as <c>bpftool map dump</c> prints them).
/// </summary>
public static class XdpOutput
{
    /// <summary>Prints the routers' interfaces with the ifindex each gets, and the hosts' pattern.</summary>
    public static int ListInterfaces(LoadedScenario scenario, TextWriter stdout, TextWriter stderr)
    {
        if (scenario.Tcp is not { } spec)
        {
            stderr.WriteLine($"bpfsim: {scenario.Name} is a scheduler scenario: it has no network interfaces");
            return ExitCodes.BadInput;
        }
        var names = TopologyInterfaces.Of(spec.Network);
        stdout.WriteLine($"{scenario.Name}: interfaces (ifindex name; XDP and tcx ingress hooks run where packets arrive):");
        for (int i = 0; i < names.Count; i++)
        {
            stdout.WriteLine($"{i + 1,4} {names[i]}");
        }
        stdout.WriteLine($"     and each flow's hosts' ports, {TopologyInterfaces.HostPattern(spec.Network)} (I = flows.csv's id - 1), numbered as the flows open");
        return ExitCodes.Success;
    }

    /// <summary>
    /// Prints the named maps (plain, or bpftool -j's array; several as an object by key); a name several maps share
    /// prints each of them (<see cref="XdpMapResult.Key"/> picks one). EXIT 2 for an unknown name.
    /// </summary>
    public static int DumpMaps(IReadOnlyList<XdpMapResult> maps, IReadOnlyList<string> names, bool json, TextWriter stdout, TextWriter stderr)
    {
        var unknown = names.Where(n => !maps.Any(m => Matches(m, n))).ToList();
        if (unknown.Count > 0)
        {
            stderr.WriteLine($"bpfsim: --dump-map {string.Join(", ", unknown)}: no such map; the run's XDP maps are " +
                (maps.Count == 0 ? "none (the scenario loads no XDP object)" : Known(maps.Select(m => m.Key))));
            return ExitCodes.BadInput;
        }
        var picked = names.Distinct(StringComparer.Ordinal).SelectMany(n => maps.Where(m => Matches(m, n))).Distinct().ToList();
        if (json)
        {
            JsonNode node = picked.Count == 1 ? picked[0].Json.DeepClone()
                : new JsonObject(picked.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Json.DeepClone())));
            stdout.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }
        foreach (var m in picked)
        {
            stdout.WriteLine($"map {m.Name} (id {m.Id}, {m.Type}) of {m.Object} on {m.Interface}, at the end of the run:");
            stdout.Write(m.Text);
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// Refuses before the run a <c>--dump-map</c> name that none of the maps the scenario's XDP programs create has
    /// (<see cref="LoadedScenario.XdpMapNames"/>, found by the check before the run); null when all are known.
    /// </summary>
    public static string? UnknownMaps(LoadedScenario scenario, IReadOnlyList<string> names)
    {
        var unknown = names.Where(n => !scenario.XdpMapNames.Contains(n, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return unknown.Count == 0 ? null
            : $"bpfsim: --dump-map {string.Join(", ", unknown)}: no such map; the XDP programs of {scenario.Name} create " +
              (scenario.XdpMapNames.Count == 0 ? "none" : Known(scenario.XdpMapNames));
    }

    private static bool Matches(XdpMapResult map, string name) => map.Name == name || map.Key == name;

    private static string Known(IEnumerable<string> names) => string.Join(", ", names.Distinct(StringComparer.Ordinal));
}
