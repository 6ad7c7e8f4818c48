using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using BpfSim.Core.Bpf;
using BpfSim.Core.Cpus;
using BpfSim.Core.Workloads;
using Spectre.Console;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim experiment inner-map-swap</c>: every map-in-map wait strategy × K = 1, 10, 100 swaps under programs
/// running on 4 CPUs (docs/map-in-map.md); <c>bpfsim experiment xdp-chain</c> (docs/multi-prog.md).
/// </summary>
public static partial class ExperimentCommand
{
    private static readonly int[] s_swapCounts = [1, 10, 100];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var seed = new Option<ulong>("--seed") { Description = "Scenario seed; the same seed gives identical results", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON instead of a table" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors" };
        var swap = new Command("inner-map-swap", "What waiting after map-in-map updates costs: the kernel's synchronize_rcu, one batched synchronize, per-map program references")
        {
            seed, json, quiet,
        };
        var command = new Command("experiment", "Core experiments: inner-map-swap, xdp-chain") { swap, XdpChain(stdout, stderr) };
        swap.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(seed), parse.GetValue(json), parse.GetValue(quiet), stdout);
            }
            catch (Exception e) when (e is BpfException or RcuStallException or InvalidOperationException or ArgumentException)
            {
                stderr.WriteLine($"bpfsim: simulation failed: {e.Message}");
                return ExitCodes.SimulationFailed;
            }
        });
        return command;
    }

    private static int Run(ulong seed, bool json, bool quiet, TextWriter stdout)
    {
        var wall = Stopwatch.StartNew();
        var results = new List<InnerMapSwapResult>();
        foreach (var wait in Enum.GetValues<InnerMapReplaceWait>())
        {
            foreach (int k in s_swapCounts)
            {
                results.Add(InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Seed = seed, Swaps = k, Wait = wait }));
            }
        }
        wall.Stop();
        var summary = new ExperimentSummary(seed, "core", "inner_map_swap", wall.Elapsed.TotalSeconds, results.Sum(r => r.Events), results);
        if (quiet)
        {
            return ExitCodes.Success;
        }
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(summary, ExperimentSummary.JsonOptions));
            return ExitCodes.Success;
        }
        var console = Terminal.Create(stdout);
        console.MarkupLine($"[bold]bpfsim experiment inner-map-swap[/], seed {seed}");
        console.WriteLine("4 CPUs run a program every ~50us that holds the inner map of an ARRAY_OF_MAPS for 20us,");
        console.WriteLine("while user space swaps in K fresh inner maps. HZ=250 (4 ms ticks).");
        var table = new Table().AddColumns("wait", "swaps", "GPs", "time ms", "blocked ms", "unsafe", "expired", "prog runs", "freed", "leaked");
        foreach (var r in results)
        {
            table.AddRow(WaitName(r.Wait), $"{r.Swaps}", $"{r.GracePeriods}", $"{r.SwapTimeMs:0.###}", $"{r.BlockedMs:0.###}",
                $"{r.UnsafeReturns}", $"{r.BoundExpirations}", $"{r.ProgramRuns}", $"{r.MapsFreed}", $"{r.MapsLeaked}");
        }
        console.Write(table);
        console.WriteLine($"{summary.Events} events in {summary.WallSeconds:0.###} s wall time.");
        console.WriteLine("wait: per-update = synchronize_rcu after every update (the kernel); batch = one BPF_SYNCHRONIZE after all swaps;");
        console.WriteLine("      prog-refs = wait only for programs holding the outer map, bounded. GPs = grace periods waited;");
        console.WriteLine("      unsafe = old inner maps a program still held when user space was told they were unused.");
        return ExitCodes.Success;
    }

    internal static string WaitName(InnerMapReplaceWait wait) => wait switch
    {
        InnerMapReplaceWait.SynchronizeRcu => "per-update",
        InnerMapReplaceWait.BatchSynchronize => "batch",
        _ => "prog-refs",
    };
}

/// <summary>The summary JSON of the experiment.</summary>
public sealed record ExperimentSummary(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("subsystem")] string Subsystem,
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("events")] long Events,
    [property: JsonPropertyName("inner_map_swaps")] IReadOnlyList<InnerMapSwapResult> InnerMapSwaps)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
