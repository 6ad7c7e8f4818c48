using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>The cost of map-in-map waits so far.</summary>
    public MapInMapStats MapInMap { get; } = new();

    /// <summary>
    /// Called after a successful user-space update or delete (maybe_wait_bpf_programs in kernel/bpf/syscall.c):
    /// on ARRAY_OF_MAPS and HASH_OF_MAPS, wait as <see cref="BpfSystemOptions.InnerMapWait"/> says.
    /// </summary>
    private void MaybeWaitBpfPrograms(BpfMap map)
    {
        if (!map.Type.IsMapInMap())
        {
            return;
        }
        MapInMap.Swaps++;
        switch (Options.InnerMapWait)
        {
            case InnerMapReplaceWait.SynchronizeRcu:
                WaitGracePeriod();
                break;
            case InnerMapReplaceWait.ProgramReferences:
                WaitForProgramReferences(map);
                break;
        }
    }

    /// <summary>
    /// The proposed BPF_SYNCHRONIZE command: blocks the caller until one RCU grace period has passed, so every
    /// program that could have seen an inner map swapped out before the call has returned.
    /// </summary>
    public BpfResult Synchronize()
    {
        WaitGracePeriod();
        return BpfResult.Ok;
    }

    private void WaitGracePeriod()
    {
        long before = Rcu.CompletedGracePeriods;
        var waited = Rcu.Synchronize();
        MapInMap.GracePeriodsWaited += Rcu.CompletedGracePeriods - before;
        MapInMap.TimeBlocked += waited;
    }

    /// <summary>
    /// Waits until every program invocation that held <paramref name="outer"/> when the swap happened has returned,
    /// or until the bound. New invocations see the new inner map, so they are not waited for.
    /// </summary>
    private void WaitForProgramReferences(BpfMap outer)
    {
        Span<long> exitsAtSwap = stackalloc long[Cpus.Count];
        bool any = false;
        for (int cpu = 0; cpu < Cpus.Count; cpu++)
        {
            bool holds = _programDepth[cpu] > 0 && Holds(cpu, outer);
            exitsAtSwap[cpu] = holds ? _programExits[cpu] : -1;
            any |= holds;
        }
        if (!any)
        {
            return;
        }
        var snapshot = exitsAtSwap.ToArray();
        bool StillHeld()
        {
            for (int cpu = 0; cpu < snapshot.Length; cpu++)
            {
                if (snapshot[cpu] >= 0 && _programExits[cpu] == snapshot[cpu])
                {
                    return true;
                }
            }
            return false;
        }
        var start = Simulator.Now;
        if (!Simulator.RunWhile(StillHeld, start + Options.ProgramRefWaitBound))
        {
            MapInMap.BoundExpirations++;
        }
        MapInMap.TimeBlocked += Simulator.Now - start;
    }
}
