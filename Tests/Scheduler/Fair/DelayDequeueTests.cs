using BpfSim.Scheduler.Fair;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>DELAY_DEQUEUE and DELAY_ZERO (kernel/sched/fair.c dequeue_entity, requeue_delayed_entity, pick_next_entity).</summary>
public sealed class DelayDequeueTests
{
    private const long Ms = 1_000_000;

    /// <summary>Two hogs on one CPU; runs until the current one has used more than its share (lag &lt; 0).</summary>
    private static (FairTestCore Core, int Sleeper, int Other) OverrunningTask(FairFeatures? features = null)
    {
        var core = new FairTestCore(1, features: features);
        int a = core.Fork("a");
        int b = core.Fork("b");
        core.RunFor(10 * Ms);
        for (int i = 0; i < 40; i++)
        {
            core.RunFor(Ms / 5);
            core.Fair.UpdateCurr(0);
            if (!core.Fair.EntityEligible(0, core.Current(0)))
            {
                break;
            }
        }
        int sleeper = core.Current(0);
        Assert.That(core.Fair.EntityEligible(0, sleeper), Is.False, "the running task got ahead of V");
        return (core, sleeper, sleeper == a ? b : a);
    }

    [Test]
    public void SleepingTaskWithNegativeLag_StaysQueuedAsDelayed_UntilItIsEligibleAndPicked()
    {
        var (core, sleeper, other) = OverrunningTask();
        core.Sleep(sleeper);
        var p = core.Tasks[sleeper]; // a copy: read in Assert.Multiple
        Assert.Multiple(() =>
        {
            Assert.That(p.OnRq, Is.EqualTo(1), "dequeue_task returned false: still on the runqueue");
            Assert.That(p.Se.SchedDelayed, Is.EqualTo(1));
            Assert.That(core.Fair.NrDelayed(0), Is.EqualTo(1));
            Assert.That(core.Fair.NrRunning(0), Is.EqualTo(2));
            Assert.That(core.Current(0), Is.EqualTo(other));
        });
        int ticksBefore = core.TickLog.Count;
        core.RunFor(20 * Ms);
        Assert.Multiple(() =>
        {
            Assert.That(core.TickLog.Skip(ticksBefore).Any(l => l.Task == sleeper), Is.False, "a delayed task never runs");
            Assert.That(core.Tasks[sleeper].OnRq, Is.EqualTo(0), "picked once eligible, then dequeued and blocked");
            Assert.That(core.Tasks[sleeper].Se.SchedDelayed, Is.EqualTo(0));
            Assert.That(core.Fair.NrDelayed(0), Is.EqualTo(0));
            Assert.That(core.NrRunning(0), Is.EqualTo(1));
            Assert.That(core.Tasks[sleeper].Se.Vlag, Is.LessThanOrEqualTo(0), "DELAY_ZERO: no positive lag survives");
        });
    }

    [Test]
    public void DelayedTaskWokenBeforeItLeaves_IsRequeuedWhereItWas()
    {
        var (core, sleeper, _) = OverrunningTask();
        core.Sleep(sleeper);
        ulong v = core.Tasks[sleeper].Se.Vruntime, d = core.Tasks[sleeper].Se.Deadline;
        core.RunFor(Ms / 10);
        core.Wake(sleeper);
        var p = core.Tasks[sleeper]; // a copy: read in Assert.Multiple
        Assert.Multiple(() =>
        {
            Assert.That(p.Se.SchedDelayed, Is.EqualTo(0), "ENQUEUE_DELAYED: requeue_delayed_entity");
            Assert.That(p.OnRq, Is.EqualTo(1));
            Assert.That(core.Fair.NrDelayed(0), Is.EqualTo(0));
            Assert.That((p.Se.Vruntime, p.Se.Deadline), Is.EqualTo((v, d)), "negative lag: not re-placed (DELAY_ZERO only resets positive lag)");
        });
    }

    [Test]
    public void WithoutDelayDequeue_ASleepingTaskLeavesAtOnce()
    {
        var (core, sleeper, _) = OverrunningTask(FairFeatures.Default with { DelayDequeue = false });
        core.Sleep(sleeper);
        Assert.Multiple(() =>
        {
            Assert.That(core.Tasks[sleeper].OnRq, Is.EqualTo(0));
            Assert.That(core.Tasks[sleeper].Se.SchedDelayed, Is.EqualTo(0));
            Assert.That(core.Tasks[sleeper].Se.Vlag, Is.LessThan(0), "its negative lag is kept for its wake-up");
        });
    }

    [Test]
    public void DelayedTaskDequeuedAgainForSleep_LeavesForGood()
    {
        // do_exit of a sleeping, still delayed task: the core dequeues it with DEQUEUE_SLEEP; the class finishes the
        // delayed dequeue instead of delaying twice.
        var (core, sleeper, _) = OverrunningTask();
        core.Sleep(sleeper);
        Assert.That(core.Tasks[sleeper].Se.SchedDelayed, Is.EqualTo(1));
        core.DeactivateTask(0, ref core.Tasks[sleeper], BpfSim.Scheduler.Kernel.DequeueFlags.Sleep);
        Assert.Multiple(() =>
        {
            Assert.That(core.Tasks[sleeper].OnRq, Is.EqualTo(0));
            Assert.That(core.Tasks[sleeper].Se.SchedDelayed, Is.EqualTo(0));
            Assert.That(core.Fair.NrDelayed(0), Is.EqualTo(0));
            Assert.That(core.Fair.NrRunning(0), Is.EqualTo(1));
            Assert.That(core.Fair.QueuedCpu(sleeper), Is.EqualTo(-1));
        });
    }
}
