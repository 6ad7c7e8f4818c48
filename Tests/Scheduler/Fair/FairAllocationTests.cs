using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>The fair class under the real core allocates nothing per scheduling event once warm.</summary>
public sealed class FairAllocationTests
{
    /// <summary>Tasks that run a burst, sleep, and wake again (a timer), with a few hogs among them.</summary>
    private sealed class SleepWakeDriver(Simulator sim, SchedKernel kernel) : ITaskWorkDriver, IEventHandler
    {
        private HandlerId _handler;

        public void Register() => _handler = sim.Register(this);

        public void WorkDone(int task, int cpu)
        {
            kernel.Block(task);
            sim.Schedule(sim.Now + new SimTime(200_000 + task * 3_001), _handler, 0, task);
        }

        public void OnEvent(int kind, long arg)
        {
            int task = (int)arg;
            kernel.SetWork(task, 150_000 + task * 1_009);
            kernel.WakeUp(task, task % 3 == 0 ? WakeFlags.Sync : WakeFlags.None, wakerCpu: task % kernel.NrCpus);
        }
    }

    [Test]
    public void SteadyState_FairClassAllocatesNothingPerSchedulingEvent()
    {
        var sim = new Simulator();
        var kernel = new SchedKernel(sim, new CpuTopology(8, smt: true, nodes: 2), 1000, core => new FairSchedClass(core));
        var driver = new SleepWakeDriver(sim, kernel);
        driver.Register();
        kernel.Driver = driver;
        for (int i = 0; i < 48; i++)
        {
            kernel.Fork($"t{i}", i % 7 - 3, kernel.Topology.Possible, SchedPolicy.Normal, 100_000 + i * 7_919, new LogLinearHistogram());
        }
        for (int i = 0; i < 6; i++)
        {
            kernel.Fork($"hog{i}", i - 2, kernel.Topology.Possible, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        }
        sim.RunUntil(SimTime.FromMilliseconds(200)); // warm up: arrays at their steady size
        long events = long.MaxValue;
        // The fewest bytes of up to three windows (SteadyState): a tier-up may allocate once, per-event work every time.
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            long at = kernel.SchedEvents;
            sim.RunUntil(sim.Now + SimTime.FromMilliseconds(500));
            events = Math.Min(events, kernel.SchedEvents - at);
        });
        Assert.That(events, Is.GreaterThan(25_000));
        Assert.That((double)allocated / events, Is.LessThan(0.01), $"{allocated} bytes over {events} scheduling events");
    }
}
