using BpfSim.Core.Workloads;
using System.CommandLine;
using BpfSim.Cli.Output;
using BpfSim.Studies.Output;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Studies.Mahimahi;
using BpfSim.Studies.Runs;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;
using Spectre.Console;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim run [SCENARIO.yaml]</c>: checks and runs a scenario (the embedded default when none is given) of either
/// subsystem, prints a summary (or the summary JSON with --json) and, with --out, writes the run's files: for TCP
/// summary.json, flows.csv, timeseries.csv, struct_ops.json and report.html; for <c>subsystem: sched</c> see
/// <see cref="SchedOutputWriter"/>.
/// </summary>
public static class RunCommand
{
    /// <param name="args">The whole command line, for the child a <c>--large-pages</c> run starts.</param>
    public static Command Create(TextWriter stdout, TextWriter stderr, IReadOnlyList<string> args)
    {
        var file = new Argument<string?>("scenario") { Description = "Scenario file (YAML, docs/scenarios.md); none = the embedded default", Arity = ArgumentArity.ZeroOrOne };
        var seed = new Option<ulong?>("--seed") { HelpName = "SEED", Description = "Override the scenario's seed" };
        var duration = new Option<string?>("--duration") { HelpName = "TIME", Description = "Override the scenario's duration (e.g. 30s)" };
        var outDir = new Option<string?>("--out")
        {
            HelpName = "DIR",
            Description = "Write summary.json, struct_ops.json, report.html and the CSVs here (TCP: flows.csv, timeseries.csv; sched: tasks.csv, cpus.csv, timeline.csv)",
        };
        var json = new Option<bool>("--json") { Description = "Print the summary JSON instead of tables" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors" };
        var callTimeout = new Option<string?>("--call-timeout")
        {
            HelpName = "TIME",
            Description = "Wall-clock budget for one call into a consumer; a call that takes longer ejects the consumer (default 1s)",
        };
        var dumpMap = new Option<string[]>("--dump-map")
        {
            HelpName = "NAME",
            Description = "After the run, print an XDP object's map as bpftool map dump does (with --json, bpftool -j's form instead of the summary); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var listInterfaces = new Option<bool>("--list-interfaces") { Description = "Print the scenario topology's interfaces (what xdp: entries name) and exit" };
        var largePages = new Option<bool>("--large-pages")
        {
            Description = "Run with the heap on the huge pages reserved by vm.nr_hugepages (Linux): faster from a few thousand flows or tasks on; results are the same",
        };
        var runTime = new RunTimeOptions();
        var command = new Command("run", "Run a scenario (or the embedded default) and summarise it")
        {
            file, seed, duration, outDir, json, quiet, callTimeout, dumpMap, listInterfaces, largePages,
        };
        foreach (var option in runTime.All)
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => runTime.TryApply(parse, new RunSettings(), stderr, out var settings)
            ? Run(parse.GetValue(file), parse.GetValue(seed), parse.GetValue(duration), parse.GetValue(outDir), parse.GetValue(json),
                parse.GetValue(quiet), parse.GetValue(callTimeout), settings with { DumpMaps = parse.GetValue(dumpMap) ?? [] },
                parse.GetValue(listInterfaces), parse.GetValue(largePages) ? args : null, stdout, stderr)
            : ExitCodes.BadInput);
        return command;
    }

    private static int Run(string? path, ulong? seed, string? duration, string? outDir, bool json, bool quiet, string? callTimeout,
        RunSettings settings, bool listInterfaces, IReadOnlyList<string>? largePagesArgs, TextWriter stdout, TextWriter stderr)
    {
        var budget = ContainedRun.DefaultCallBudget;
        if (callTimeout is not null)
        {
            if (!SimTime.TryParse(callTimeout, out var t, out var error) || t.Nanoseconds <= 0)
            {
                stderr.WriteLine($"bpfsim: --call-timeout: {error ?? "must be greater than 0"}");
                return ExitCodes.BadInput;
            }
            budget = TimeSpan.FromTicks(Math.Max(t.Nanoseconds / 100, 1));
        }
        if (path is not null && path.StartsWith('-'))
        {
            stderr.WriteLine($"bpfsim: unknown option '{path}' (see 'bpfsim run --help')");
            return ExitCodes.BadInput;
        }
        var (factory, catalog) = Composition.Create([]);
        LoadedScenario scenario;
        try
        {
            scenario = ScenarioLoader.Load(path, factory, catalog);
        }
        catch (ScenarioException e)
        {
            foreach (var error in e.Errors)
            {
                stderr.WriteLine(error.ToString());
            }
            return ExitCodes.BadInput;
        }
        if (listInterfaces)
        {
            return XdpOutput.ListInterfaces(scenario, stdout, stderr);
        }
        if (settings.DumpMaps.Count > 0 && (scenario.Tcp?.Xdp.Count ?? 0) == 0)
        {
            // Only an XDP object's maps can be dumped; say so before the run rather than after it.
            stderr.WriteLine($"bpfsim: --dump-map {settings.DumpMaps[0]}: {scenario.Name} attaches no XDP program (xdp:), so it has no maps to dump");
            return ExitCodes.BadInput;
        }
        if (settings.DumpMaps.Count > 0 && XdpOutput.UnknownMaps(scenario, settings.DumpMaps) is { } unknownMaps)
        {
            stderr.WriteLine(unknownMaps); // known from the check before the run: say so before it, not after
            return ExitCodes.BadInput;
        }
        if (seed is { } s)
        {
            scenario = scenario.WithSeed(s);
        }
        if (duration is not null)
        {
            if (!SimTime.TryParse(duration, out var d, out var error) || d.Nanoseconds <= 0 || d.TotalSeconds > ScenarioLimits.MaxSeconds)
            {
                stderr.WriteLine($"bpfsim: --duration: {error ?? (d.Nanoseconds <= 0 ? "must be greater than 0" : $"must be at most {ScenarioLimits.MaxSeconds}s")}");
                return ExitCodes.BadInput;
            }
            scenario = scenario.WithDuration(d);
        }
        // Refuse before anything is built a run that would not fit in memory, rather than fail in it.
        var estimate = scenario.Estimate();
        if (!estimate.Fits)
        {
            stderr.WriteLine($"bpfsim: {scenario.Name}: this run would not fit in memory: {estimate}; {ShrinkHint(scenario)}");
            return ExitCodes.BadInput;
        }
        if (outDir is not null && !TryCreateOutDir(outDir, stderr))
        {
            return ExitCodes.BadInput; // checked before the run, so a bad --out does not waste it
        }
        if (scenario.Sched is null && settings.TraceDirectory is { } trace && !TryCreateOutDir(trace, stderr, "--trace"))
        {
            return ExitCodes.BadInput;
        }
        if (largePagesArgs is not null)
        {
            if (LargePageHeap.ActiveLimit is not { } limit)
            {
                return LargePageHeap.Relaunch(largePagesArgs, estimate.MemoryBytes, stderr);
            }
            if (!quiet && !json)
            {
                stderr.WriteLine($"bpfsim: --large-pages: the heap is on huge pages, {WorkEstimate.Bytes(limit)} at most");
            }
        }
        var options = new RunOptions(outDir, json, quiet, settings with { CallBudget = budget, OutputDirectory = outDir }, estimate, factory, catalog, stdout, stderr);
        return Execute(scenario, options);
    }

    /// <summary>What to say after "would not fit in memory".</summary>
    internal static string ShrinkHint(LoadedScenario scenario) => scenario.Sched is null
        ? "shorten it, use fewer flows or a longer sample_interval"
        : "shorten it, use fewer tasks, a lower timeline_limit or a longer sample_interval";

    /// <summary>The command line's choices and what the run needs, handed to the subsystem's run.</summary>
    private sealed record RunOptions(string? OutDir, bool Json, bool Quiet, RunSettings Settings, IRunEstimate Estimate, BpfSimFactory Factory,
        ConsumerCatalog Catalog, TextWriter Stdout, TextWriter Stderr);

    private static int Execute(LoadedScenario scenario, RunOptions o)
    {
        var stderr = o.Stderr;
        var outcome = RunWithProgress(progress => ScenarioRun.Execute(scenario, o.Settings with { Progress = progress, Notice = stderr.WriteLine }, o.Factory, o.Catalog), scenario.Duration, o.Estimate, o.Quiet || o.Json, o.Stdout, stderr);
        if (!outcome.Completed)
        {
            foreach (var error in outcome.Errors)
            {
                stderr.WriteLine(error);
            }
            return outcome.ExitCode;
        }
        if (o.OutDir is { } outDir)
        {
            IReadOnlyList<string> files;
            try
            {
                files = outcome.WriteOutputs(outDir, o.Settings.Formats);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"bpfsim: --out {outDir}: {e.Message}");
                return ExitCodes.SimulationFailed;
            }
            if (!o.Quiet && !o.Json)
            {
                var mmlogs = outcome.Scenario.Tcp is { } tcp ? MmLinkLogs.FileNames(tcp) : [];
                var pcaps = o.Settings.PcapLinks.Distinct(StringComparer.Ordinal).Select(l => l + ".pcap");
                o.Stdout.WriteLine($"wrote {string.Join(", ", files.Select(Path.GetFileName).Concat(mmlogs).Concat(pcaps))} to {outDir}");
            }
        }
        else if (o.Settings.PcapLinks.Count > 0 && !o.Quiet && !o.Json)
        {
            o.Stdout.WriteLine($"wrote {string.Join(", ", o.Settings.PcapLinks.Distinct(StringComparer.Ordinal).Select(l => l + ".pcap"))} to the current folder");
        }
        if (o.Settings.TraceDirectory is { } trace && !o.Quiet && !o.Json)
        {
            o.Stdout.WriteLine($"wrote the per-event trace to {trace} (bpfsim trace convert {trace} --to csv; docs/traces.md)");
        }
        if (o.Settings.DumpMaps.Count > 0 && o.Json)
        {
            return XdpOutput.DumpMaps(outcome.Tcp?.XdpMaps ?? [], o.Settings.DumpMaps, json: true, o.Stdout, stderr);
        }
        if (o.Json)
        {
            o.Stdout.WriteLine(outcome.SummaryJson);
        }
        else if (!o.Quiet)
        {
            if (outcome.TcpSummary is { } tcp)
            {
                TcpTerminal.Print(Terminal.Create(o.Stdout), scenario.Name, scenario.Spec, tcp);
            }
            else
            {
                SchedTerminal.Print(Terminal.Create(o.Stdout), scenario.Name, scenario.Sched!, outcome.SchedSummary!, outcome.Sched!);
            }
        }
        foreach (var warning in outcome.Warnings)
        {
            stderr.WriteLine(warning);
        }
        if (o.Settings.DumpMaps.Count > 0)
        {
            int code = XdpOutput.DumpMaps(outcome.Tcp?.XdpMaps ?? [], o.Settings.DumpMaps, json: false, o.Stdout, stderr);
            if (code != ExitCodes.Success)
            {
                return code;
            }
        }
        return outcome.ExitCode;
    }

    private static bool TryCreateOutDir(string outDir, TextWriter stderr, string option = "--out")
    {
        if (File.Exists(outDir))
        {
            stderr.WriteLine($"bpfsim: {option} {outDir}: a file is there; the outputs go into a directory");
            return false;
        }
        try
        {
            Directory.CreateDirectory(outDir);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"bpfsim: {option} {outDir}: cannot make this directory: {e.Message}");
            return false;
        }
    }

    private static T RunWithProgress<T>(Func<Action<double>?, T> run, SimTime simulated, IRunEstimate estimate,
        bool silent, TextWriter stdout, TextWriter stderr) where T : class
    {
        bool terminal = !silent && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        if (!terminal)
        {
            if (silent || estimate.WallSeconds < WorkEstimate.ProgressAfterSeconds)
            {
                return run(null);
            }
            // A long run into a pipe or a log: a line every 10 % so it is seen to progress.
            stderr.WriteLine($"bpfsim: a long run: {estimate}");
            var wall = System.Diagnostics.Stopwatch.StartNew();
            int reported = 0;
            return run(f =>
            {
                if ((int)(f * 10) > reported)
                {
                    reported = (int)(f * 10);
                    stderr.WriteLine($"bpfsim: {reported * 10}% ({new SimTime((long)(simulated.Nanoseconds * f))} of {simulated} simulated, {wall.Elapsed.TotalSeconds:0} s)");
                }
            });
        }
        T? result = null;
        AnsiConsole.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask($"simulating {simulated}", maxValue: 1.0);
            result = run(f => task.Value = f);
        });
        return result!;
    }
}
