using System.CommandLine;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Ebpf.Asm;

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

    private static Argument<string> Target() => new("object") { Description = "A BPF object (.bpf.o) or a shipped object's consumer name (see 'bpfsim list')" };

    private static int Run(string target, uint? id, string? name, bool dump, TextWriter stdout, TextWriter stderr)
    {
        var (factory, catalog) = Composition.Create([]);
        var bpf = factory.Create();
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
            stderr.WriteLine($"bpfsim: '{target}' is not a BPF object or a shipped object's consumer (C# consumers have no instructions)");
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
