using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// A class change finishes a delayed dequeue first (core.c __sched_setscheduler and ext.c's enable/disable paths call
/// dequeue with DEQUEUE_DELAYED before switching): a fair task that went to sleep with negative lag is still on the
/// runqueue as delayed, and must not reach the new class as if it were runnable.
/// </summary>
public sealed class SwitchClassDelayedTests
{
    /// <summary>b works in 0.1 ms steps and sleeps as soon as it is no longer eligible (it ran ahead of the average).</summary>
    private sealed class SleepWhenAhead(SchedKernel kernel, FairSchedClass fair, int sleeper) : ITaskWorkDriver
    {
        public bool Blocked { get; private set; }

        public void WorkDone(int task, int cpu)
        {
            fair.UpdateCurr(cpu);
            if (task == sleeper && !fair.EntityEligible(cpu, task))
            {
                kernel.Block(task);
                Blocked = true;
                return;
            }
            kernel.SetWork(task, 100_000);
        }
    }

    [Test]
    public void SwitchClass_OfADelayedSleeper_FinishesTheDequeue_AndTheNewClassDoesNotGetIt()
    {
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var kernel = new SchedKernel(sim, new CpuTopology(1), 1000, core => fair = new FairSchedClass(core));
        var ext = new FakeExtHooks(new FifoTestClass(1) { Core = kernel }) { Enabled = false };
        kernel.AttachExt(ext);
        int a = kernel.Fork("a", 0, kernel.Topology.Possible, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        int b = kernel.Fork("b", 0, kernel.Topology.Possible, SchedPolicy.Normal, 100_000, new LogLinearHistogram());
        var driver = new SleepWhenAhead(kernel, fair!, b);
        kernel.Driver = driver;
        while (!driver.Blocked && sim.Now < SimTime.FromMilliseconds(50))
        {
            sim.Step();
        }
        Assert.That(driver.Blocked, Is.True, $"b blocked by {sim.Now}");
        Assert.That(kernel.Tasks[b].Se.SchedDelayed, Is.EqualTo(1), "b slept with negative lag: DELAY_DEQUEUE kept it queued");

        ext.Enabled = true;
        ext.SwitchedAll = true;
        kernel.SwitchClass(ref kernel.Tasks[b], ext.Class);
        sim.RunUntil(SimTime.FromMilliseconds(60));
        Assert.Multiple(() =>
        {
            Assert.That(kernel.Tasks[b].Se.SchedDelayed, Is.EqualTo(0), "the delayed dequeue was finished");
            Assert.That(kernel.Tasks[b].OnRq, Is.EqualTo(0), "b is asleep, in no runqueue");
            Assert.That(kernel.NrRunning(0), Is.EqualTo(1), "only a is runnable");
            Assert.That(kernel.Current(0), Is.EqualTo(a), "the ext class never ran the sleeper");
        });
    }
}
