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
/// e.g. <c>xdp_src_counter</c>) and its program (<c>name:</c>, when it has several), the interface (<c>NODE:PORT</c>, a
/// router's), when it is attached and detached, as a link or a program, and the object's <c>globals:</c>.
/// </summary>
public sealed partial class ScenarioParser
{
    private const string XdpUsage = "xdp must be a list of { program: NAME|PATH.bpf.o, interface: NODE:PORT, at: TIME, detach_at: TIME, mode: link|prog }";

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
            if (iface is not null && !interfaces.Contains(iface))
            {
                Error(keys["interface"], $"unknown interface '{iface}': this topology's are {string.Join(", ", interfaces)} " +
                    $"(hosts' ports, {TopologyInterfaces.HostPattern(spec.Network)}, appear only as their flows open)");
                iface = null;
            }
            string? programName = keys.TryGetValue("name", out var nameNode) ? Scalar(nameNode, "name") : null;
            var globals = keys.TryGetValue("globals", out var globalsNode) ? ParseGlobals(globalsNode, []) : [];
            string? path = Scalar(keys["program"], "program") is { } program ? XdpObject(keys["program"], program, programName, nameNode, globals) : null;
            if (iface is not null)
            {
                CheckXdpOverlap(windows, iface, at, detachAt, replace, map);
                windows.Add((iface, at, detachAt, map));
            }
            if (path is not null && iface is not null)
            {
                list.Add(new XdpEntry
                {
                    Program = path, ProgramName = programName, Interface = iface, At = at, DetachAt = detachAt, Mode = mode, Replace = replace,
                    Globals = globals, Location = $"{_file}:{map.Start.Line}:{map.Start.Column}",
                });
            }
        }
        return list;
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
            : Path.Combine(AppContext.BaseDirectory, "bpf", program + ".bpf.o");
        if (!File.Exists(path))
        {
            Error(programNode, program.EndsWith(".o", StringComparison.Ordinal)
                ? $"no such file: {path}"
                : $"unknown XDP object '{program}' (bpfsim's own: {string.Join(", ", BuiltinXdpObjects())}; or give a path to a .bpf.o)");
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
                    ? $"{program} has no XDP program (SEC(\"xdp\")): its programs are {string.Join(", ", spec.Programs.Select(p => $"{p.Name} ({p.SectionName})"))}"
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

    private static IEnumerable<string> BuiltinXdpObjects()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "bpf");
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, "xdp_*.bpf.o").Select(f => Path.GetFileName(f)[..^".bpf.o".Length]).Order(StringComparer.Ordinal)
            : [];
    }
}
