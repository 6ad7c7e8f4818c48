using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Output;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Runs;

/// <summary>
/// Runs a checked scenario of either subsystem, contained: a consumer call that does not return within the budget is
/// abandoned and the run replayed with that consumer ejected; what the run throws for the user's input (a refused
/// struct_ops action, a consumer that cannot load) or because the simulation failed becomes an error message and an
/// exit code in the <see cref="RunOutcome"/>, never an exception. The one path <c>bpfsim run</c>, <c>bpfsim sweep</c>
/// and users' own tests take.
/// </summary>
public static class ScenarioRun
{
    public static RunOutcome Execute(LoadedScenario scenario, RunSettings settings, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(settings);
        return scenario.Sched is { } sched ? ExecuteSched(scenario, sched, settings, factory, catalog) : ExecuteTcp(scenario, settings, factory, catalog);
    }

    private static RunOutcome ExecuteTcp(LoadedScenario scenario, RunSettings settings, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        var spec = scenario.Spec;
        var observers = TcpObservers.For(settings, spec, scenario.Name);
        var (result, code, error) = Contained(() => TcpScenarioRunner.RunContained(spec, () => factory.Create(new BpfSystemOptions { Jit = settings.Jit, Hz = spec.Hz }), catalog, settings.Progress,
            settings.CallBudget, HangNotice(settings), observers), scenario.Name);
        if (result is null)
        {
            return new RunOutcome(scenario, code, [error!], []);
        }
        var summary = TcpRunSummary.From(spec, result, Manifest.For(scenario.Name, scenario.Text, spec.Seed, Sources(spec.StructOps, catalog)));
        var warnings = result.Faults.Select(f => $"bpfsim: consumer fault: {f}; ejected, the run went on without it").ToList();
        return new RunOutcome(scenario, warnings.Count > 0 ? ExitCodes.CompletedWithFault : ExitCodes.Success, [], warnings, result, summary);
    }

    private static RunOutcome ExecuteSched(LoadedScenario scenario, SchedScenarioSpec spec, RunSettings settings, BpfSimFactory factory,
        ConsumerCatalog catalog)
    {
        if (settings.PcapLinks.Count > 0)
        {
            return new RunOutcome(scenario, ExitCodes.BadInput,
                [$"bpfsim: {scenario.Name}: --pcap {settings.PcapLinks[0]}: a scheduler run has no links to capture (--pcap is for TCP runs)"], []);
        }
        if (settings.TraceDirectory is { } trace)
        {
            return new RunOutcome(scenario, ExitCodes.BadInput,
                [$"bpfsim: {scenario.Name}: --trace {trace}: per-event traces are written for TCP runs (docs/traces.md); a scheduler run has its timeline CSV"], []);
        }
        // The run's bpf(2) has the scenario's CPUs, so per-CPU maps and program invocations see one slot per simulated CPU.
        var options = new BpfSystemOptions { Cpus = spec.Cpus.Count, Jit = settings.Jit, Hz = (uint)spec.Hz };
        var (result, code, error) = Contained(() => SchedScenarioRunner.RunContained(spec, () => factory.Create(options), catalog,
            settings.Progress, settings.CallBudget, HangNotice(settings), core => new FairSchedClass(core, spec.Features, spec.Seed)), scenario.Name);
        if (result is null)
        {
            return new RunOutcome(scenario, code, [error!], []);
        }
        var summary = SchedRunSummary.From(spec, result, Manifest.For(scenario.Name, scenario.Text, spec.Seed, Sources(spec.StructOps, catalog)),
            scenario.Notes);
        var warnings = new List<string>();
        foreach (var e in result.Ejections)
        {
            warnings.Add($"bpfsim: scheduler {e.Scheduler} ejected at {e.Seconds:0.######} s: {e.Kind} ({e.Reason})" +
                         $"{(e.Message.Length > 0 ? $": {e.Message}" : "")}; its tasks went back to the fair class and the run went on");
        }
        foreach (var fault in result.Faults.Where(f => !result.Ejections.Any(e => e.Scheduler == f.Consumer)))
        {
            warnings.Add($"bpfsim: consumer fault: {fault}; ejected, the run went on without it");
        }
        return new RunOutcome(scenario, warnings.Count > 0 ? ExitCodes.CompletedWithFault : ExitCodes.Success, [], warnings,
            sched: result, schedSummary: summary);
    }

    private static IEnumerable<string> Sources(IEnumerable<StructOpsEntry> entries, ConsumerCatalog catalog) =>
        entries.Select(e => catalog.Find(e.Program)?.Source ?? e.Program);

    /// <summary>What a contained run says when a consumer's call does not return within the budget.</summary>
    private static Action<ConsumerGuard, long>? HangNotice(RunSettings settings) => settings.Notice is not { } notice ? null :
        (guard, call) => notice($"bpfsim: {guard.Consumer}.{guard.Member} (call {call}) did not return within " +
                                $"{settings.CallBudget.TotalSeconds:0.###} s; replaying the run with {guard.Consumer} ejected at that call");

    private static (T? Result, int ExitCode, string? Error) Contained<T>(Func<T> run, string name) where T : class
    {
        try
        {
            return (run(), ExitCodes.Success, null);
        }
        catch (ScenarioRunException e) when (e.Location is not null)
        {
            return (null, ExitCodes.BadInput, $"{e.Location}: {e.Message.ReplaceLineEndings(" ")}");
        }
        catch (Exception e) when (e is ScenarioRunException or ConsumerLoadException)
        {
            return (null, ExitCodes.BadInput, $"bpfsim: {name}: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Not a mistake in the scenario (those are refused before the run): BPFSIM_TRACE=1 shows where, as for any
            // internal error.
            string trace = Environment.GetEnvironmentVariable("BPFSIM_TRACE") == "1" ? Environment.NewLine + e : "";
            return (null, ExitCodes.SimulationFailed, $"bpfsim: simulation failed: {e.Message}{trace}");
        }
    }
}
