using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// The replaced-inner-map question made measurable: what each wait strategy costs for K swaps, and that none
/// of them lets user space believe an old inner map is unused while a program holds it.
/// </summary>
[Category("Core")]
public sealed class InnerMapWaitTests
{
    [TestCase(1)]
    [TestCase(10)]
    [TestCase(100)]
    public void SwapCost_PerUpdateWaitsKGracePeriods_BatchOne_ProgramRefsNone(int k)
    {
        var perUpdate = InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Swaps = k, Wait = InnerMapReplaceWait.SynchronizeRcu });
        var batch = InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Swaps = k, Wait = InnerMapReplaceWait.BatchSynchronize });
        var refs = InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Swaps = k, Wait = InnerMapReplaceWait.ProgramReferences });
        TestContext.Out.WriteLine($"K={k}: per-update {perUpdate.GracePeriods} GPs {perUpdate.SwapTimeMs} ms; " +
                                  $"batch {batch.GracePeriods} GPs {batch.SwapTimeMs} ms; prog-refs {refs.GracePeriods} GPs {refs.SwapTimeMs} ms");

        Assert.That(perUpdate.GracePeriods, Is.EqualTo(k));
        Assert.That(batch.GracePeriods, Is.EqualTo(1));
        Assert.That(refs.GracePeriods, Is.Zero);
        // Each synchronize_rcu waits for a grace period to start at a 4 ms tick and end at the next: up to 8 ms.
        // Programs hold the map for at most 20 us per invocation, so they rarely stretch it.
        Assert.That(perUpdate.SwapTimeMs, Is.GreaterThan((k - 1) * 7.9).And.LessThanOrEqualTo(k * 8.0 + 0.1));
        Assert.That(batch.SwapTimeMs, Is.LessThanOrEqualTo(8.1));
        Assert.That(refs.SwapTimeMs, Is.LessThan(0.02 * k + 0.02));
        foreach (var r in new[] { perUpdate, batch, refs })
        {
            Assert.That(r.UnsafeReturns, Is.Zero, $"{r.Wait}");
            Assert.That(r.BoundExpirations, Is.Zero, $"{r.Wait}");
            Assert.That(r.MapsLeaked, Is.Zero, $"{r.Wait}");
            Assert.That(r.MapsFreed, Is.EqualTo(k + 2), $"{r.Wait}: every inner map plus the outer map");
        }
    }

    [Test]
    public void SwapExperiment_SameSeed_IdenticalResults()
    {
        var a = InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Seed = 5, Swaps = 10 });
        var b = InnerMapSwapExperiment.Run(new InnerMapSwapOptions { Seed = 5, Swaps = 10 });
        Assert.That(a, Is.EqualTo(b));
    }

    [Test]
    public void ProgramReferences_WaitsOnlyForTheHoldingProgram()
    {
        var bpf = NewSystem(wait: InnerMapReplaceWait.ProgramReferences);
        int first = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);
        int outer = Create(bpf, MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 1, innerFd: first);
        bpf.MapUpdateElem(outer, U32(0), U32((uint)first)).ThrowIfFailed();
        int unrelated = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);

        // A program on CPU 0 holds the outer map for 2 ms; one on CPU 1 reads only an unrelated map for 8 ms.
        var holder = bpf.EnterProgram(0);
        Live(bpf, outer).LookupInner(U32(0));
        holder.Pause();
        var bystander = bpf.EnterProgram(1);
        Live(bpf, unrelated).Lookup(U32(0));
        bystander.Pause();
        bpf.Simulator.Schedule(SimTime.FromMilliseconds(2), () => holder.Dispose());
        bpf.Simulator.Schedule(SimTime.FromMilliseconds(8), () => bystander.Dispose());

        long gps = bpf.Rcu.CompletedGracePeriods;
        bpf.MapUpdateElem(outer, U32(0), U32((uint)Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1))).ThrowIfFailed();
        Assert.That(bpf.Simulator.Now, Is.EqualTo(SimTime.FromMilliseconds(2)));
        Assert.That(bpf.Rcu.CompletedGracePeriods, Is.EqualTo(gps), "no grace period was waited for");
    }

    [Test]
    public void ProgramReferences_BoundExpires_ReturnsAtBoundAndOldMapStillSafe()
    {
        var bpf = new BpfSystem(new BpfSystemOptions
        {
            Cpus = 2, InnerMapWait = InnerMapReplaceWait.ProgramReferences, ProgramRefWaitBound = SimTime.FromMilliseconds(10),
        });
        int first = Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1);
        int outer = Create(bpf, MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 1, innerFd: first);
        bpf.MapUpdateElem(outer, U32(0), U32((uint)first)).ThrowIfFailed();
        var old = Live(bpf, first);
        bpf.Close(first);
        var program = bpf.EnterProgram(1);
        var held = Live(bpf, outer).LookupInner(U32(0))!;
        program.Pause();
        bpf.Simulator.Schedule(SimTime.FromMilliseconds(50), () =>
        {
            program.Resume();
            held.Lookup(U32(0)); // throws if the map had been freed under the program
            program.Dispose();
        });

        bpf.MapUpdateElem(outer, U32(0), U32((uint)Create(bpf, MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1))).ThrowIfFailed();
        Assert.That(bpf.Simulator.Now, Is.EqualTo(SimTime.FromMilliseconds(10)));
        Assert.That(bpf.MapInMap.BoundExpirations, Is.EqualTo(1));
        Assert.That(old.IsFreed, Is.False);
        bpf.Simulator.RunUntil(SimTime.FromMilliseconds(100));
        Assert.That(old.IsFreed, Is.True, "freed by the deferred RCU callback once the reader left");
    }

    [Test]
    public void Synchronize_IsTheProposedBatchCommand_OneGracePeriod()
    {
        var bpf = NewSystem(wait: InnerMapReplaceWait.BatchSynchronize);
        long before = bpf.Rcu.CompletedGracePeriods;
        Assert.That(bpf.Synchronize().IsOk);
        Assert.That(bpf.Rcu.CompletedGracePeriods, Is.EqualTo(before + 1));
        Assert.That(bpf.MapInMap.GracePeriodsWaited, Is.EqualTo(1));
    }
}
