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

    /// <summary>
    /// a runs 5 ms, sleeps 1 ms and then runs for good; b works in 0.1 ms steps and, once a is back, sleeps as soon as
    /// it is no longer eligible.
    /// </summary>
    private sealed class SleepAfterA(SchedKernel kernel, FairSchedClass fair, Simulator sim, int a, int b) : ITaskWorkDriver, IEventHandler
    {
        private bool _aSlept;

        public HandlerId Self { get; set; }
        public bool AWoken { get; private set; }
        public bool Blocked { get; private set; }

        public void WorkDone(int task, int cpu)
        {
            if (task == a && !_aSlept)
            {
                _aSlept = true;
                kernel.Block(a);
                sim.Schedule(sim.Now + SimTime.FromMilliseconds(1), Self, 0, a);
                return;
            }
            fair.UpdateCurr(cpu);
            if (task == b && AWoken && !fair.EntityEligible(cpu, b))
            {
                kernel.Block(b);
                Blocked = true;
                return;
            }
            kernel.SetWork(task, 100_000);
        }

        public void OnEvent(int kind, long arg)
        {
            AWoken = true;
            kernel.SetWork(a, SchedKernel.InfiniteWork);
            kernel.WakeUp(a);
        }
    }

    [Test]
    public void SwitchClass_OfADelayedSleeper_TakesItsUtilEstOffTheCfsRqASecondTime()
    {
        // dequeue_task_fair (6.12) skips util_est_dequeue for a delayed task only when it is migrating or dequeued with
        // DEQUEUE_SAVE; a class change finishes the delayed dequeue with DEQUEUE_SLEEP | DEQUEUE_DELAYED, so the
        // estimate the delaying sleep already took off the cfs_rq's sum comes off again (clamped at 0).
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var kernel = new SchedKernel(sim, new CpuTopology(1), 1000, core => fair = new FairSchedClass(core));
        var ext = new FakeExtHooks(new FifoTestClass(1) { Core = kernel }) { Enabled = false };
        kernel.AttachExt(ext);
        int a = kernel.Fork("a", 0, kernel.Topology.Possible, SchedPolicy.Normal, 5_000_000, new LogLinearHistogram());
        int b = kernel.Fork("b", 0, kernel.Topology.Possible, SchedPolicy.Normal, 100_000, new LogLinearHistogram());
        var driver = new SleepAfterA(kernel, fair!, sim, a, b);
        driver.Self = sim.Register(driver);
        kernel.Driver = driver;
        while (!driver.Blocked && sim.Now < SimTime.FromMilliseconds(100))
        {
            sim.Step();
        }
        uint before = fair!.CfsAvg(0).UtilEst;
        uint estB = fair.TaskAvg(b).UtilEst & ~Pelt.UtilAvgUnchanged;
        Assert.Multiple(() =>
        {
            Assert.That(driver.Blocked, Is.True, $"b blocked by {sim.Now}");
            Assert.That(kernel.Tasks[b].Se.SchedDelayed, Is.EqualTo(1), "b slept with negative lag: DELAY_DEQUEUE kept it queued");
            Assert.That(before, Is.GreaterThan(0u), "a's estimate (from its sleep) is on the cfs_rq");
            Assert.That(estB, Is.GreaterThan(0u), "b's estimate was set at the sleep that delayed it");
        });

        ext.Enabled = true;
        ext.SwitchedAll = true;
        kernel.SwitchClass(ref kernel.Tasks[b], ext.Class);
        Assert.That(fair.CfsAvg(0).UtilEst, Is.EqualTo(before - Math.Min(before, estB)));
    }
}
