using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads;

/// <summary>A struct_ops consumer to load and register (and maybe unregister) during the run.</summary>
public sealed record StructOpsEntry
{
    /// <summary>A consumer name, or a path to a consumer assembly.</summary>
    public required string Program { get; init; }
    public SimTime? At { get; init; }
    public SimTime? UnregisterAt { get; init; }
    /// <summary>At <see cref="At"/>, swap this link-mode consumer into the link of that (already registered) one.</summary>
    public string? Replace { get; init; }
    /// <summary>
    /// The catalog names of the consumers this entry loads, as the scenario reader resolved them: every consumer
    /// of an assembly, or the one its <c>map:</c> picks. Empty = resolve <see cref="Program"/> when registering.
    /// </summary>
    public IReadOnlyList<string> Consumers { get; init; } = [];
    /// <summary>
    /// <c>globals:</c>: the consumer's global variables (an object's, by BTF name) or named options (a C# consumer's
    /// [StructOpsOption]) to set before it loads; checked with <see cref="ConsumerGlobals.Check"/>.
    /// </summary>
    public IReadOnlyList<ConsumerGlobal> Globals { get; init; } = [];
    /// <summary>
    /// <c>restart_on_exit</c>: when the scheduler exits with SCX_ECODE_ACT_RESTART in its exit code (a CPU hotplug
    /// event it does not handle), load and register it again with hotplug_seq set to the current scx_hotplug_seq, as
    /// the kernel's example loaders do (scx_simple.c: <c>if (UEI_ECODE_RESTART(ecode)) goto restart;</c>).
    /// </summary>
    public bool RestartOnExit { get; init; }
    /// <summary>Where the entry is written (<c>file:line:column</c>), to name it in run-time errors; null if not from a file.</summary>
    public string? Location { get; init; }

    /// <summary>
    /// A note for each entry whose <see cref="At"/> is not before <paramref name="end"/>: a file refuses those against
    /// its own duration, but a shorter <c>--duration</c> can leave some past the end, and the user should know.
    /// </summary>
    public static IEnumerable<string> PastTheEnd(IEnumerable<StructOpsEntry> entries, SimTime end) =>
        entries.Where(e => e.At is { } at && at >= end)
            .Select(e => $"{e.Location ?? "structops"}: {e.Program} at {e.At} is not before the end of the run ({end}): never registered");
}
