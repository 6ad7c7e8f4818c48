using System.CommandLine;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim prog show|dump xlated TARGET</c>: loads a BPF object (a path, or a shipped object's consumer name) into a
/// fresh simulated kernel as <c>bpfsim structops register</c> does, so the ids are the ones it prints, and shows its
/// programs as bpftool does: <c>prog show</c> one line each, <c>prog dump xlated</c> the instructions after
/// relocation (CO-RE offsets, map and data addresses, kfunc calls) in bpftool's text.
/// </summary>
public static class ProgCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var show = new Command("show", "List the programs of a BPF object after loading it (bpftool prog show)");
        var showTarget = Target();
        show.Arguments.Add(showTarget);
        show.SetAction(parse => Run(parse.GetValue(showTarget)!, null, null, dump: false, stdout, stderr));

        var xlated = new Command("xlated", "The instructions of a loaded program after relocation (bpftool prog dump xlated)");
        var target = Target();
        var id = new Option<uint?>("--id") { Description = "Only the program with this id" };
        var name = new Option<string?>("--name") { Description = "Only the program with this name" };
        xlated.Arguments.Add(target);
        xlated.Options.Add(id);
        xlated.Options.Add(name);
        xlated.SetAction(parse => Run(parse.GetValue(target)!, parse.GetValue(id), parse.GetValue(name), dump: true, stdout, stderr));
        var dump = new Command("dump", "Dump a program") { xlated };
        return new Command("prog", "Inspect the programs of a BPF object") { show, dump };
    }

    /// <summary>Loads the struct_ops variables of an object (a path, or a shipped object's consumer name) and their programs.</summary>
    private static int LoadStructOps(BpfSystem bpf, ConsumerCatalog catalog, string target, TextWriter stderr)
    {
        List<ConsumerInfo> consumers;
        try
        {
            consumers = ConsumerFiles.IsPath(target) || File.Exists(target)
                ? ConsumerFiles.LoadInto(catalog, target).ToList()
                : catalog.Find(target) is { } one ? catalog.All.Where(c => c.Source == one.Source).ToList() : [];
        }
        catch (ConsumerLoadException e)
        {
            stderr.WriteLine($"bpfsim: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (consumers.Count == 0 || consumers.Any(c => c.Object is null))
        {
            stderr.WriteLine($"bpfsim: '{target}' is not a BPF object, a shipped object's consumer or one of bpfsim's XDP objects " +
                             "(C# consumers have no instructions)");
            return ExitCodes.BadInput;
        }
        foreach (var info in consumers)
        {
            var r = ConsumerLoading.Load(bpf, info, out _);
            if (!r.IsOk)
            {
                stderr.WriteLine($"bpfsim: can't load {info.Name}: {r.Reason}");
                return ExitCodes.BadInput;
            }
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// The path of an object with XDP programs and no struct_ops variable: <paramref name="target"/> itself, or one of
    /// bpfsim's own XDP objects by name (the names a scenario's <c>xdp:</c> entries take). Null otherwise, also for an
    /// object that cannot be read: the struct_ops path reports that.
    /// </summary>
    private static string? XdpObject(string target, ConsumerCatalog catalog)
    {
        bool isPath = ConsumerFiles.IsPath(target) || File.Exists(target);
        string path = isPath ? target : Path.Combine(AppContext.BaseDirectory, "bpf", target + ".bpf.o");
        if ((!isPath && catalog.Find(target) is not null) || !File.Exists(path))
        {
            return null;
        }
        try
        {
            var spec = ObjectReader.Read(path);
            return spec.StructOps.Count == 0 && spec.Programs.Any(p => p.SectionKind == ProgramSectionKind.Xdp) ? path : null;
        }
        catch (Exception e) when (e is ObjectFormatException or BtfException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Loads every XDP program of the object at <paramref name="path"/> (BPF_PROG_LOAD, as a scenario's xdp: entry does before attaching).</summary>
    private static int LoadXdp(BpfSystem bpf, string path, TextWriter stderr)
    {
        var spec = ObjectReader.Read(path);
        var r = ObjectLoader.Load(bpf, spec, path, out var obj, autocreate: []);
        foreach (var program in spec.Programs.Where(p => p.SectionKind == ProgramSectionKind.Xdp))
        {
            if (!r.IsOk)
            {
                break;
            }
            r = ObjectLoader.LoadXdpProgram(bpf, obj!, program.Name, out var code);
            if (r.IsOk)
            {
                r = bpf.ProgLoad(ObjectLoader.XdpProgramSpec(code!), out _);
            }
        }
        if (!r.IsOk)
        {
            stderr.WriteLine($"bpfsim: can't load {Path.GetFileName(path)}: {r}");
            return ExitCodes.BadInput;
        }
        return ExitCodes.Success;
    }

    private static Argument<string> Target() => new("object") { Description = "A BPF object (.bpf.o: struct_ops or XDP), a shipped object's consumer name or one of bpfsim's XDP objects (see 'bpfsim list')" };

    private static int Run(string target, uint? id, string? name, bool dump, TextWriter stdout, TextWriter stderr)
    {
        var (factory, catalog) = Composition.Create([]);
        // Every subsystem's struct_ops types, sched_ext_ops among them, as `structops register` has them.
        var bpf = Composition.CreateSystem(factory, catalog);
        int loaded = XdpObject(target, catalog) is { } xdp ? LoadXdp(bpf, xdp, stderr) : LoadStructOps(bpf, catalog, target, stderr);
        if (loaded != ExitCodes.Success)
        {
            return loaded;
        }
        var programs = bpf.Objects.All(BpfObjectKind.Program).OfType<BpfProgram>()
            .Where(p => p.Bytecode is not null && (id is null || p.Id == id) && (name is null || p.Name == name || p.Bytecode.Name == name))
            .ToList();
        if (programs.Count == 0)
        {
            stderr.WriteLine($"bpfsim: no program{(id is null ? "" : $" with id {id}")}{(name is null ? "" : $" named {name}")} in {target}");
            return ExitCodes.BadInput;
        }
        foreach (var p in programs)
        {
            var code = p.Bytecode!;
            string attach = p.StructOpsType is null ? "" : $"  {p.StructOpsType.Name}.{p.Member?.Name}";
            stdout.WriteLine($"{p.Id}: {BpfProgram.TypeName(p.Type)}  name {p.Name}{attach}  xlated {code.Instructions.Length * Instruction.Size}B" +
                             $"  kfuncs {code.Kfuncs.Count}  helpers {code.Helpers.Count}");
            if (!dump)
            {
                continue;
            }
            var names = new DisassemblyNames
            {
                Kfunc = k => code.Kfuncs.NameOf(k),
                Immediate64 = (first, second) =>
                {
                    ulong value = (uint)first.Imm | ((ulong)(uint)second.Imm << 32);
                    return code.Object.Describe(value) switch
                    {
                        ({ } map, null) => $"map[id:{map.Id}]",
                        ({ } map, { } offset) => $"map[id:{map.Id}][0]+{offset}",
                        _ => null,
                    };
                },
            };
            stdout.Write(Disassembler.Dump(code.Instructions, names));
            stdout.WriteLine();
        }
        return ExitCodes.Success;
    }
}
