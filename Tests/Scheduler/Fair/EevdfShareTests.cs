using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>EEVDF's proportional share, wakeup preemption, lag placement and new-task placement on one CPU.</summary>
public sealed class EevdfShareTests
{
    private const long Ms = 1_000_000;

    [Test]
    public void Nice0AndNice5Hogs_OnOneCpu_ShareIt1024To335()
    {
        var core = new FairTestCore(1);
        int a = core.Fork("nice0");
        int b = core.Fork("nice5", nice: 5);
        core.Run(10_000 * Ms);
        double ra = core.Tasks[a].Se.SumExecRuntime, rb = core.Tasks[b].Se.SumExecRuntime;
        Assert.That(ra + rb, Is.EqualTo(10_000.0 * Ms).Within(1 * Ms), "the CPU never idles with two hogs");
        Assert.That(ra / (ra + rb), Is.EqualTo(1024.0 / (1024 + 335)).Within(0.02));
        Assert.That(ra / rb, Is.EqualTo(1024.0 / 335).Within(1024.0 / 335 * 0.02));
    }

    [Test]
    public void EqualNiceHogs_OnOneCpu_ShareItEqually()
    {
        var core = new FairTestCore(1);
        int[] ids = [core.Fork("h0", 2), core.Fork("h1", 2), core.Fork("h2", 2)];
        core.Run(3_000 * Ms);
        foreach (int id in ids)
        {
            Assert.That((double)core.Tasks[id].Se.SumExecRuntime, Is.EqualTo(1_000.0 * Ms).Within(20.0 * Ms));
        }
    }

    /// <summary>A hog runs alone; a second task, asleep, is woken with a chosen lag (vlag kept across its sleep).</summary>
    private static (FairTestCore Core, int Hog, int Sleeper) HogAndSleeper(FairFeatures? features = null)
    {
        var core = new FairTestCore(1, features: features);
        int hog = core.Fork("hog");
        int sleeper = core.Fork("sleeper");
        for (int i = 0; i < 20 && core.Current(0) != sleeper; i++)
        {
            core.RunFor(Ms);
        }
        Assert.That(core.Current(0), Is.EqualTo(sleeper));
        core.Sleep(sleeper); // picked, so eligible: leaves at once (no DELAY_DEQUEUE)
        Assert.That(core.Tasks[sleeper].OnRq, Is.EqualTo(0));
        core.RunFor(10 * Ms + Ms / 2);
        Assert.That(core.Current(0), Is.EqualTo(hog));
        return (core, hog, sleeper);
    }

    [Test]
    public void WokenTaskWithEarlierEligibleDeadline_PreemptsTheRunningHog()
    {
        var (core, hog, sleeper) = HogAndSleeper();
        core.Tasks[sleeper].Se.Vlag = 2 * (long)Ms; // it slept owed 2 ms of service
        core.Wake(sleeper);
        Assert.That(core.Fair.EntityEligible(0, sleeper), Is.True);
        Assert.That((long)(core.Tasks[sleeper].Se.Deadline - core.Tasks[hog].Se.Deadline), Is.LessThan(0));
        Assert.That(core.NeedResched(0), Is.True, "check_preempt_wakeup_fair: pick_eevdf now returns the woken task");
        core.ScheduleAll();
        Assert.That(core.Current(0), Is.EqualTo(sleeper));
    }

    [Test]
    public void WokenTaskWithEarlierDeadline_DoesNotPreempt_WithoutWakeupPreemption()
    {
        var (core, _, sleeper) = HogAndSleeper(FairFeatures.Default with { WakeupPreemption = false });
        core.Tasks[sleeper].Se.Vlag = 2 * (long)Ms;
        core.Wake(sleeper);
        Assert.That(core.Fair.PickEevdf(0), Is.EqualTo(sleeper));
        Assert.That(core.NeedResched(0), Is.False);
    }

    [Test]
    public void WokenTaskThatIsNotEligible_DoesNotPreempt()
    {
        var (core, hog, sleeper) = HogAndSleeper();
        core.Tasks[sleeper].Se.Vlag = -2 * (long)Ms; // it overran before it slept
        core.Wake(sleeper);
        Assert.That(core.Fair.EntityEligible(0, sleeper), Is.False);
        Assert.That(core.NeedResched(0), Is.False);
        core.ScheduleAll();
        Assert.That(core.Current(0), Is.EqualTo(hog));
    }

    [Test]
    public void PlaceLag_TheLagSavedAtSleepIsTheLagAfterWakeup()
    {
        foreach (bool placeLag in new[] { true, false })
        {
            var core = new FairTestCore(1, features: FairFeatures.Default with { DelayDequeue = false, PlaceLag = placeLag });
            int[] ids = [core.Fork("a"), core.Fork("b", 3), core.Fork("c", -2)];
            core.Run(47 * Ms + 300_000);
            int sleeper = core.Current(0);
            core.RunFor(200_000);
            core.Sleep(sleeper);
            long saved = core.Tasks[sleeper].Se.Vlag;
            Assert.That(saved, Is.Not.EqualTo(0));
            core.RunFor(13 * Ms + 100_000);
            core.Wake(sleeper);
            long lagNow = (long)(core.Fair.AvgVruntime(0) - core.Tasks[sleeper].Se.Vruntime);
            if (placeLag)
            {
                // place_entity inflates the lag by (W + w) / W so that joining the average leaves exactly vlag.
                Assert.That(lagNow, Is.EqualTo(saved).Within(1), "PLACE_LAG keeps the lag across the sleep");
            }
            else
            {
                Assert.That(lagNow, Is.EqualTo(0).Within(1), "without PLACE_LAG a waking task starts at V");
            }
            Assert.That(ids, Does.Contain(sleeper));
        }
    }

    [Test]
    public void NewTask_IsPlacedAtTheAverageWithHalfASliceToItsDeadline()
    {
        var core = new FairTestCore(1);
        core.Fork("a");
        core.Fork("b", 4);
        core.Run(25 * Ms + 123_456);
        core.Fair.UpdateCurr(0); // charge the running task up to now, as enqueue_entity's update_curr will
        ulong v = core.Fair.AvgVruntime(0);
        int n = core.Fork("new", 5);
        ref var se = ref core.Tasks[n].Se;
        // A new task has vlag 0: vruntime = V; PLACE_DEADLINE_INITIAL: deadline = V + calc_delta_fair(slice) / 2.
        Assert.That(se.Vruntime, Is.EqualTo(v));
        ulong vslice = FairMath.CalcDeltaFair(core.Fair.BaseSliceNs, 335UL << 10, 12820798);
        Assert.That(se.Deadline - se.Vruntime, Is.EqualTo(vslice / 2));
        Assert.That(se.Slice, Is.EqualTo(700_000UL));
    }

    [Test]
    public void TickAfterTheRequestIsUsedUp_ReschedulesAndRenewsTheDeadline()
    {
        var core = new FairTestCore(1);
        int a = core.Fork("a");
        core.Fork("b");
        core.ScheduleAll();
        int first = core.Current(0);
        ulong deadline = core.Tasks[first].Se.Deadline;
        core.RunFor(Ms);
        // 1 ms of runtime at nice 0 is 1 ms of vruntime, past a 0.35 ms initial request: new deadline = v + 0.70 ms.
        ref var se = ref core.Tasks[first].Se;
        Assert.That(se.Deadline, Is.Not.EqualTo(deadline));
        Assert.That(core.Current(0), Is.Not.EqualTo(first), "update_deadline asked for a reschedule and the other task is eligible");
        Assert.That(a, Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void Yield_OfAnEligibleTask_ForfeitsTheRestOfItsRequest()
    {
        var core = new FairTestCore(1);
        core.Fork("a");
        core.Fork("b");
        core.ScheduleAll();
        int curr = core.Current(0); // just picked at V: lag 0, eligible
        ulong deadline = core.Tasks[curr].Se.Deadline;
        Assert.That(core.Fair.EntityEligible(0, curr), Is.True);
        core.Fair.YieldTask(0);
        ref var se = ref core.Tasks[curr].Se;
        Assert.That(se.Vruntime, Is.EqualTo(deadline), "yield_task_fair: vruntime = deadline");
        Assert.That(se.Deadline, Is.EqualTo(deadline + core.Fair.BaseSliceNs), "then a fresh request");
    }

    [Test]
    public void SchedIdleTask_GetsFarLessThanANormalHog()
    {
        var core = new FairTestCore(1);
        int normal = core.Fork("normal");
        int idle = core.Fork("idle", policy: BpfSim.Scheduler.Tasks.SchedPolicy.Idle);
        core.Run(2_000 * Ms);
        double share = (double)core.Tasks[idle].Se.SumExecRuntime / (core.Tasks[normal].Se.SumExecRuntime + core.Tasks[idle].Se.SumExecRuntime);
        Assert.That(share, Is.EqualTo(3.0 / 1027).Within(0.01), "WEIGHT_IDLEPRIO 3 against 1024");
    }

    [Test]
    public void Reweight_OfAQueuedTask_KeepsItsLagInRealTime()
    {
        var core = new FairTestCore(1);
        int a = core.Fork("a");
        int b = core.Fork("b");
        core.Run(10 * Ms + 400_000);
        int waiting = core.Current(0) == a ? b : a;
        core.Fair.UpdateCurr(0);
        ulong v = core.Fair.AvgVruntime(0);
        long lagBefore = (long)(v - core.Tasks[waiting].Se.Vruntime) * 1024; // lag × w (w scaled down: 1024)
        ref var p = ref core.Tasks[waiting];
        p.StaticPrio = p.Prio = p.NormalPrio = 120 + 5;
        FairMath.SetLoadWeight(ref p);
        core.Fair.ReweightTask(0, ref p);
        ulong v2 = core.Fair.AvgVruntime(0);
        long lagAfter = (long)(v2 - core.Tasks[waiting].Se.Vruntime) * 335;
        // reweight_eevdf: (V - v) × w is preserved (V itself does not move), up to the division's rounding.
        Assert.That(v2, Is.EqualTo(v).Within(1UL));
        Assert.That(lagAfter, Is.EqualTo(lagBefore).Within(2 * 1024));
        Assert.That(core.Tasks[waiting].Se.Weight, Is.EqualTo(335UL << 10));
    }
}
