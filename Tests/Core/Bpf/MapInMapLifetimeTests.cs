using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Simulation;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// A replaced inner map lives while programs may hold it: its id goes at once, its memory only after a grace period
/// and after its last fd closes (bpf_map_fd_put_ptr with need_defer; maybe_wait_bpf_programs).
/// </summary>
[Category("Core")]
public sealed class MapInMapLifetimeTests
{
    private static (BpfSystem bpf, int outer, int first, BpfMap firstMap) Setup(InnerMapReplaceWait wait)
    {
        var bpf = NewSystem(wait: wait);
        int first = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);
        int outer = Create(bpf, MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 1, innerFd: first);
        bpf.MapUpdateElem(outer, U32(0), U32((uint)first)).ThrowIfFailed();
        var firstMap = Live(bpf, first);
        bpf.Close(first);
        return (bpf, outer, first, firstMap);
    }

    private static void Swap(BpfSystem bpf, int outer)
    {
        int next = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);
        bpf.MapUpdateElem(outer, U32(0), U32((uint)next)).ThrowIfFailed();
        bpf.Close(next);
    }

    [Test]
    public void Replace_DefaultMode_ReturnsOnlyAfterAGracePeriod()
    {
        var (bpf, outer, _, old) = Setup(InnerMapReplaceWait.SynchronizeRcu);
        long gps = bpf.Rcu.CompletedGracePeriods;
        var before = bpf.Simulator.Now;
        Swap(bpf, outer);
        Assert.That(bpf.Rcu.CompletedGracePeriods, Is.GreaterThan(gps));
        Assert.That(bpf.Simulator.Now, Is.GreaterThan(before));
        Assert.That(old.IsFreed, Is.True, "nothing held the old map, so it is gone when the update returns");
    }

    [Test]
    public void Replace_DefaultMode_WaitsForProgramHoldingOldInnerMap()
    {
        var (bpf, outer, _, old) = Setup(InnerMapReplaceWait.SynchronizeRcu);
        var program = bpf.EnterProgram(1);
        var held = Live(bpf, outer).LookupInner(U32(0));
        program.Pause();
        bpf.Simulator.Schedule(SimTime.FromMilliseconds(30), () =>
        {
            program.Resume();
            Assert.That(held!.Lookup(U32(0)).Length, Is.EqualTo(8), "the old map is still usable by its reader");
            program.Dispose();
        });
        Swap(bpf, outer);
        Assert.That(bpf.Simulator.Now, Is.GreaterThanOrEqualTo(SimTime.FromMilliseconds(30)),
            "the update returned only after the reader left");
        Assert.That(old.IsFreed, Is.True);
    }

    [Test]
    public void ReplacedInnerMap_IdGoesAtOnce_MemoryAfterGracePeriod()
    {
        var (bpf, outer, _, old) = Setup(InnerMapReplaceWait.BatchSynchronize);
        var program = bpf.EnterProgram(2);
        Live(bpf, outer).LookupInner(U32(0));
        program.Pause();
        Swap(bpf, outer);
        Assert.That(bpf.Objects.TryGet(BpfObjectKind.Map, old.Id, out _), Is.False, "bpf_map_free_id runs at refcnt 0");
        Assert.That(old.IsFreed, Is.False, "a program may still hold it");
        bpf.Simulator.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(old.IsFreed, Is.False, "the grace period cannot end while the reader runs");
        program.Dispose();
        bpf.Simulator.RunUntil(SimTime.FromMilliseconds(110));
        Assert.That(old.IsFreed, Is.True);
    }

    [Test]
    public void ReplacedInnerMap_WithOpenFd_LivesUntilTheFdCloses()
    {
        var bpf = NewSystem(wait: InnerMapReplaceWait.SynchronizeRcu);
        int first = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);
        int outer = Create(bpf, MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 1, innerFd: first);
        bpf.MapUpdateElem(outer, U32(0), U32((uint)first)).ThrowIfFailed();
        var firstMap = Live(bpf, first);
        Swap(bpf, outer);
        bpf.Simulator.RunUntil(SimTime.FromSeconds(1));
        Assert.That(firstMap.IsFreed, Is.False);
        Assert.That((firstMap.RefCount, firstMap.UserCount), Is.EqualTo((1L, 1L)));
        bpf.Close(first);
        Assert.That(bpf.Objects.TryGet(BpfObjectKind.Map, firstMap.Id, out _), Is.False);
        Assert.That(firstMap.IsFreed, Is.False, "free_after_rcu_gp, set when the outer map let go, still applies");
        bpf.Simulator.RunUntil(SimTime.FromSeconds(2));
        Assert.That(firstMap.IsFreed, Is.True);
    }

    [Test]
    public void Delete_FromOuterMap_DefersFreeLikeReplace()
    {
        var (bpf, outer, _, old) = Setup(InnerMapReplaceWait.BatchSynchronize);
        var program = bpf.EnterProgram(0);
        Live(bpf, outer).LookupInner(U32(0));
        program.Pause();
        bpf.MapDeleteElem(outer, U32(0)).ThrowIfFailed();
        bpf.Simulator.RunUntil(SimTime.FromMilliseconds(50));
        Assert.That(old.IsFreed, Is.False);
        program.Dispose();
        Assert.That(bpf.Synchronize().IsOk);
        Assert.That(old.IsFreed, Is.True);
    }

    [Test]
    public void ClosingOuterMap_ReleasesItsInnerMaps()
    {
        var (bpf, outer, _, inner) = Setup(InnerMapReplaceWait.SynchronizeRcu);
        var outerMap = Live(bpf, outer);
        bpf.Close(outer);
        Assert.That(outerMap.IsFreed, Is.True);
        Assert.That(inner.IsFreed, Is.True);
        Assert.That(bpf.Objects.Count(BpfObjectKind.Map), Is.Zero);
    }
}
