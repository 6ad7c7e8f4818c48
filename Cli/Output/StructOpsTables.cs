using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Loading;
using Spectre.Console;

namespace BpfSim.Cli.Output;

/// <summary>The terminal tables every run form ends with: struct_ops lifecycles, BPF programs and consumer faults.</summary>
public static class StructOpsTables
{
    /// <summary>Writes the struct_ops maps' lifecycles, the BPF programs' run counts and the consumer faults (each only if any).</summary>
    public static void Write(IAnsiConsole console, IReadOnlyList<StructOpsSummary> structOps, IReadOnlyList<ProgramStats> programs,
        IReadOnlyList<ConsumerFault> faults)
    {
        if (structOps.Count > 0)
        {
            var so = new Table().Title("struct_ops").AddColumns("map id", "name", "type", "transitions", "refcnt max", "refcnt final", "freed");
            foreach (var m in structOps)
            {
                so.AddRow($"{m.MapId}", Markup.Escape(m.Name), m.Type, Markup.Escape(string.Join(" → ", m.Transitions.Select(t => $"{t.State}@{t.Seconds:0.###}s"))),
                    $"{m.RefCountMax}", $"{m.RefCountFinal}", m.Freed ? "yes" : "no");
            }
            console.Write(so);
        }
        if (programs.Count > 0)
        {
            // How they ran: compiled by default; interpreted with --no-jit, or past the JIT's size limit.
            string how = programs.All(p => p.Jited) ? "JIT-compiled"
                : programs.Any(p => p.Jited) ? $"JIT-compiled; over {CompiledProgram.MaxInstructions:N0} instructions interpreted" : "interpreted";
            var table = new Table().Title($"BPF programs (bytecode, {how})").AddColumns("object", "program", "member", "runs", "insns executed", "insns/run");
            foreach (var p in programs)
            {
                table.AddRow(Markup.Escape(p.Object), Markup.Escape(p.Name), p.Member, $"{p.RunCount:N0}", $"{p.InstructionsExecuted:N0}", $"{p.InstructionsPerRun:0.#}");
            }
            console.Write(table);
        }
        if (faults.Count > 0)
        {
            var faultTable = new Table().Title("[red]consumer faults (ejected; the run went on without them)[/]")
                .AddColumns("t s", "consumer", "map id", "member", "kind", "what happened");
            foreach (var f in faults)
            {
                faultTable.AddRow($"{f.Seconds:0.######}", Markup.Escape(f.Consumer), f.MapId == 0 ? "-" : $"{f.MapId}", f.Member, $"{f.Kind}", Markup.Escape(f.Message));
            }
            console.Write(faultTable);
        }
    }
}
