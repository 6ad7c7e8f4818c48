using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Scheduler.Kernel;

public sealed class SchedKernelAllocationTests
{
    [Test]
    public void SteadyState_AllocatesNothingPerSchedulingEvent()
    {
        var rig = new KernelRig(8, sliceTicks: 2) { Logging = false, RunNs = 300_000, SleepNs = 500_000 };
        for (int i = 0; i < 64; i++)
        {
            rig.Fork(workNs: 100_000 + i * 7_919);
        }
        for (int i = 0; i < 4; i++)
        {
            rig.Fork(); // hogs, preempted by the tick
        }
        rig.RunFor(SimTime.FromMilliseconds(200)); // warm up: queues and arrays at their steady size
        long events = long.MaxValue;
        // The fewest bytes of up to three windows (SteadyState): a tier-up may allocate once (7,008 bytes, about one run
        // in eight), per-event work every time. What allocates in only some windows (a rare doubling) passes.
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            long at = rig.Kernel.SchedEvents;
            rig.RunFor(SimTime.FromSeconds(1));
            events = Math.Min(events, rig.Kernel.SchedEvents - at);
        });
        Assert.That(events, Is.GreaterThan(50_000));
        Assert.That((double)allocated / events, Is.LessThan(0.01), $"{allocated} bytes over {events} scheduling events");
    }
}
