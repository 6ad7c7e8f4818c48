using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// __schedule with the fair class alone (no sched_ext), through the real core: __pick_next_task's fast path into
/// pick_next_task_fair, and when need_resched is cleared (core.c, fair.c, 6.12).
/// </summary>
public sealed class FairPickNextTaskTests
{
    private const long Us = 1_000;

    /// <summary>Each task runs its set work once, then sleeps for a second; records whether a chosen task was delayed when another blocked.</summary>
    private sealed class RunOnce(SchedKernel kernel) : ITaskWorkDriver
    {
        public int Watch { get; set; } = -1;
        public int WhenBlocks { get; set; } = -1;
        public bool WatchedWasDelayed { get; private set; }

        public void WorkDone(int task, int cpu)
        {
            if (task == WhenBlocks && Watch >= 0)
            {
                WatchedWasDelayed = kernel.Tasks[Watch].Se.SchedDelayed != 0;
            }
            kernel.Block(task);
        }
    }

    private static (SchedKernel Kernel, RunOnce Driver) Make(int cpus)
    {
        // NI_RANDOM off: these pin pick_next_task_fair's order, not how often a newidle balance runs.
        var kernel = new SchedKernel(new Simulator(), new CpuTopology(cpus), 1000,
            core => new FairSchedClass(core, FairFeatures.Default with { NiRandom = false }));
        var driver = new RunOnce(kernel);
        kernel.Driver = driver;
        return (kernel, driver);
    }

    private static int Fork(SchedKernel kernel, string name, long work, in Cpumask cpus) =>
        kernel.Fork(name, 0, cpus, SchedPolicy.Normal, work, new LogLinearHistogram());

    /// <summary>
    /// CPU 0: a runs 0.5 ms while b waits, so it blocks with negative lag and DELAY_DEQUEUE keeps it queued; b runs
    /// 0.1 ms and blocks. CPU 0's runqueue then holds only the delayed a, while CPU 1 has two hogs, one waiting.
    /// pick_next_task_fair (fair.c) picks first: pick_task_fair dequeues the delayed a, finds nothing, and only then
    /// sched_balance_newidle pulls the waiting hog — at once, not at a later nohz kick or wake-up.
    /// </summary>
    [Test]
    public void NewidleBalance_PullsWhenOnlyDelayedTasksRemain()
    {
        var (kernel, driver) = Make(2);
        int x = Fork(kernel, "x", SchedKernel.InfiniteWork, Cpumask.Of(1));
        int y = Fork(kernel, "y", SchedKernel.InfiniteWork, Cpumask.Of(1));
        kernel.SetCpusAllowed(x, Cpumask.Of(0, 1));
        kernel.SetCpusAllowed(y, Cpumask.Of(0, 1));
        int a = Fork(kernel, "a", 500 * Us, Cpumask.Of(0));
        int b = Fork(kernel, "b", 100 * Us, Cpumask.Of(0));
        driver.Watch = a;
        driver.WhenBlocks = b;

        kernel.Simulator.RunUntil(new SimTime(650 * Us));

        Assert.Multiple(() =>
        {
            Assert.That(driver.WatchedWasDelayed, Is.True, "premise: a was still queued, delayed, when b blocked");
            Assert.That(kernel.Tasks[a].Se.SchedDelayed, Is.EqualTo(0), "the pick finished a's dequeue");
            Assert.That(kernel.Current(0), Is.AnyOf(x, y), "CPU 0 pulled the waiting hog as soon as it had nothing to run");
            Assert.That(kernel.Current(1), Is.AnyOf(x, y));
        });
    }

    /// <summary>
    /// a runs past its first deadline (half a slice, PLACE_DEADLINE_INITIAL) before any tick notices, then blocks:
    /// dequeue_entity's update_curr starts a new request and, b being queued, calls resched_curr inside __schedule.
    /// __schedule clears TIF_NEED_RESCHED only after pick_next_task (core.c), so b starts without a pending resched.
    /// </summary>
    [Test]
    public void Schedule_ClearsNeedReschedAfterThePick()
    {
        var (kernel, _) = Make(1);
        int a = Fork(kernel, "a", 500 * Us, Cpumask.Of(0));
        int b = Fork(kernel, "b", SchedKernel.InfiniteWork, Cpumask.Of(0));
        var sim = kernel.Simulator;
        while (kernel.Current(0) != b && sim.Now < new SimTime(900 * Us))
        {
            sim.Step();
        }
        Assert.Multiple(() =>
        {
            Assert.That(kernel.Current(0), Is.EqualTo(b), "a blocked and b was picked before the first tick");
            Assert.That(sim.Now, Is.EqualTo(new SimTime(500 * Us)));
            Assert.That(kernel.Tasks[a].OnCpu, Is.EqualTo(0));
            Assert.That(kernel.NeedResched(0), Is.False, "the resched raised while blocking a was cleared with prev's flag");
        });
    }
}
