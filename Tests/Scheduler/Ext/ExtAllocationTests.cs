using BpfSim.Programs.Sched;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>Scheduling through the ext class and a C# scheduler allocates nothing once warm.</summary>
public class ExtAllocationTests
{
    [Test]
    public void ScxSimple_SteadyState_AllocatesNothing()
    {
        var rig = new ExtRig(cpus: 4) { RunNs = 700_000, SleepNs = 1_300_000 };
        for (int i = 0; i < 4; i++)
        {
            rig.Fork(comm: $"hog{i}");
        }
        for (int i = 0; i < 8; i++)
        {
            rig.Fork(comm: $"w{i}", workNs: 700_000);
        }
        rig.LoadOk(new ScxSimple());
        rig.RunMs(500);
        long switches = rig.Kernel.Metrics.Switches;
        long allocated = SteadyState.AllocatedBytes(() => rig.RunMs(500));
        Assert.That(rig.Kernel.Metrics.Switches - switches, Is.GreaterThan(1000));
        Assert.That(allocated, Is.Zero);
    }
}
