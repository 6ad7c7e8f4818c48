using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using BpfSim.Core.Bpf;
using BpfSim.Core.Workloads.XdpChain;
using BpfSim.Studies.Output.XdpChain;
using BpfSim.Studies.Scenarios;
using Spectre.Console;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim experiment xdp-chain [FILE]</c>: components starting, replacing and stopping programs on one interface
/// under the chain-call map, libxdp and mprog, every packet's path checked (docs/multi-prog.md).
/// </summary>
public static partial class ExperimentCommand
{
    private static Command XdpChain(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string?>("FILE")
        {
            Description = "The scenario (YAML); default: the seed's A/B scenario, scenarios/experiments/xdp_chain_ab.yaml",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seed = new Option<ulong?>("--seed") { Description = "Override the scenario's seed" };
        var json = new Option<bool>("--json") { Description = "Print {\"designs\": [...]} as JSON instead of a table" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors" };
        var out_ = new Option<string?>("--out") { Description = "Write xdp-chain.html (table and plots) and xdp-chain.json into DIR" };
        var design = new Option<string>("--design")
        {
            Description = "all, chain_call_map, libxdp or mprog",
            DefaultValueFactory = _ => "all",
        };
        var command = new Command("xdp-chain",
            "Several programs on one hook: the chain-call map, libxdp's dispatcher and mprog under components that come and go")
        {
            file, seed, json, quiet, out_, design,
        };
        command.SetAction(parse =>
        {
            try
            {
                return RunXdpChain(parse.GetValue(file), parse.GetValue(seed), parse.GetValue(design)!, parse.GetValue(json),
                    parse.GetValue(quiet), parse.GetValue(out_), stdout, stderr);
            }
            catch (ScenarioException e)
            {
                foreach (var error in e.Errors)
                {
                    stderr.WriteLine(error.ToString());
                }
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is BpfException or InvalidOperationException or ArgumentException)
            {
                stderr.WriteLine($"bpfsim: simulation failed: {e.Message}");
                return ExitCodes.SimulationFailed;
            }
        });
        return command;
    }

    private static int RunXdpChain(string? path, ulong? seed, string designName, bool json, bool quiet, string? outDir,
        TextWriter stdout, TextWriter stderr)
    {
        IReadOnlyList<XdpChainDesign> designs;
        if (designName == "all")
        {
            designs = XdpChainExperiment.AllDesigns;
        }
        else if (XdpChainDesignNames.TryParse(designName, out var one))
        {
            designs = [one];
        }
        else
        {
            stderr.WriteLine($"bpfsim: --design must be all, chain_call_map, libxdp or mprog, not '{designName}'");
            return ExitCodes.BadInput;
        }
        string name;
        string text;
        if (path is null)
        {
            name = XdpChainScenarioParser.DefaultName;
            text = XdpChainScenarioParser.DefaultText();
        }
        else
        {
            if (!File.Exists(path))
            {
                stderr.WriteLine($"bpfsim: {path}: {(Directory.Exists(path) ? "is a directory, not a scenario file" : "no such file")}");
                return ExitCodes.BadInput;
            }
            name = path;
            text = File.ReadAllText(path);
        }
        var scenario = new XdpChainScenarioParser(name).Parse(text);
        if (seed is { } s)
        {
            scenario = scenario with { Seed = s };
        }
        var wall = Stopwatch.StartNew();
        var results = XdpChainExperiment.Run(scenario, designs);
        wall.Stop();
        var summary = new XdpChainSummary(scenario.Seed, Path.GetFileName(name), wall.Elapsed.TotalSeconds, results);
        string summaryJson = JsonSerializer.Serialize(summary, XdpChainSummary.JsonOptions);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "xdp-chain.json"), summaryJson);
            File.WriteAllText(Path.Combine(outDir, "xdp-chain.html"), XdpChainReport.Render(Path.GetFileName(name), scenario, results));
        }
        if (quiet)
        {
            return ExitCodes.Success;
        }
        if (json)
        {
            stdout.WriteLine(summaryJson);
            return ExitCodes.Success;
        }
        PrintXdpChain(scenario, name, results, wall.Elapsed.TotalSeconds, outDir, stdout);
        return ExitCodes.Success;
    }

    private static void PrintXdpChain(XdpChainScenario scenario, string name, IReadOnlyList<XdpChainResult> results, double wallSeconds,
        string? outDir, TextWriter stdout)
    {
        var console = Terminal.Create(stdout);
        console.MarkupLine($"[bold]bpfsim experiment xdp-chain[/] {Markup.Escape(Path.GetFileName(name))}, seed {scenario.Seed}");
        console.WriteLine($"{scenario.Components.Count} components ({string.Join(", ", scenario.Components.Select(c => $"{c.Name} priority {c.Priority}, {c.Timeline.Count} actions"))}),");
        console.WriteLine($"{scenario.PacketRate:N0} packets/s for {scenario.Duration}; every packet's path checked against the intended order.");
        var table = new Table().AddColumns("design", "packets", "violations", "skip/dup/ord/stale", "ns/pkt", "updates", "upd ms",
            "p99 ms", "retries", "wall ns");
        foreach (var r in results)
        {
            table.AddRow(r.Design, $"{r.Packets}", $"{r.Violations}", $"{r.Skipped}/{r.Duplicate}/{r.OutOfOrder}/{r.Stale}",
                $"{r.NsPerPacket:0.0}", r.FailedUpdates == 0 ? $"{r.Updates}" : $"{r.Updates} ({r.FailedUpdates} failed)",
                $"{r.UpdateMsMean:0.000}", $"{r.UpdateMsP99:0.000}", $"{r.Retries}", $"{r.WallNsPerPacket:0}");
        }
        console.Write(table);
        foreach (var r in results.Where(r => r.Listed.Count > 0))
        {
            console.WriteLine($"{r.Design}, first violations:");
            foreach (var v in r.Listed.Take(5))
            {
                console.WriteLine($"  {v.TimeMs,9:0.000} ms  packet {v.Packet}: {v.Kind.ToString().ToLowerInvariant()} {v.Component}; it went through: {v.Seen}");
            }
        }
        console.WriteLine("violations: skip (an attached component not run), dup (run twice, or both versions), order (run after a");
        console.WriteLine("component that must come later), stale (a stopped or replaced program). ns/pkt: simulated CPU time per");
        console.WriteLine("packet (cost model). upd ms: mean time of a start/replace/stop call, retries included. wall ns: this");
        console.WriteLine($"machine's time per packet in the hook, measured, not simulated. {wallSeconds:0.###} s wall time. docs/multi-prog.md.");
        if (outDir is not null)
        {
            console.WriteLine($"wrote {Path.Combine(outDir, "xdp-chain.html")} and {Path.Combine(outDir, "xdp-chain.json")}");
        }
    }
}
