namespace BpfSim.Core.Bpf;

/// <summary>
/// What a user-space update or delete on ARRAY_OF_MAPS / HASH_OF_MAPS waits for before it returns, so the caller
/// knows no program still uses the inner map it swapped out. The 2018 mailing-list debate argued these options;
/// bpfsim offers all three so their cost can be compared in simulated time (docs/map-in-map.md).
/// </summary>
public enum InnerMapReplaceWait
{
    /// <summary>
    /// The kernel as merged (commit 1ae80cf31938, maybe_wait_bpf_programs in kernel/bpf/syscall.c): every successful
    /// update or delete calls synchronize_rcu() before returning.
    /// </summary>
    SynchronizeRcu,

    /// <summary>
    /// Return at once; the caller issues one system-wide wait after a batch of swaps
    /// (<see cref="BpfSystem.Synchronize"/>, the proposed and unmerged BPF_SYNCHRONIZE command).
    /// </summary>
    BatchSynchronize,

    /// <summary>
    /// Wait only for the program invocations that hold this outer map (looked it up and have not returned), and
    /// at most <see cref="BpfSystemOptions.ProgramRefWaitBound"/>; never a full grace period.
    /// </summary>
    ProgramReferences,
}
