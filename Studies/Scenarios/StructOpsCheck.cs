using BpfSim.Core.Workloads;
using System.Runtime.ExceptionServices;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Replays a scenario's struct_ops actions alone, at their times, on a fresh simulated kernel — the same
/// <see cref="StructOpsActions"/> the run uses, without flows — so that whatever the kernel would refuse during the
/// run (a consumer that fails to load, EEXIST for a name already registered, ENOLINK for a link already detached) is
/// reported by <c>validate</c> and before <c>run</c> starts, at the line of the entry whose action fails, and so is a
/// consumer whose constructor throws. A scheduler scenario is replayed the same way on its machine without tasks.
/// </summary>
public static class StructOpsCheck
{
    /// <summary>How long the replay may take: only consumer code (a constructor that never returns) could make it slow.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    /// <summary>The first action of <paramref name="spec"/> (up to its duration) that fails, as an error; none if all succeed.</summary>
    /// <remarks>
    /// The replay runs consumers' constructors, so it runs on a thread of its own: one that does not finish within
    /// <see cref="Budget"/> is reported at the entry being carried out (its thread is left behind; the command exits).
    /// </remarks>
    public static IReadOnlyList<ScenarioError> Check(TcpScenarioSpec spec, BpfSimFactory factory, ConsumerCatalog catalog, string file)
    {
        if (spec.StructOps.Count == 0)
        {
            return [];
        }
        var bpf = factory.Create();
        return Check(spec.StructOps, spec.Duration, bpf, new StructOpsActions(bpf, catalog, []), file);
    }

    /// <summary>
    /// The first action of a scheduler scenario that fails, as an error; none if all succeed. The replay is on the
    /// run's machine and ext class without tasks (<see cref="SchedScenarioRunner.ForStructOpsReplay"/>): loading,
    /// ops.init and the switch happen as in the run, so a consumer that cannot be built, globals the object refuses,
    /// or a registration the kernel refuses (EBUSY) are reported here. An error exit of an enabled scheduler is not a
    /// refusal (bpf_scx_reg returns 0): the run reports it as an ejection.
    /// </summary>
    public static IReadOnlyList<ScenarioError> Check(SchedScenarioSpec spec, BpfSimFactory factory, ConsumerCatalog catalog, string file)
    {
        if (spec.StructOps.Count == 0)
        {
            return [];
        }
        SchedScenarioRunner runner;
        try
        {
            runner = SchedScenarioRunner.ForStructOpsReplay(spec, factory.Create(new Core.Bpf.BpfSystemOptions { Cpus = spec.Cpus.Count }), catalog);
        }
        catch (ScenarioRunException e)
        {
            return [At(e.Location, file, e.Message)];
        }
        return Check(spec.StructOps, spec.Duration, runner.Bpf, runner.StructOpsActions, file);
    }

    private static IReadOnlyList<ScenarioError> Check(IReadOnlyList<StructOpsEntry> entries, SimTime duration, BpfSystem bpf,
        StructOpsActions actions, string file)
    {
        IReadOnlyList<ScenarioError> errors = [];
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                errors = Replay(entries, duration, bpf, actions, file);
                actions.Dispose();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = "bpfsim struct_ops check" };
        thread.Start();
        if (!thread.Join(Budget))
        {
            var entry = actions.Current;
            return [At(entry?.Location, file, $"t={bpf.Simulator.Now}: {entry?.Program ?? "a consumer"}: loading it did not finish within " +
                                            $"{Budget.TotalSeconds:0} s (a constructor or ops.init that never returns?)")];
        }
        failure?.Throw();
        return errors;
    }

    private static IReadOnlyList<ScenarioError> Replay(IReadOnlyList<StructOpsEntry> entries, SimTime duration, BpfSystem bpf,
        StructOpsActions actions, string file)
    {
        actions.Schedule(entries);
        try
        {
            bpf.Simulator.RunUntil(duration);
            // A consumer that cannot even be constructed is known before time 0: refuse it here (a run driven from C#
            // without this check survives it as a Load fault).
            return actions.LoadFaults.Select(f => At(f.Entry.Location, file, $"t={f.Fault.Time}: {f.Fault.Message}")).ToList();
        }
        catch (ScenarioRunException e)
        {
            return [At(e.Location, file, e.Message)];
        }
        catch (Exception e) when (e is ConsumerLoadException or BpfException)
        {
            // Which entry was running is the one whose time has come; name the earliest still at or after now.
            var now = bpf.Simulator.Now;
            var entry = entries.FirstOrDefault(x => x.At == now || x.UnregisterAt == now);
            return [At(entry?.Location, file, $"t={now}: {e.Message}")];
        }
    }

    /// <summary>An error at <c>file:line:column</c> <paramref name="location"/> (as the reader recorded it), else at 1:1.</summary>
    internal static ScenarioError At(string? location, string file, string message)
    {
        // The file name may itself contain ':'; the line and column are the last two fields.
        var parts = location?.Split(':') ?? [];
        if (parts.Length >= 3 && int.TryParse(parts[^2], out int line) && int.TryParse(parts[^1], out int column))
        {
            return new ScenarioError(string.Join(':', parts[..^2]), line, column, message);
        }
        return new ScenarioError(file, 1, 1, message);
    }
}
