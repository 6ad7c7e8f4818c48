using BpfSim.Core.Cpus;
using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Core.Cpus;

[Category("Core")]
public sealed class RcuTests
{
    private static readonly SimTime Tick = SimTime.FromMilliseconds(4);

    private static (Simulator, Rcu) Make(int cpus = 4)
    {
        var sim = new Simulator();
        return (sim, new Rcu(sim, new CpuSet(cpus), new RcuOptions { TickPeriod = Tick, StallTimeout = SimTime.FromSeconds(1) }));
    }

    [Test]
    public void Synchronize_NoReaders_StartsAtNextTickEndsAtTheOneAfter()
    {
        var (sim, rcu) = Make();
        sim.RunUntil(SimTime.FromMilliseconds(1));
        var waited = rcu.Synchronize();
        Assert.That(sim.Now, Is.EqualTo(SimTime.FromMilliseconds(8)));
        Assert.That(waited, Is.EqualTo(SimTime.FromMilliseconds(7)));
        Assert.That(rcu.CompletedGracePeriods, Is.EqualTo(1));
        Assert.That(rcu.TimeInGracePeriods, Is.EqualTo(Tick));
    }

    [Test]
    public void Synchronize_WaitsForReaderThatStartedBefore()
    {
        var (sim, rcu) = Make();
        rcu.ReadLock(2);
        sim.Schedule(SimTime.FromMilliseconds(10), () => rcu.ReadUnlock(2));
        rcu.Synchronize();
        // The reader left at 10 ms; the next tick notices.
        Assert.That(sim.Now, Is.EqualTo(SimTime.FromMilliseconds(12)));
    }

    [Test]
    public void ReaderStartedAfterGracePeriodBegan_DoesNotDelayIt()
    {
        var (sim, rcu) = Make();
        sim.Schedule(SimTime.FromMilliseconds(5), () => rcu.ReadLock(1));
        rcu.Synchronize();
        Assert.That(sim.Now, Is.EqualTo(SimTime.FromMilliseconds(8)));
        Assert.That(rcu.IsReading(1), Is.True);
    }

    [Test]
    public void ReaderStartedBeforeGracePeriodStarted_DelaysIt()
    {
        var (sim, rcu) = Make();
        sim.Schedule(SimTime.FromMilliseconds(1), () => rcu.ReadLock(1));
        sim.Schedule(SimTime.FromMilliseconds(13), () => rcu.ReadUnlock(1));
        rcu.Synchronize();
        Assert.That(sim.Now, Is.EqualTo(SimTime.FromMilliseconds(16)));
    }

    [Test]
    public void CallRcu_RunsAfterGracePeriodNotBefore()
    {
        var (sim, rcu) = Make();
        rcu.ReadLock(0);
        SimTime? ranAt = null;
        rcu.CallRcu(() => ranAt = sim.Now);
        sim.RunUntil(SimTime.FromMilliseconds(20));
        Assert.That(ranAt, Is.Null, "a reader that began before call_rcu still runs");
        rcu.ReadUnlock(0);
        sim.RunUntil(SimTime.FromMilliseconds(30));
        Assert.That(ranAt, Is.EqualTo(SimTime.FromMilliseconds(24)), "noticed at the first tick after the reader left");
    }

    [Test]
    public void CallRcu_DuringGracePeriod_WaitsForTheNextOne()
    {
        var (sim, rcu) = Make();
        var order = new List<string>();
        rcu.CallRcu(() => order.Add($"first@{sim.Now}"));
        sim.Schedule(SimTime.FromMilliseconds(2), () => rcu.CallRcu(() => order.Add($"same@{sim.Now}")));
        sim.Schedule(SimTime.FromMilliseconds(5), () => rcu.CallRcu(() => order.Add($"next@{sim.Now}")));
        sim.RunUntil(SimTime.FromMilliseconds(50));
        Assert.That(order, Is.EqualTo(new[] { "first@8ms", "same@8ms", "next@12ms" }),
            "a request before the grace period starts shares it; one during it waits for the next");
        Assert.That(rcu.CompletedGracePeriods, Is.EqualTo(2));
    }

    [Test]
    public void Synchronize_ReaderNeverLeaves_ThrowsStallNamingCpu()
    {
        var (_, rcu) = Make();
        rcu.ReadLock(3);
        var e = Assert.Throws<RcuStallException>(() => rcu.Synchronize());
        Assert.That(e!.StalledCpus, Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void ReadUnlockWithoutLock_Throws()
    {
        var (_, rcu) = Make();
        Assert.Throws<InvalidOperationException>(() => rcu.ReadUnlock(0));
    }

    [Test]
    public void NestedReadSections_EndAtOutermostUnlock()
    {
        var (sim, rcu) = Make();
        rcu.ReadLock(0);
        rcu.ReadLock(0);
        sim.Schedule(SimTime.FromMilliseconds(5), () => rcu.ReadUnlock(0));
        sim.Schedule(SimTime.FromMilliseconds(9), () => rcu.ReadUnlock(0));
        rcu.Synchronize();
        Assert.That(sim.Now, Is.EqualTo(SimTime.FromMilliseconds(12)));
    }

    [Test]
    public void PerCpu_CurrentFollowsTheRunningCpu()
    {
        var cpus = new CpuSet(2);
        var counters = new PerCpu<int>(cpus);
        Assert.Throws<InvalidOperationException>(() => counters.Current++);
        cpus.Swap(1);
        counters.Current += 5;
        Assert.That(counters.All.ToArray(), Is.EqualTo(new[] { 0, 5 }));
    }
}
