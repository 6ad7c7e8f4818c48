using System.CommandLine;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Scenarios;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim sweep SWEEP.yaml</c>: a base scenario plus a grid, every point with every seed, run in this process on
/// every core (docs/sweeps.md); <c>--emit slurm DIR</c> and <c>--only CHUNK</c> cut the same runs into a cluster's job
/// array, and <c>bpfsim sweep collect DIR</c> merges them into the tables a local sweep writes.
/// </summary>
public static partial class SweepCommand
{
    /// <summary>Chunks <c>--emit slurm</c> cuts the runs into when <c>--chunks</c> is not given (fewer when there are fewer runs).</summary>
    public const int DefaultChunks = 100;

    private sealed record Choices(string Path, string? OutDir, int Jobs, bool Resume, int? Only, string[]? Emit, int? Chunks, string? Bpfsim,
        bool Quiet, RunSettings Settings, IReadOnlyList<string> PassOn, IReadOnlyList<string>? LargePagesArgs);

    /// <param name="args">The whole command line, for the child a <c>--large-pages</c> sweep starts.</param>
    public static Command Create(TextWriter stdout, TextWriter stderr, IReadOnlyList<string> args)
    {
        var file = new Argument<string>("sweep") { Description = "Sweep file (YAML: base, grid, seeds; docs/sweeps.md)" };
        var outDir = new Option<string?>("--out")
        {
            HelpName = "DIR",
            Description = "Output folder: runs/POINT-SEED/ per run, sweep.csv/.parquet, points.csv/.parquet, timing.csv, manifest.json (default: sweep-NAME in the current folder)",
        };
        var jobs = new Option<int?>("--jobs", "-j") { HelpName = "N", Description = "Simulations at once (default: the number of processors)" };
        var resume = new Option<bool>("--resume") { Description = "Skip runs whose folder has a done marker (an interrupted sweep goes on where it stopped)" };
        var only = new Option<int?>("--only") { HelpName = "CHUNK", Description = "Run only chunk CHUNK of the manifest in --out (a Slurm array task; see --emit)" };
        var emit = new Option<string[]>("--emit")
        {
            HelpName = "slurm DIR",
            Description = "--emit slurm DIR: write DIR/manifest.json and DIR/sweep.sbatch (a job array, one task per chunk) instead of running",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };
        var chunks = new Option<int?>("--chunks") { HelpName = "K", Description = $"Chunks the runs are dealt into for --emit (default: {DefaultChunks}, or the number of runs if fewer)" };
        var bpfsim = new Option<string?>("--bpfsim") { HelpName = "CMD", Description = "The command the job script runs bpfsim with (default: this bpfsim, e.g. dotnet /path/bpfsim.dll)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors (no progress)" };
        var callTimeout = new Option<string?>("--call-timeout") { HelpName = "TIME", Description = "Wall-clock budget for one call into a consumer, as for run (default 1s)" };
        var largePages = new Option<bool>("--large-pages")
        {
            Description = "Run with the heap on the huge pages reserved by vm.nr_hugepages, sized for --jobs runs at once (Linux; as for run); with --emit, each array task does",
        };
        var runTime = new RunTimeOptions();
        runTime.Pcap.Description = "Write what crossed this link (by name, e.g. bottleneck) as LINK.pcap in each run's folder; repeat for several links";
        runTime.Trace.HelpName = "NAME";
        runTime.Trace.Description = "Write each run's per-event MessagePack traces into this folder inside its run folder (e.g. --trace trace: runs/POINT-SEED/trace)";
        var command = new Command("sweep", "Run a base scenario over a grid of values and seeds on every core, or on a Slurm cluster, and tabulate the results")
        {
            file, outDir, jobs, resume, only, emit, chunks, bpfsim, quiet, callTimeout, largePages,
        };
        foreach (var option in runTime.All)
        {
            command.Options.Add(option);
        }
        command.Subcommands.Add(CreateCollect(stdout, stderr));
        command.SetAction(parse =>
        {
            if (!runTime.TryApply(parse, new RunSettings(), stderr, out var settings) || !TryBudget(parse.GetValue(callTimeout), stderr, out var budget))
            {
                return ExitCodes.BadInput;
            }
            var passOn = new List<string>();
            foreach (var (option, value) in new (Option, string?)[]
                     {
                         (runTime.Format, parse.GetValue(runTime.Format)), (runTime.Trace, parse.GetValue(runTime.Trace)),
                         (callTimeout, parse.GetValue(callTimeout)),
                     })
            {
                if (value is not null)
                {
                    passOn.Add($"{option.Name} {SlurmScript.Quote(value)}");
                }
            }
            passOn.AddRange(settings.PcapLinks.Select(l => $"--pcap {SlurmScript.Quote(l)}"));
            if (parse.GetValue(largePages))
            {
                passOn.Add("--large-pages");
            }
            if (!settings.Jit)
            {
                passOn.Add("--no-jit");
            }
            var choices = new Choices(parse.GetValue(file)!, parse.GetValue(outDir), parse.GetValue(jobs) ?? Environment.ProcessorCount,
                parse.GetValue(resume), parse.GetValue(only), parse.GetValue(emit) is { Length: > 0 } e ? e : null, parse.GetValue(chunks), parse.GetValue(bpfsim),
                parse.GetValue(quiet), settings with { CallBudget = budget }, passOn, parse.GetValue(largePages) ? args : null);
            return Run(choices, stdout, stderr);
        });
        return command;
    }

    private static int Run(Choices c, TextWriter stdout, TextWriter stderr)
    {
        if (Check(c) is { } refused)
        {
            stderr.WriteLine($"bpfsim: {refused}");
            return ExitCodes.BadInput;
        }
        var (factory, catalog) = Composition.Create([]);
        SweepPlan plan;
        try
        {
            plan = SweepPlan.Load(c.Path, factory, catalog);
        }
        catch (ScenarioException e)
        {
            foreach (var error in e.Errors)
            {
                stderr.WriteLine(error.ToString());
            }
            return ExitCodes.BadInput;
        }
        int chunks = Math.Min(c.Chunks ?? DefaultChunks, plan.Runs.Count);
        if (c.LargePagesArgs is { } largePagesArgs && c.Emit is null)
        {
            if (LargePageHeap.ActiveLimit is not { } limit)
            {
                // The heap holds as many runs as run at once: the largest points', one per worker.
                int atOnce = Math.Min(c.Jobs, plan.Runs.Count);
                double memory = plan.Runs.Select(r => r.Point.Scenario.Estimate().MemoryBytes).OrderDescending().Take(atOnce).Sum();
                return LargePageHeap.Relaunch(largePagesArgs, memory, stderr, $"this sweep ({Plural(atOnce, "run")} at once)");
            }
            if (!c.Quiet)
            {
                stderr.WriteLine($"bpfsim: --large-pages: the heap is on huge pages, {WorkEstimate.Bytes(limit)} at most");
            }
        }
        try
        {
            if (c.Emit is [_, var emitDir])
            {
                var emitted = SweepManifest.For(plan, chunks);
                var files = SlurmScript.Emit(emitted, emitDir, c.Bpfsim ?? RunningBpfsim(), c.PassOn);
                if (!c.Quiet)
                {
                    stdout.WriteLine($"bpfsim sweep {plan.File.Name}: {plan.Runs.Count} runs ({plan.Points.Count} points × {plan.File.Seeds.Count} seeds) " +
                                     $"in {emitted.Chunks.Count} chunks; wrote {string.Join(", ", files)}");
                    stdout.WriteLine($"submit with: sbatch {files[1]}; then: bpfsim sweep collect {emitDir}");
                }
                return ExitCodes.Success;
            }
            string outDir = c.OutDir ?? $"sweep-{plan.File.Name}";
            if (File.Exists(outDir))
            {
                stderr.WriteLine($"bpfsim: --out {outDir}: a file is there; a sweep's outputs go into a directory");
                return ExitCodes.BadInput;
            }
            return c.Only is { } chunk ? RunChunk(plan, chunk, chunks, outDir, c, factory, catalog, stdout, stderr)
                : RunAll(plan, chunks, outDir, c, factory, catalog, stdout, stderr);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"bpfsim: sweep: {e.Message}");
            return ExitCodes.SimulationFailed;
        }
    }

    /// <summary>What is wrong with the options themselves, before the sweep file is read.</summary>
    private static string? Check(Choices c)
    {
        if (c.Jobs <= 0)
        {
            return "--jobs: must be at least 1";
        }
        if (c.Chunks is <= 0)
        {
            return "--chunks: must be at least 1";
        }
        if (c.Only is < 0)
        {
            return "--only: a chunk number, from 0";
        }
        if (c.Emit is { } emit && (emit.Length != 2 || emit[0] != "slurm"))
        {
            return $"--emit: the form is --emit slurm DIR (slurm is the one engine), not --emit {string.Join(' ', emit)}";
        }
        if (c.Emit is not null && (c.Only is not null || c.Resume))
        {
            return "--emit writes a job script and runs nothing; it does not go with --only or --resume";
        }
        // Not absolute and no "..": every run's traces must stay in its own folder, or parallel runs write the same files.
        if (c.Settings.TraceDirectory is { } trace &&
            (Path.IsPathRooted(trace) || trace.Split('/', '\\').Contains("..")))
        {
            return $"--trace: in a sweep, a folder inside each run's folder (e.g. --trace trace), not {trace}";
        }
        return null;
    }

    private static bool TryBudget(string? text, TextWriter stderr, out TimeSpan budget)
    {
        budget = ContainedRun.DefaultCallBudget;
        if (text is null)
        {
            return true;
        }
        if (!SimTime.TryParse(text, out var t, out var error) || t.Nanoseconds <= 0)
        {
            stderr.WriteLine($"bpfsim: --call-timeout: {error ?? "must be greater than 0"}");
            return false;
        }
        budget = TimeSpan.FromTicks(Math.Max(t.Nanoseconds / 100, 1));
        return true;
    }

    /// <summary>How this bpfsim was started, as a command line for a job script.</summary>
    internal static string RunningBpfsim()
    {
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "bpfsim")
        {
            return SlurmScript.Quote(process);
        }
        string dotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
        return $"{SlurmScript.Quote(dotnet)} {SlurmScript.Quote(typeof(SweepCommand).Assembly.Location)}";
    }
}
