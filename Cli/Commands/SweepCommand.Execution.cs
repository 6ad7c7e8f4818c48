using System.CommandLine;
using System.Diagnostics;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Sweeps;
using Spectre.Console;

namespace BpfSim.Cli.Commands;

public static partial class SweepCommand
{
    /// <summary>The whole sweep here: manifest, every run (or those not done, with --resume), then the tables.</summary>
    private static int RunAll(SweepPlan plan, int chunks, string outDir, Choices c, BpfSimFactory factory, ConsumerCatalog catalog,
        TextWriter stdout, TextWriter stderr)
    {
        var manifest = SweepManifest.For(plan, chunks);
        if (c.Resume && File.Exists(Path.Combine(outDir, SweepManifest.FileName)) && !SameRuns(SweepManifest.Read(outDir), manifest))
        {
            stderr.WriteLine($"bpfsim: --resume: {outDir} holds another sweep's runs (its manifest.json lists other runs); choose another --out");
            return ExitCodes.BadInput;
        }
        manifest.Write(outDir);
        var wall = Stopwatch.StartNew();
        var records = Execute(plan, plan.Runs, outDir, c, factory, catalog, stdout, stderr);
        // The tables always in both formats (--format is for each run's own files), as collect writes them.
        var collection = SweepCollector.Collect(outDir, OutputFormats.Csv | OutputFormats.Parquet);
        Report(plan, records, wall.Elapsed, c, stdout, stderr);
        if (!c.Quiet)
        {
            stdout.WriteLine($"wrote {string.Join(", ", collection.Files.Select(Path.GetFileName))} and runs/ to {outDir}");
        }
        return collection.ExitCode;
    }

    /// <summary>One chunk of the manifest in <paramref name="outDir"/> (a job-array task): its runs, no tables.</summary>
    private static int RunChunk(SweepPlan plan, int chunk, int chunks, string outDir, Choices c, BpfSimFactory factory, ConsumerCatalog catalog,
        TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(Path.Combine(outDir, SweepManifest.FileName)))
        {
            // Without it the chunks are not the cluster's, and collect (which reads it) could not gather them.
            stderr.WriteLine($"bpfsim: --only {chunk}: {outDir} has no {SweepManifest.FileName}: write it first with --emit slurm {outDir}, or run the sweep without --only");
            return ExitCodes.BadInput;
        }
        var manifest = SweepManifest.Read(outDir);
        if (!SameRuns(manifest, SweepManifest.For(plan, 1)))
        {
            stderr.WriteLine($"bpfsim: --only: the manifest in {outDir} was written for another sweep (its runs differ from {c.Path}'s)");
            return ExitCodes.BadInput;
        }
        if (chunk >= manifest.Chunks.Count)
        {
            stderr.WriteLine($"bpfsim: --only {chunk}: the manifest has chunks 0 to {manifest.Chunks.Count - 1}");
            return ExitCodes.BadInput;
        }
        var ids = manifest.Chunks[chunk].ToHashSet(StringComparer.Ordinal);
        var runs = plan.Runs.Where(r => ids.Contains(r.Id)).ToList();
        var wall = Stopwatch.StartNew();
        var records = Execute(plan, runs, outDir, c, factory, catalog, stdout, stderr);
        Report(plan, records, wall.Elapsed, c, stdout, stderr);
        return records.Any(r => !r.Completed) ? ExitCodes.SimulationFailed
            : records.Any(r => r.ExitCode == ExitCodes.CompletedWithFault) ? ExitCodes.CompletedWithFault : ExitCodes.Success;
    }

    private static bool SameRuns(SweepManifest a, SweepManifest b) => a.Runs.SequenceEqual(b.Runs);

    private static IReadOnlyList<RunRecord> Execute(SweepPlan plan, IReadOnlyList<SweepRun> runs, string outDir, Choices c, BpfSimFactory factory,
        ConsumerCatalog catalog, TextWriter stdout, TextWriter stderr)
    {
        var execution = new SweepExecution { OutputDirectory = outDir, Jobs = c.Jobs, Resume = c.Resume, Settings = c.Settings };
        // With --resume, say how many runs are kept, so "8 runs on 2 workers" does not promise work that is already done.
        int kept = c.Resume ? runs.Count(r => RunRecord.Read(SweepFiles.RunDirectory(outDir, r.Id)) is not null) : 0;
        int workers = Math.Min(c.Jobs, Math.Max(runs.Count - kept, 1));
        string what = $"{plan.File.Name}: {Plural(runs.Count, "run")}{(kept > 0 ? $" ({kept} done before, kept)" : "")} on {Plural(workers, "worker")}";
        bool terminal = !c.Quiet && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        if (c.Quiet)
        {
            return SweepExecutor.Execute(plan, runs, execution, factory, catalog);
        }
        if (!terminal)
        {
            // Into a pipe or a log: a line every 10 %.
            stderr.WriteLine($"bpfsim sweep {what}");
            var wall = Stopwatch.StartNew();
            int reported = -1, first = -1;
            return SweepExecutor.Execute(plan, runs, execution with
            {
                Progress = (done, total, failed) =>
                {
                    int tenth = total == 0 ? 10 : done * 10 / total;
                    if (tenth > reported)
                    {
                        reported = tenth;
                        // The estimate is from the runs this process has finished (the first report counts the kept ones).
                        first = first < 0 ? done : first;
                        double elapsed = wall.Elapsed.TotalSeconds;
                        string left = done > first && done < total ? $", about {elapsed / (done - first) * (total - done):0} s left" : "";
                        stderr.WriteLine($"bpfsim sweep: {tenth * 10}% ({done}/{total} runs, {failed} failed, {elapsed:0} s{left})");
                    }
                },
            }, factory, catalog);
        }
        IReadOnlyList<RunRecord>? records = null;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"sweep {what}"), maxValue: Math.Max(runs.Count, 1));
                records = SweepExecutor.Execute(plan, runs, execution with
                {
                    Progress = (done, total, failed) =>
                    {
                        task.Value = done;
                        task.Description = Markup.Escape($"{plan.File.Name}: {done}/{total} runs") + (failed > 0 ? $" [red]{failed} failed[/]" : "");
                    },
                }, factory, catalog);
            });
        return records!;
    }

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    /// <summary>One line for the sweep, and one for each run that did not complete or had a fault.</summary>
    private static void Report(SweepPlan plan, IReadOnlyList<RunRecord> records, TimeSpan wall, Choices c, TextWriter stdout, TextWriter stderr)
    {
        foreach (var r in records.Where(r => r.ExitCode != ExitCodes.Success))
        {
            string why = string.Join("; ", r.Errors.Concat(r.Warnings)).ReplaceLineEndings(" ");
            stderr.WriteLine($"bpfsim: sweep: run {r.Run}: {r.Status} (exit {r.ExitCode}){(why.Length > 0 ? ": " + why : "")}");
        }
        if (!c.Quiet)
        {
            int failed = records.Count(r => !r.Completed), faults = records.Count(r => r.ExitCode == ExitCodes.CompletedWithFault);
            stdout.WriteLine($"bpfsim sweep {plan.File.Name}: {records.Count} runs, {records.Count - failed} completed" +
                             $"{(faults > 0 ? $" ({faults} with a consumer fault)" : "")}, {failed} failed, in {wall.TotalSeconds:0.0} s");
        }
    }

    private static Command CreateCollect(TextWriter stdout, TextWriter stderr)
    {
        var dir = new Argument<string>("dir") { Description = "A sweep's output folder (with manifest.json and runs/), e.g. the DIR of --emit slurm DIR" };
        var format = new RunTimeOptions().Format;
        // Here it picks the sweep tables' formats, which a local sweep writes in both (its runs' tables follow --format).
        format.Description = "Formats of the sweep tables: csv, parquet or csv,parquet (default csv,parquet, as a local sweep writes them)";
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors" };
        var command = new Command("collect", "Merge a sweep's runs (from a cluster's array tasks) into sweep.csv/.parquet, points.csv/.parquet and timing.csv")
        {
            dir, format, quiet,
        };
        command.SetAction(parse =>
        {
            if (!TryFormats(parse.GetValue(format), stderr, out var formats))
            {
                return ExitCodes.BadInput;
            }
            string directory = parse.GetValue(dir)!;
            try
            {
                var collection = SweepCollector.Collect(directory, formats);
                foreach (var (run, record) in collection.Runs.Where(r => r.Record is not { ExitCode: ExitCodes.Success }))
                {
                    string marker = Path.Combine(SweepFiles.RunDirectory(directory, run), SweepFiles.Done);
                    string why = record is not null ? $"{record.Status} (exit {record.ExitCode})"
                        : File.Exists(marker) ? $"not finished ({marker} is there but unreadable: the run was cut while writing it, or it was edited)"
                        : "not finished (no done marker)";
                    stderr.WriteLine($"bpfsim: sweep collect: run {run}: {why}");
                }
                ReportUnfinishedChunks(directory, collection, stderr);
                if (!parse.GetValue(quiet))
                {
                    stdout.WriteLine($"bpfsim sweep collect: {collection.Runs.Count} runs, {collection.Runs.Count(r => r.Record is { Completed: true })} completed; " +
                                     $"wrote {string.Join(", ", collection.Files.Select(Path.GetFileName))} to {directory}");
                }
                return collection.ExitCode;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"bpfsim: sweep collect: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    /// <summary>Which chunks hold the runs without a done marker, so the user knows which array tasks to submit again.</summary>
    private static void ReportUnfinishedChunks(string directory, SweepCollection collection, TextWriter stderr)
    {
        var unfinished = collection.Runs.Where(r => r.Record is null).Select(r => r.Run).ToHashSet(StringComparer.Ordinal);
        if (unfinished.Count == 0)
        {
            return;
        }
        var manifest = SweepManifest.Read(directory);
        var chunks = Enumerable.Range(0, manifest.Chunks.Count).Where(c => manifest.Chunks[c].Any(unfinished.Contains)).ToList();
        string list = string.Join(",", chunks);
        string script = Path.Combine(directory, SlurmScript.FileName);
        stderr.WriteLine($"bpfsim: sweep collect: {unfinished.Count} run{(unfinished.Count == 1 ? "" : "s")} not finished, in chunk{(chunks.Count == 1 ? "" : "s")} {list}: run " +
                         (File.Exists(script) ? $"them again (sbatch --array={list} {script})" : "them again (bpfsim sweep SWEEP.yaml --only CHUNK --out DIR)") +
                         " and collect again");
    }

    private static bool TryFormats(string? text, TextWriter stderr, out OutputFormats formats)
    {
        formats = OutputFormats.Csv | OutputFormats.Parquet;
        if (text is null)
        {
            return true;
        }
        if (!OutputFormatsText.TryParse(text, out formats, out var error))
        {
            stderr.WriteLine($"bpfsim: --format: {error}");
            return false;
        }
        return true;
    }
}
