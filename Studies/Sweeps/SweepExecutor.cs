using System.Diagnostics;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Studies.Runs;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// Runs a sweep's runs in one process on a pool of worker threads, one simulation per worker, each through
/// <see cref="ScenarioRun.Execute"/> as <c>bpfsim run</c> does, into <c>OUT/runs/POINT-SEED/</c> (the point's
/// scenario.yaml, the run's ordinary outputs, then the <c>done</c> marker). What a run gives depends on nothing but
/// its point and seed: not on the worker, the order, or how many run at once.
/// </summary>
public static class SweepExecutor
{
    /// <summary>
    /// Runs <paramref name="runs"/> (all or some of <paramref name="plan"/>'s) and returns their records in the order
    /// given, whichever worker finished first. A failed run is recorded and the others go on.
    /// </summary>
    /// <exception cref="IOException">A run's folder cannot be made or written.</exception>
    public static IReadOnlyList<RunRecord> Execute(SweepPlan plan, IReadOnlyList<SweepRun> runs, SweepExecution options, BpfSimFactory factory,
        ConsumerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Jobs);
        var records = new RunRecord?[runs.Count];
        var pending = new List<int>();
        for (int i = 0; i < runs.Count; i++)
        {
            string directory = SweepFiles.RunDirectory(options.OutputDirectory, runs[i].Id);
            if (options.Resume && RunRecord.Read(directory) is { } done)
            {
                records[i] = done;
            }
            else
            {
                pending.Add(i);
            }
        }
        var progress = new SweepProgress(runs.Count, runs.Count - pending.Count, records.Count(r => r is { Completed: false }), options.Progress);
        progress.Report();
        int next = -1;
        Exception? crash = null;
        void Work()
        {
            while (Volatile.Read(ref crash) is null)
            {
                int k = Interlocked.Increment(ref next);
                if (k >= pending.Count)
                {
                    return;
                }
                int i = pending[k];
                try
                {
                    var record = RunOne(runs[i], options, factory, catalog);
                    records[i] = record;
                    progress.Finished(record.Completed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Interlocked.CompareExchange(ref crash, e, null);
                }
            }
        }
        int workers = Math.Min(options.Jobs, pending.Count);
        var threads = Enumerable.Range(0, workers).Select(w => new Thread(Work) { IsBackground = true, Name = $"sweep worker {w}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (crash is not null)
        {
            throw new IOException(crash.Message, crash);
        }
        return records.Select(r => r!).ToList();
    }

    /// <summary>Runs one run into its folder (emptied first) and writes its marker last.</summary>
    private static RunRecord RunOne(SweepRun run, SweepExecution options, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        string directory = SweepFiles.RunDirectory(options.OutputDirectory, run.Id);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        Directory.CreateDirectory(directory);
        string scenarioPath = Path.Combine(directory, SweepFiles.Scenario);
        File.WriteAllText(scenarioPath, run.Point.Text);
        // Named by the file it is now in, so `bpfsim run OUT/runs/ID/scenario.yaml --seed S` gives the same summary.
        var scenario = run.Point.Scenario.WithSeed(run.Seed) with { Name = scenarioPath };
        var settings = options.Settings with
        {
            Progress = null,
            Notice = null,
            OutputDirectory = directory,
            TraceDirectory = options.Settings.TraceDirectory is { } trace ? Path.Combine(directory, trace) : null,
        };
        var wall = Stopwatch.StartNew();
        RunOutcome outcome;
        try
        {
            outcome = ScenarioRun.Execute(scenario, settings, factory, catalog);
        }
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException))
        {
            // A bug in bpfsim: this run is recorded as failed and the sweep goes on.
            var bug = new RunRecord(run.Id, ExitCodes.SimulationFailed, RunRecord.StatusOf(ExitCodes.SimulationFailed), Math.Round(wall.Elapsed.TotalSeconds, 3),
                [$"bpfsim: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"], []);
            bug.Write(directory);
            return bug;
        }
        int exit = outcome.ExitCode;
        var errors = outcome.Errors.ToList();
        if (outcome.Completed)
        {
            if (outcome.Tcp is not null)
            {
                // The reports share OUT/plotly.min.js (written by whichever run gets here first, the same from every writer).
                Output.Charts.PlotlyJs.WriteFile(Path.Combine(options.OutputDirectory, SweepFiles.PlotlyJs));
            }
            outcome.WriteOutputs(directory, options.Settings.Formats, SweepFiles.PlotlyJsFromRun);
        }
        var record = new RunRecord(run.Id, exit, RunRecord.StatusOf(exit), Math.Round(wall.Elapsed.TotalSeconds, 3), errors, outcome.Warnings);
        record.Write(directory);
        return record;
    }
}
