using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// A checked scenario of either subsystem: exactly one of <see cref="Tcp"/> and <see cref="Sched"/> is set. Carries
/// the file's text and name (for the manifest and messages) and the reader's notes (what it read but does not model).
/// </summary>
public sealed record LoadedScenario(TcpScenarioSpec? Tcp, SchedScenarioSpec? Sched, string Text, string Name, IReadOnlyList<string> Notes)
{
    /// <summary><c>tcp</c> or <c>sched</c>.</summary>
    public string Subsystem => Sched is null ? "tcp" : "sched";

    public ulong Seed => Tcp?.Seed ?? Sched!.Seed;

    /// <summary>
    /// The names of the maps the <c>xdp:</c> entries' programs create, and their keys where several share a name
    /// (<see cref="XdpMapResult.Key"/>), as the check before the run found them: what <c>--dump-map</c> may name.
    /// </summary>
    public IReadOnlyList<string> XdpMapNames { get; init; } = [];

    public SimTime Duration => Tcp?.Duration ?? Sched!.Duration;

    /// <summary>The TCP scenario.</summary>
    /// <exception cref="InvalidOperationException">It is a scheduler scenario.</exception>
    public TcpScenarioSpec Spec => Tcp ?? throw new InvalidOperationException($"{Name} is a subsystem: sched scenario");

    public LoadedScenario WithSeed(ulong seed) =>
        this with { Tcp = Tcp is null ? null : Tcp with { Seed = seed }, Sched = Sched is null ? null : Sched with { Seed = seed } };

    public LoadedScenario WithDuration(SimTime duration) =>
        this with { Tcp = Tcp is null ? null : Tcp with { Duration = duration }, Sched = Sched is null ? null : Sched with { Duration = duration } };

    /// <summary>What running it will cost (<see cref="WorkEstimate"/>, <see cref="SchedWorkEstimate"/>).</summary>
    public IRunEstimate Estimate() => Tcp is { } tcp ? WorkEstimate.For(tcp) : SchedWorkEstimate.For(Sched!);

    /// <summary>One line for <c>validate</c>: what the scenario holds.</summary>
    public string Describe() => Tcp is { } tcp
        ? $"{tcp.Flows.Count} flow group(s), {Entries(tcp.StructOps.Count)}{XdpEntries(tcp)}, {tcp.Duration}"
        : $"subsystem sched, {Sched!.Cpus.Count} CPU(s), {Sched.Tasks.Count} task group(s), {Entries(Sched.StructOps.Count)}, {Sched.Duration}";

    /// <summary>", N xdp entries (their interfaces)", or nothing without an xdp: section.</summary>
    private static string XdpEntries(TcpScenarioSpec tcp) => tcp.Xdp.Count == 0 ? ""
        : $", {tcp.Xdp.Count} xdp entr{(tcp.Xdp.Count == 1 ? "y" : "ies")} ({string.Join(", ", tcp.Xdp.Select(x => x.Interface).Distinct(StringComparer.Ordinal))})";

    private static string Entries(int n) => $"{n} struct_ops entr{(n == 1 ? "y" : "ies")}";
}

/// <summary>A run's cost estimate, whatever the subsystem.</summary>
public interface IRunEstimate
{
    /// <summary>Whether the memory estimate is within the budget.</summary>
    bool Fits { get; }

    /// <summary>Estimated peak memory of the run, in bytes.</summary>
    double MemoryBytes { get; }

    /// <summary>Estimated wall time of the run.</summary>
    double WallSeconds { get; }
}
