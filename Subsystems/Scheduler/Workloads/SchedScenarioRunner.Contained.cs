using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// A run under Core's <see cref="ContainedRun"/> watchdog, as TCP runs have it: a C# scheduler's call that never
/// returns is abandoned and the run replayed (it is deterministic) with that call refused. The refusal is the guard's
/// fault, which the ext class makes an error exit naming the op (scx_ops_error → SCX_EXIT_ERROR, kernel/sched/ext.c):
/// the scheduler is ejected, its tasks go back to fair and the run goes on.
/// </summary>
public sealed partial class SchedScenarioRunner
{
    /// <summary>
    /// Runs <paramref name="spec"/> in fresh kernels from <paramref name="createBpf"/> under a <see cref="ContainedRun"/>
    /// watchdog: a scheduler call that exceeds <paramref name="callBudget"/> (default 1 s) is abandoned and the run
    /// replayed with that scheduler ejected at that call.
    /// </summary>
    /// <param name="createFair">The fair class for each kernel (default <see cref="FairSchedClass"/>).</param>
    /// <param name="abandoned">Told about each hung call before the replay starts.</param>
    public static SchedRunResult RunContained(SchedScenarioSpec spec, Func<BpfSystem> createBpf, ConsumerCatalog catalog,
        Action<double>? progress = null, TimeSpan? callBudget = null, Action<ConsumerGuard, long>? abandoned = null,
        Func<ISchedCore, SchedClass>? createFair = null)
    {
        ArgumentNullException.ThrowIfNull(createBpf);
        return ContainedRun.Run(refuse =>
        {
            var runner = new SchedScenarioRunner(spec, createBpf(), catalog, createFair ?? (core => new FairSchedClass(core, spec.Features, spec.Seed)));
            foreach (var (ordinal, call) in refuse)
            {
                runner._ext.AbandonedCalls[ordinal] = call;
            }
            return new ContainedAttempt<SchedRunResult>(() => runner.Run(progress), () => runner._ext.Guards);
        }, callBudget ?? ContainedRun.DefaultCallBudget, abandoned);
    }

    /// <summary>
    /// A runner for <paramref name="spec"/>'s machine without its tasks, for replaying the struct_ops actions alone
    /// (the scenario checks of <c>validate</c> and <c>run</c>): the same kernel, ext class and loader actions as the
    /// run, so a load failure, EBUSY or a refused name is met as the run would meet it. Nothing is summarised.
    /// </summary>
    /// <exception cref="ScenarioRunException">The machine or HZ cannot be built.</exception>
    public static SchedScenarioRunner ForStructOpsReplay(SchedScenarioSpec spec, BpfSystem bpf, ConsumerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // No tasks and a tiny timeline: the replay needs the kernel and its ext class, not the workload's memory.
        return new SchedScenarioRunner(spec with { Tasks = [], TimelineLimit = 0 }, bpf, catalog);
    }

    /// <summary>The system the runner's kernel lives in.</summary>
    public BpfSystem Bpf => _bpf;

    /// <summary>The loader actions that carry out the scenario's <c>structops:</c> entries.</summary>
    public StructOpsActions StructOpsActions => _actions;
}
