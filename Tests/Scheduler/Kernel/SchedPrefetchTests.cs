using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// The kernel leaves the simulator's prefetch hints off, however many tasks it holds (they no longer pay; see
/// SchedKernel.Prefetch.cs); turned on by a caller, they must change nothing.
/// </summary>
public sealed class SchedPrefetchTests
{
    private static KernelRig Run(int tasks, bool hintsOn)
    {
        var rig = new KernelRig(4) { RunNs = 300_000, SleepNs = 2_000_000 };
        for (int i = 0; i < tasks; i++)
        {
            rig.Fork(workNs: 300_000);
        }
        rig.Sim.PrefetchHints = hintsOn;
        rig.Sim.RunUntil(SimTime.FromMilliseconds(60));
        return rig;
    }

    [Test]
    public void ManyTasks_LeaveTheHintsOff_AndTurnedOnTheScheduleIsTheSame()
    {
        var rig = new KernelRig(4);
        for (int i = 0; i < 1100; i++)
        {
            rig.Fork(workNs: 300_000);
        }
        Assert.That(rig.Sim.PrefetchHints, Is.False, "the scheduler leaves the hints off: they no longer pay");
        var hinted = Run(1100, hintsOn: true);
        var plain = Run(1100, hintsOn: false);
        Assert.That(hinted.Log, Has.Count.GreaterThan(1000), "tasks ran");
        Assert.That(hinted.Log, Is.EqualTo(plain.Log));
    }
}
