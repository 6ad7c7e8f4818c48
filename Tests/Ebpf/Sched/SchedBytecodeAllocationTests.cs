namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>Scheduling through the bytecode trampolines allocates nothing once warm (issue #12: no allocation per scheduling event).</summary>
public sealed class SchedBytecodeAllocationTests
{
    [Test]
    public void ScxSimpleObject_SteadyState_AllocatesNothingPerEvent()
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(Programs.BpfObjects.PathOf("scx_simple")).IsOk);
        rig.RunMs(500);
        long events = rig.Kernel.SchedEvents;
        long runs = rig.Object.Programs.Values.Sum(p => p.RunCount);
        long before = GC.GetAllocatedBytesForCurrentThread();
        rig.RunMs(500);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long ran = rig.Object.Programs.Values.Sum(p => p.RunCount) - runs;
        TestContext.Out.WriteLine($"{allocated} bytes over {rig.Kernel.SchedEvents - events} events and {ran} program runs");
        Assert.That(ran, Is.GreaterThan(200));
        Assert.That(allocated, Is.LessThan(ran), "less than a byte per program run: nothing per call");
    }
}
