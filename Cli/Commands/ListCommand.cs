using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim list</c>: struct_ops types and their members, built-in algorithms, consumers, bpfsim's XDP objects, map types.</summary>
public static class ListCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var programs = new Option<string[]>("--program")
        {
            Description = "Also load consumers from this assembly (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("list", "List struct_ops types, built-in algorithms, available consumers, XDP objects, map types and wait strategies")
        {
            json, programs,
        };
        command.SetAction(parse =>
        {
            try
            {
                var (factory, catalog) = Composition.Create(parse.GetValue(programs) ?? []);
                var bpf = Composition.CreateSystem(factory, catalog);
                var report = Build(bpf, catalog);
                if (parse.GetValue(json))
                {
                    stdout.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    WriteText(stdout, bpf, catalog);
                }
                return ExitCodes.Success;
            }
            catch (ConsumerLoadException e)
            {
                stderr.WriteLine($"bpfsim: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    private static JsonObject Build(BpfSystem bpf, ConsumerCatalog catalog) => new()
    {
        ["struct_ops_types"] = new JsonArray(bpf.StructOpsTypes.Select(t => (JsonNode)new JsonObject
        {
            ["name"] = t.Name,
            ["value_size"] = t.ValueSize,
            ["members"] = new JsonArray(t.Members.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name,
                ["offset"] = StructOpsType.DataOffset + m.Offset,
                ["kind"] = m.Kind.ToString().ToLowerInvariant(),
                ["prototype"] = m.IsFunction ? m.CPrototype : null,
                ["mandatory"] = m.Mandatory,
                ["bpf_supported"] = m.Supported,
            }).ToArray()),
        }).ToArray()),
        ["algorithms"] = new JsonArray(ScenarioLoader.Algorithms(bpf).Select(a => (JsonNode)new JsonObject
        {
            ["name"] = a.Name,
            ["flags"] = (uint)a.Flags,
        }).ToArray()),
        ["consumers"] = new JsonArray(catalog.All.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["type"] = c.StructOpsType,
            ["kind"] = c.Kind == ConsumerKind.Xdp ? "xdp" : "struct_ops",
            ["link"] = c.Link,
            ["source"] = c.Source,
            ["description"] = c.Description,
        }).ToArray()),
        ["xdp_objects"] = new JsonArray(XdpObjects().Select(o => (JsonNode)new JsonObject
        {
            ["name"] = o.Name,
            ["programs"] = new JsonArray(o.Programs.Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["section"] = p.Section }).ToArray()),
            ["maps"] = new JsonArray(o.Maps.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["type"] = m.Type.KernelName() }).ToArray()),
            ["path"] = o.Path,
        }).ToArray()),
        ["map_types"] = new JsonArray(MapTypes.Select(t => (JsonNode)t.KernelName()).ToArray()),
        ["inner_map_wait"] = new JsonArray(Enum.GetValues<InnerMapReplaceWait>().Select(w => (JsonNode)w.ToString()).ToArray()),
    };

    private static readonly MapType[] MapTypes =
        [MapType.Hash, MapType.Array, MapType.PercpuHash, MapType.PercpuArray, MapType.ArrayOfMaps, MapType.HashOfMaps, MapType.DevMap, MapType.Queue,
         MapType.Stack, MapType.StructOps];

    /// <summary>One of bpfsim's XDP objects: its XDP programs (name, section) and maps; none if it cannot be read.</summary>
    private sealed record XdpObject(string Name, string Path, IReadOnlyList<(string Name, string Section)> Programs, IReadOnlyList<(string Name, MapType Type)> Maps);

    private static IEnumerable<XdpObject> XdpObjects() => BuiltinXdpObjects.Names().Select(name =>
    {
        string path = BuiltinXdpObjects.PathOf(name);
        try
        {
            var spec = ObjectReader.Read(path);
            return new XdpObject(name, path,
                spec.Programs.Where(p => p.SectionKind == ProgramSectionKind.Xdp).Select(p => (p.Name, p.SectionName)).ToList(),
                spec.Maps.Select(m => (m.Name, m.Type)).ToList());
        }
        catch (Exception e) when (e is ObjectFormatException or BtfException or IOException)
        {
            return new XdpObject(name, path, [], []); // a damaged install: listed, with nothing in it
        }
    });

    private static void WriteText(TextWriter o, BpfSystem bpf, ConsumerCatalog catalog)
    {
        foreach (var t in bpf.StructOpsTypes)
        {
            o.WriteLine($"struct_ops type {t.Name} (value_size {t.ValueSize}):");
            foreach (var m in t.Members)
            {
                string what = m.IsFunction ? m.CPrototype : m.Kind.ToString().ToLowerInvariant();
                string notes = (m.Mandatory ? " mandatory" : "") + (m.Supported ? "" : " not-for-bpf");
                o.WriteLine($"  @{StructOpsType.DataOffset + m.Offset,-4} {m.Name,-14} {what}{notes}");
            }
        }
        o.WriteLine("built-in algorithms:");
        foreach (var a in ScenarioLoader.Algorithms(bpf))
        {
            o.WriteLine($"  {a.Name,-16} flags 0x{(uint)a.Flags:x}");
        }
        o.WriteLine("consumers:");
        foreach (var c in catalog.All)
        {
            o.WriteLine($"  {c.Name,-16} {c.StructOpsType,-20} {(c.Kind == ConsumerKind.Xdp ? "prog" : c.Link ? "link" : "map "),-5} {c.Description} [{c.Source}]");
        }
        o.WriteLine("XDP objects (an xdp: entry's program: NAME):");
        foreach (var x in XdpObjects())
        {
            o.WriteLine($"  {x.Name,-16} programs {string.Join(", ", x.Programs.Select(p => $"{p.Name} ({p.Section})"))}; " +
                $"maps {(x.Maps.Count == 0 ? "none" : string.Join(", ", x.Maps.Select(m => $"{m.Name} ({m.Type.ShortName()})")))} [{x.Path}]");
        }
        o.WriteLine("map types:");
        foreach (var t in MapTypes)
        {
            o.WriteLine($"  {t.ShortName(),-14} {t.KernelName()} ({(uint)t})");
        }
        o.WriteLine("map-in-map wait strategies:");
        foreach (var w in Enum.GetValues<InnerMapReplaceWait>())
        {
            o.WriteLine($"  {ExperimentCommand.WaitName(w),-12} {w}");
        }
    }
}
