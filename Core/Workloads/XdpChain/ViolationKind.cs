namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>How a packet's path through the programs broke the intended order (docs/multi-prog.md §checker).</summary>
public enum ViolationKind
{
    /// <summary>A component that was attached (or being replaced) was not run at all.</summary>
    Skipped,

    /// <summary>A component was run twice: the same program again, or both its old and new version.</summary>
    Duplicate,

    /// <summary>A component ran after one its priority says must come after it.</summary>
    OutOfOrder,

    /// <summary>A program ran that was stopped or replaced (its stop or replace had returned), or not yet started.</summary>
    Stale,
}
