using BpfSim.Cli.Output;
using BpfSim.Cli.Scenarios;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim run</c> of a <c>subsystem: sched</c> scenario.</summary>
public static partial class RunCommand
{
    /// <summary>
    /// Runs a scheduler scenario. Exit code 3 (<see cref="ExitCodes.CompletedWithFault"/>) when a scheduler was
    /// ejected with an error exit — scx_ops_error (a kfunc misused, a consumer that threw or faulted) or the watchdog
    /// (SCX_EXIT_ERROR_STALL: a runnable task not run within timeout_ms) — as for a TCP consumer's fault: the run
    /// completed and wrote every output, but a scheduler failed in it. 0 when every scheduler left in order
    /// (unregistered, or still attached at the end). The run is contained as a TCP run is: a scheduler call that does not
    /// return within <c>--call-timeout</c> is abandoned and the run replayed with that call refused (an error exit).
    /// </summary>
    /// <summary>The run's bpf(2) has the scenario's CPUs, so per-CPU maps and program invocations see one slot per simulated CPU.</summary>
    private static BpfSystemOptions CpusOf(SchedScenarioSpec spec) => new() { Cpus = spec.Cpus.Count };

    private static int RunSched(LoadedScenario scenario, RunOptions o)
    {
        var spec = scenario.Sched!;
        var (factory, catalog, stdout, stderr) = (o.Factory, o.Catalog, o.Stdout, o.Stderr);
        var budget = o.Budget;
        var result = Contained(() => RunWithProgress(progress => SchedScenarioRunner.RunContained(spec, () => factory.Create(CpusOf(spec)), catalog,
                progress, budget, HangNotice(budget, stderr), core => new FairSchedClass(core)),
            spec.Duration, o.Estimate, o.Quiet || o.Json, stdout, stderr), scenario.Name, stderr, out int failed);
        if (result is null)
        {
            return failed;
        }
        var sources = spec.StructOps.Select(e => catalog.Find(e.Program)?.Source ?? e.Program);
        var summary = SchedRunSummary.From(spec, result, Manifest.For(scenario.Name, scenario.Text, spec.Seed, sources), scenario.Notes);
        if (o.OutDir is { } outDir)
        {
            IReadOnlyList<string> files;
            try
            {
                files = SchedOutputWriter.Write(outDir, scenario.Name, spec, summary, result);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"bpfsim: --out {outDir}: {e.Message}");
                return ExitCodes.SimulationFailed;
            }
            if (!o.Quiet && !o.Json)
            {
                stdout.WriteLine($"wrote {string.Join(", ", files.Select(Path.GetFileName))} to {outDir}");
            }
        }
        if (o.Json)
        {
            stdout.WriteLine(summary.ToJson());
        }
        else if (!o.Quiet)
        {
            SchedTerminal.Print(Terminal.Create(stdout), scenario.Name, spec, summary, result);
        }
        foreach (var e in result.Ejections)
        {
            stderr.WriteLine($"bpfsim: scheduler {e.Scheduler} ejected at {e.Seconds:0.######} s: {e.Kind} ({e.Reason}){(e.Message.Length > 0 ? $": {e.Message}" : "")}; " +
                             "its tasks went back to the fair class and the run went on");
        }
        foreach (var fault in result.Faults.Where(f => !result.Ejections.Any(e => e.Scheduler == f.Consumer)))
        {
            stderr.WriteLine($"bpfsim: consumer fault: {fault}; ejected, the run went on without it");
        }
        return result.Ejections.Count > 0 || result.Faults.Count > 0 ? ExitCodes.CompletedWithFault : ExitCodes.Success;
    }
}
