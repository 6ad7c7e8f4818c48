using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim structops register CONSUMER|ASSEMBLY.dll</c>: loads a consumer into a fresh simulated kernel the way
/// <c>bpftool struct_ops register</c> loads an object file, registers it, and prints what bpftool prints — so a
/// consumer author sees the same errors the kernel would give before running any scenario.
/// </summary>
public static class StructOpsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("consumer") { Description = "A consumer name (see 'bpfsim list') or a consumer assembly (.dll)" };
        var json = new Option<bool>("--json") { Description = "Print the struct_ops dump (bpftool -j struct_ops dump) instead of text" };
        var register = new Command("register", "Load and register a struct_ops consumer, then show its map as bpftool would")
        {
            target, json,
        };
        register.SetAction(parse => Register(parse.GetValue(target)!, parse.GetValue(json), stdout, stderr));
        return new Command("structops", "Work with struct_ops consumers") { register };
    }

    private static int Register(string target, bool json, TextWriter stdout, TextWriter stderr)
    {
        bool isFile = ConsumerFiles.IsPath(target) || File.Exists(target);
        List<ConsumerInfo> consumers;
        BpfSystem bpf;
        try
        {
            var (factory, catalog) = Composition.Create([]);
            bpf = Composition.CreateSystem(factory, catalog);
            // LoadInto throws when the file holds no consumer, so only a name can come up empty.
            consumers = isFile
                ? ConsumerFiles.LoadInto(catalog, target).Where(c => c.Kind != ConsumerKind.Xdp).ToList() // a .dll's XDP programs are not registered
                : catalog.Find(target) is { } one ? [one] : [];
            if (consumers.Count == 0)
            {
                stderr.WriteLine(isFile
                    ? $"bpfsim: {target} holds only XDP programs: attach them with a scenario's xdp: entry (docs/xdp.md)"
                    : $"bpfsim: no consumer called '{target}'; known: {string.Join(", ", catalog.All.Select(c => c.Name))}");
                return ExitCodes.BadInput;
            }
        }
        catch (ConsumerLoadException e)
        {
            stderr.WriteLine($"bpfsim: {e.Message}");
            return ExitCodes.BadInput;
        }

        var dumps = new JsonArray();
        int failures = 0;
        foreach (var info in consumers)
        {
            BpfResult r;
            LoadedStructOps? loaded;
            try
            {
                r = ConsumerLoading.Load(bpf, info, out loaded);
            }
            catch (ConsumerLoadException e)
            {
                stderr.WriteLine($"bpfsim: {e.Message}");
                return ExitCodes.BadInput;
            }
            if (r.IsOk)
            {
                r = loaded!.Register();
            }
            if (!r.IsOk)
            {
                // As bpftool: report it and go on with the object's other struct_ops maps.
                stderr.WriteLine($"bpfsim: can't register struct_ops {info.Name}: {r.Reason}");
                loaded?.Dispose();
                failures++;
                continue;
            }
            if (!json)
            {
                stdout.WriteLine(loaded!.LinkFd >= 0
                    ? $"Registered {info.StructOpsType} {info.Name} map id {loaded.Map.Id} link id {LinkId(bpf, loaded)}"
                    : $"Registered {info.StructOpsType} {info.Name} id {loaded.Map.Id}");
            }
            foreach (var node in BpftoolJson.StructOpsDump(loaded!.Map))
            {
                dumps.Add(node!.DeepClone());
            }
        }
        if (dumps.Count == 0 && failures > 0)
        {
            return ExitCodes.BadInput; // nothing registered: nothing to dump, and the errors are on stderr
        }
        stdout.WriteLine(dumps.ToJsonString(new JsonSerializerOptions { WriteIndented = !json }));
        if (!json)
        {
            foreach (var map in bpf.StructOpsHistory)
            {
                stdout.WriteLine($"timeline of map id {map.Id} ({map.Name}):");
                foreach (var e in map.Timeline)
                {
                    stdout.WriteLine($"  t={e.Time,-8} {e.StateName,-9} refcnt {e.RefCount,-3} {e.Event}");
                }
            }
        }
        return failures == 0 ? ExitCodes.Success : ExitCodes.BadInput;
    }

    private static uint LinkId(BpfSystem bpf, LoadedStructOps loaded) =>
        bpf.Objects.All(BpfObjectKind.Link).OfType<Core.Bpf.StructOps.StructOpsLink>().First(l => l.Map == loaded.Map).Id;
}
