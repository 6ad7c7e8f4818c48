using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// The kernel turns the simulator's prefetch hints on once it holds many tasks (their records no longer fit the
/// caches); the hints are asked about events that may not come, with any argument, and must change nothing.
/// </summary>
public sealed class SchedPrefetchTests
{
    private static KernelRig Run(int tasks, bool forceHintsOff)
    {
        var rig = new KernelRig(4) { RunNs = 300_000, SleepNs = 2_000_000 };
        for (int i = 0; i < tasks; i++)
        {
            rig.Fork(workNs: 300_000);
        }
        if (forceHintsOff)
        {
            rig.Sim.PrefetchHints = false;
        }
        rig.Sim.RunUntil(SimTime.FromMilliseconds(60));
        return rig;
    }

    [Test]
    public void ManyTasks_TurnTheHintsOn_AndTheScheduleIsTheSameWithout()
    {
        Assert.That(Run(1000, forceHintsOff: false).Sim.PrefetchHints, Is.False, "a thousand tasks fit the caches");
        var hinted = Run(1100, forceHintsOff: false);
        var plain = Run(1100, forceHintsOff: true);
        Assert.That(hinted.Sim.PrefetchHints, Is.True);
        Assert.That(hinted.Log, Has.Count.GreaterThan(1000), "tasks ran");
        Assert.That(hinted.Log, Is.EqualTo(plain.Log));
    }

    [Test]
    public void AnyKindArgumentAndDistance_ThrowsNothing()
    {
        var rig = Run(20, forceHintsOff: false);
        var prefetcher = (IEventPrefetcher)rig.Kernel;
        var random = new Random(12);
        for (int i = 0; i < 2000; i++)
        {
            int kind = random.Next(-1, 8), distance = random.Next(0, IEventPrefetcher.Distances + 2);
            long arg = i % 2 == 0 ? random.Next(-3, 40) : random.NextInt64(long.MinValue, long.MaxValue);
            Assert.DoesNotThrow(() => prefetcher.Prefetch(kind, arg, distance));
        }
    }
}
