using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A component's user space in one run: its timeline position, the version it runs, the action in progress (a
/// step machine of one call per step, from the design's client), and what its actions cost.
/// </summary>
internal sealed class ComponentActor
{
    public ComponentActor(int index, ChainComponentSpec spec, SimRandom random)
    {
        Index = index;
        Spec = spec;
        Random = random;
    }

    public int Index { get; }
    public ChainComponentSpec Spec { get; }
    public string Name => Spec.Name;
    public int Priority => Spec.Priority;

    /// <summary>The actor's own stream for call latencies and back-off.</summary>
    public SimRandom Random { get; }

    /// <summary>The version attached when no action is in progress; -1 when stopped.</summary>
    public int Version { get; set; } = -1;

    /// <summary>The next timeline entry to run.</summary>
    public int NextAction { get; set; }

    /// <summary>The action in progress, or null.</summary>
    public IEnumerator<SyscallKind>? Steps { get; set; }

    public ComponentActionSpec? Current { get; set; }
    public SimTime ActionBegan { get; set; }

    /// <summary>Set by a client that gave up (too many retries, an unexpected error): the action did not happen.</summary>
    public string? Failure { get; set; }

    /// <summary>How long the next <see cref="SyscallKind.Sleep"/> step lasts (a client's back-off).</summary>
    public SimTime SleepFor { get; set; }

    public int Retries { get; set; }

    /// <summary><see cref="Retries"/> when the action in progress began (the retry budget is per action).</summary>
    public int RetriesAtActionStart { get; set; }
    public long Syscalls { get; set; }
}
