namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A component: an independent piece of user space with its own program (in several versions), an ordering wish
/// and a timeline of start/replace/stop actions.
/// </summary>
/// <remarks>
/// The ordering wish is a run priority (lower runs first), libxdp's <c>run_prio</c>. "A before B" is written as
/// A's priority below B's; components of equal priority may run in either order. mprog and the chain map turn the
/// priority into a position (before the first attached component of higher priority).
/// </remarks>
public sealed record ChainComponentSpec
{
    /// <summary>The component's name; its programs are named <c>NAME_VERSION</c> (at most 15 characters in all).</summary>
    public required string Name { get; init; }

    /// <summary>Lower runs first (libxdp's default is 50).</summary>
    public int Priority { get; init; } = 50;

    public required IReadOnlyList<ComponentVersionSpec> Versions { get; init; }

    /// <summary>Actions in time order.</summary>
    public required IReadOnlyList<ComponentActionSpec> Timeline { get; init; }

    /// <summary>The kernel-visible program name of version <paramref name="version"/>.</summary>
    public string ProgramName(int version) => $"{Name}_{Versions[version].Name}";
}
