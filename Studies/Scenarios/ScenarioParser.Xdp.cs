using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// <c>xdp:</c>, the XDP programs of a TCP scenario: each a <c>.bpf.o</c> (a path, or the name of one of bpfsim's own,
/// e.g. <c>xdp_src_counter</c>) and its program (<c>name:</c>, when it has several), or a C# XDP program (a consumer's
/// name, e.g. <c>xdp_src_counter_cs</c>, or a <c>.dll</c> holding one), the interface (<c>NODE:PORT</c>, a router's),
/// when it is attached and detached, as a link or a program, and the object's <c>globals:</c> (the C# program's options).
/// </summary>
public sealed partial class ScenarioParser
{
    private const string XdpUsage = "xdp must be a list of { program: NAME|PATH.bpf.o|PATH.dll, interface: NODE:PORT, at: TIME, detach_at: TIME, mode: link|prog }";

    private List<XdpEntry> ParseXdp(YamlNode node, TcpScenarioSpec spec)
    {
        var list = new List<XdpEntry>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, XdpUsage);
            return list;
        }
        var interfaces = TopologyInterfaces.Of(spec.Network);
        var windows = new List<(string Interface, SimTime From, SimTime? To, YamlNode Node)>();
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each xdp entry must be a mapping");
                continue;
            }
            var keys = Keys(map, "an xdp entry", "program", "name", "interface", "at", "detach_at", "mode", "replace", "globals");
            if (!keys.ContainsKey("program") || !keys.ContainsKey("interface"))
            {
                Error(map, "an xdp entry needs program and interface");
                continue;
            }
            var at = Time(keys, "at") ?? SimTime.Zero;
            var detachAt = Time(keys, "detach_at");
            if (detachAt is { } d && d <= at)
            {
                Error(keys["detach_at"], "detach_at must be after at");
            }
            var mode = XdpAttachMode.Link;
            if (keys.TryGetValue("mode", out var modeNode) && Scalar(modeNode, "mode") is { } modeText)
            {
                if (modeText is "prog")
                {
                    mode = XdpAttachMode.Prog;
                }
                else if (modeText is not "link")
                {
                    Error(modeNode, $"mode must be link (BPF_LINK_CREATE) or prog (attached by fd, as ip link set dev D xdp does), not '{modeText}'");
                }
            }
            bool replace = Bool(keys, "replace") ?? false;
            string? iface = Scalar(keys["interface"], "interface");
            if (iface is not null && !interfaces.Contains(iface) && TopologyInterfaces.TryHostFlow(spec.Network, iface, out int flow))
            {
                _xdpHosts.Add((flow, keys["interface"])); // checked against the flows once they are parsed
            }
            else if (iface is not null && !interfaces.Contains(iface))
            {
                Error(keys["interface"], $"unknown interface '{iface}': this topology's are {string.Join(", ", interfaces)} " +
                    $"and the hosts' ports, {TopologyInterfaces.HostPattern(spec.Network)} for flow I (flows.csv's id - 1)");
                iface = null;
            }
            string? programName = keys.TryGetValue("name", out var nameNode) ? Scalar(nameNode, "name") : null;
            var globals = keys.TryGetValue("globals", out var globalsNode) ? ParseGlobals(globalsNode, []) : [];
            string? path = null;
            ConsumerInfo? consumer = null;
            if (Scalar(keys["program"], "program") is { } program)
            {
                if (program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || _catalog.Find(program) is not null)
                {
                    consumer = XdpConsumer(keys["program"], program, programName, nameNode, globals);
                    path = consumer?.Name;
                }
                else
                {
                    path = XdpObject(keys["program"], program, programName, nameNode, globals);
                }
            }
            if (iface is not null)
            {
                CheckXdpOverlap(windows, iface, at, detachAt, replace, map);
                windows.Add((iface, at, detachAt, map));
            }
            if (path is not null && iface is not null)
            {
                list.Add(new XdpEntry
                {
                    Program = path, ProgramName = consumer is null ? programName : null, Consumer = consumer, Interface = iface, At = at, DetachAt = detachAt, Mode = mode, Replace = replace,
                    Globals = globals, Location = $"{_file}:{map.Start.Line}:{map.Start.Column}",
                });
            }
        }
        return list;
    }

    /// <summary>Entries on hosts' interfaces (the flow index, the node): the flow must exist.</summary>
    private readonly List<(int Flow, YamlNode Node)> _xdpHosts = [];

    /// <summary>A host's interface exists only for the flows the scenario has: checks the entries on them once the flows are known.</summary>
    private void CheckXdpHosts(TcpScenarioSpec spec)
    {
        int flows = spec.Flows.Sum(f => f.Count);
        foreach (var (flow, node) in _xdpHosts.Where(h => h.Flow >= flows))
        {
            Error(node, $"no flow {flow + 1} (flows.csv's id {flow + 1}): this scenario has {flows} flow(s), so its hosts' ports are " +
                $"{TopologyInterfaces.HostPattern(spec.Network)} for I from 0 to {flows - 1}");
        }
    }

    /// <summary>One program or one link per interface (dev_xdp_attach): a second that overlaps an earlier one must replace it.</summary>
    private void CheckXdpOverlap(List<(string Interface, SimTime From, SimTime? To, YamlNode Node)> windows, string iface, SimTime at,
        SimTime? detachAt, bool replace, YamlNode node)
    {
        foreach (var (other, from, to, otherNode) in windows)
        {
            bool overlaps = other == iface && at < (to ?? new SimTime(long.MaxValue)) && from < (detachAt ?? new SimTime(long.MaxValue));
            if (overlaps && !(replace && at >= from))
            {
                Error(node, $"{iface} has a program from {from} (line {otherNode.Start.Line}){(to is { } t ? $" to {t}" : "")}: the kernel " +
                    "attaches one program or one link per interface (EBUSY/EEXIST); detach it first, or give this entry replace: true");
            }
        }
    }

    /// <summary>Finds the object (a path, or one of bpfsim's own by name), checks its XDP program and its globals; the full path.</summary>
    private string? XdpObject(YamlNode programNode, string program, string? programName, YamlNode? nameNode, IReadOnlyList<ConsumerGlobal> globals)
    {
        string path = program.EndsWith(".o", StringComparison.Ordinal)
            ? Path.GetFullPath(Path.Combine(_baseDirectory, program))
            : BuiltinXdpObjects.PathOf(program);
        if (!File.Exists(path))
        {
            Error(programNode, program.EndsWith(".o", StringComparison.Ordinal)
                ? $"no such file: {path}"
                : $"unknown XDP program '{program}' (bpfsim's objects: {string.Join(", ", BuiltinXdpObjects.Names())}; C# XDP programs: " +
                  $"{string.Join(", ", XdpConsumers().Select(c => c.Name))}; or give a path to a .bpf.o or a .dll)");
            return null;
        }
        ObjectSpec spec;
        try
        {
            spec = ObjectReader.Read(path);
        }
        catch (Exception e) when (e is ObjectFormatException or BtfException or IOException)
        {
            Error(programNode, $"{path}: {e.Message}");
            return null;
        }
        var xdp = spec.Programs.Where(p => p.SectionKind == ProgramSectionKind.Xdp).Select(p => p.Name).ToList();
        if (programName is null)
        {
            if (xdp.Count != 1)
            {
                Error(programNode, xdp.Count == 0
                    ? $"{program} has no XDP program (SEC(\"xdp\")): " + (spec.Programs.Count == 0 ? "it has no programs at all"
                        : $"its programs are {string.Join(", ", spec.Programs.Select(p => $"{p.Name} ({p.SectionName})"))}")
                    : $"{program} has {xdp.Count} XDP programs ({string.Join(", ", xdp)}): pick one with name:");
                return null;
            }
        }
        else if (!xdp.Contains(programName))
        {
            var other = spec.Programs.FirstOrDefault(p => p.Name == programName);
            Error(nameNode!, other is not null
                ? $"{programName} is in section {other.SectionName}, not an XDP program (SEC(\"xdp\"))"
                : $"{program} has no program {programName} (its XDP programs: {(xdp.Count == 0 ? "none" : string.Join(", ", xdp))})");
            return null;
        }
        if (globals.Count > 0)
        {
            ConsumerGlobals.Apply(spec, globals, out var errors);
            foreach (var error in errors)
            {
                _errors.Add(StructOpsCheck.At(error.Global.Location, _file, error.Message));
            }
        }
        return path;
    }

    /// <summary>
    /// Finds the C# XDP program an entry names: a consumer of the catalog, or the XDP program of a <c>.dll</c> (relative
    /// to the scenario; <c>name:</c> picks one when it holds several); checks its options against <c>globals:</c>.
    /// </summary>
    private ConsumerInfo? XdpConsumer(YamlNode programNode, string program, string? programName, YamlNode? nameNode, IReadOnlyList<ConsumerGlobal> globals)
    {
        ConsumerInfo? info;
        if (program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            IReadOnlyList<ConsumerInfo> found;
            try
            {
                found = ConsumerFiles.LoadInto(_catalog, Path.GetFullPath(Path.Combine(_baseDirectory, program)));
            }
            catch (Exception e) when (e is ConsumerLoadException or ArgumentException or IOException or NotSupportedException)
            {
                Error(programNode, e.Message);
                return null;
            }
            var xdp = found.Where(c => c.Kind == ConsumerKind.Xdp).ToList();
            if (programName is null)
            {
                if (xdp.Count != 1)
                {
                    Error(programNode, xdp.Count == 0
                        ? $"{program} has no XDP program (a class marked [XdpProgram]): " + (found.Count == 0 ? "it has no consumers at all"
                            : $"its consumers are {string.Join(", ", found.Select(c => $"{c.Name} ({c.StructOpsType})"))}")
                        : $"{program} has {xdp.Count} XDP programs ({string.Join(", ", xdp.Select(c => c.Name))}): pick one with name:");
                    return null;
                }
                info = xdp[0];
            }
            else if ((info = xdp.FirstOrDefault(c => c.Name == programName)) is null)
            {
                var other = found.FirstOrDefault(c => c.Name == programName);
                Error(nameNode!, other is not null
                    ? $"{programName} is a {other.StructOpsType} consumer, not an XDP program"
                    : $"{program} has no XDP program {programName} (its XDP programs: {(xdp.Count == 0 ? "none" : string.Join(", ", xdp.Select(c => c.Name)))})");
                return null;
            }
        }
        else
        {
            info = _catalog.Find(program)!;
            if (info.Kind != ConsumerKind.Xdp)
            {
                Error(programNode, $"{program} is a {info.StructOpsType} consumer, not an XDP program (C# XDP programs: " +
                    $"{string.Join(", ", XdpConsumers().Select(c => c.Name))}; bpfsim's XDP objects: {string.Join(", ", BuiltinXdpObjects.Names())})");
                return null;
            }
            if (nameNode is not null)
            {
                Error(nameNode, $"name: picks a program of a .bpf.o or a .dll; {program} is one program");
            }
        }
        foreach (var error in ConsumerGlobals.Check(info, globals))
        {
            _errors.Add(StructOpsCheck.At(error.Global.Location, _file, error.Message));
        }
        return info;
    }

    private IEnumerable<ConsumerInfo> XdpConsumers() => _catalog.All.Where(c => c.Kind == ConsumerKind.Xdp);
}
