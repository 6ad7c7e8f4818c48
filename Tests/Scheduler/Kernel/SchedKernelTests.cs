using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

public sealed class SchedKernelTests
{
    private static readonly SimTime Ms = SimTime.FromMilliseconds(1);

    [Test]
    public void WakeSleepCycle_GoesRunningSleepingRunning()
    {
        var rig = new KernelRig(1);
        int t = rig.Fork(workNs: 2_000_000);
        var p = rig.Kernel.Tasks[t];
        Assert.Multiple(() =>
        {
            Assert.That(p.State, Is.EqualTo((uint)TaskState.Running), "forked: TASK_RUNNING");
            Assert.That(p.OnRq, Is.EqualTo(1));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(-1), "not yet switched in: resched is deferred");
            Assert.That(rig.Kernel.NeedResched(0), Is.True, "the idle CPU was told to reschedule");
        });
        rig.RunFor(Ms);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(t));
            Assert.That(rig.Kernel.Tasks[t].OnCpu, Is.EqualTo(1));
        });
        rig.Sim.RunUntil(new SimTime(2_500_000));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Tasks[t].State, Is.EqualTo((uint)TaskState.Interruptible), "slept after its 2 ms");
            Assert.That(rig.Kernel.Tasks[t].OnRq, Is.EqualTo(0));
            Assert.That(rig.Kernel.Tasks[t].OnCpu, Is.EqualTo(0));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(-1));
            Assert.That(rig.Kernel.NrRunning(0), Is.EqualTo(0));
            Assert.That(rig.Kernel.TickRunning(0), Is.False, "NO_HZ idle");
        });
        rig.Sim.RunUntil(new SimTime(5_500_000));
        rig.Kernel.UpdateAccounting();
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Tasks[t].State, Is.EqualTo((uint)TaskState.Running), "woken at 5 ms");
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(t));
            Assert.That(rig.Kernel.Metrics.TaskWakeups(t), Is.EqualTo(1));
            Assert.That(rig.Kernel.Metrics.VoluntarySwitches(t), Is.EqualTo(1));
            Assert.That(rig.Kernel.Metrics.Runtime(t), Is.EqualTo(2_500_000), "2 ms, then 0.5 ms since 5 ms");
            Assert.That(rig.Log.Select(l => (l.Time, l.What)), Is.EqualTo(new[] { (2_000_000L, "done"), (5_000_000L, "woken") }));
        });
    }

    [TestCase(1000)]
    [TestCase(250)]
    [TestCase(100)]
    public void TickCount_IsHzTimesBusySeconds(int hz)
    {
        var rig = new KernelRig(2, hz);
        // Bursts out of phase with the jiffies (a burst starting exactly at a jiffy boundary misses that tick:
        // the tick restarts at the next boundary after an idle exit, as tick_nohz_restart does).
        rig.RunNs = 1_733_271;
        rig.SleepNs = 1_311_913;
        rig.Fork(workNs: 1_733_271, cpus: Cpumask.Of(0)); // busy about 1.73 of every 3.05 ms on CPU 0
        rig.Fork(cpus: Cpumask.Of(1));                    // CPU-bound on CPU 1
        rig.Sim.RunUntil(SimTime.FromSeconds(2));
        rig.Kernel.Finish();
        var m = rig.Kernel.Metrics;
        double busy0 = m.CpuBusy(0) / 1e9, busy1 = m.CpuBusy(1) / 1e9;
        Assert.Multiple(() =>
        {
            Assert.That(busy0, Is.EqualTo(2 * 1.733271 / 3.045184).Within(0.01));
            Assert.That(busy1, Is.EqualTo(2.0).Within(1e-9));
            Assert.That(m.CpuTicks(1), Is.EqualTo(hz * 2).Within(1), "a tick every jiffy while busy");
            Assert.That(m.CpuTicks(0), Is.EqualTo(hz * busy0).Within(hz * busy0 * 0.03 + 1), "no tick while idle");
        });
    }

    [Test]
    public void NiceToWeight_IsTheKernelsTable()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SchedPrio.WeightOfNice(0), Is.EqualTo(1024));
            Assert.That(SchedPrio.WeightOfNice(5), Is.EqualTo(335));
            Assert.That(SchedPrio.WeightOfNice(-20), Is.EqualTo(88761));
            Assert.That(SchedPrio.WeightOfNice(19), Is.EqualTo(15));
            Assert.That(SchedPrio.WmultOfNice(0), Is.EqualTo(4194304u), "2^32 / 1024");
            Assert.That(SchedPrio.WmultOfNice(19), Is.EqualTo(286331153u));
        });
        var rig = new KernelRig(1);
        var p = rig.Kernel.Tasks[rig.Fork(nice: 5)];
        Assert.Multiple(() =>
        {
            Assert.That(p.Se.Weight, Is.EqualTo(335UL << 10), "scale_load on 64-bit");
            Assert.That(p.Se.InvWeight, Is.EqualTo(12820798u));
            Assert.That(p.Scx.Weight, Is.EqualTo(33u), "sched_weight_to_cgroup: round(335 × 100 / 1024)");
            Assert.That(p.StaticPrio, Is.EqualTo(125));
        });
        Assert.Multiple(() =>
        {
            Assert.That(SchedPrio.WeightToCgroup(1024), Is.EqualTo(100u));
            Assert.That(SchedPrio.WeightToCgroup(88761), Is.EqualTo(8668u));
            Assert.That(SchedPrio.WeightToCgroup(15), Is.EqualTo(1u));
        });
    }

    [Test]
    public void WakeupOnAnotherCpu_CountsAMigration()
    {
        var rig = new KernelRig(2);
        rig.Fork(cpus: Cpumask.Of(0)); // a hog keeps CPU 0 loaded
        int t = rig.Fork(workNs: 1_000_000, cpus: Cpumask.Of(0));
        rig.RunFor(SimTime.FromMilliseconds(10));
        Assert.That(rig.Kernel.Metrics.TaskMigrations(t), Is.Zero);
        var both = Cpumask.Of(0, 1);
        rig.Kernel.SetCpusAllowed(t, both);
        rig.RunFor(SimTime.FromMilliseconds(20));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Metrics.TaskMigrations(t), Is.EqualTo(1), "woken onto the idle CPU 1 once, stays there");
            Assert.That(rig.Kernel.Tasks[t].Cpu, Is.EqualTo(1));
        });
    }

    [Test]
    public void SetCpusAllowed_MovesAQueuedTaskAndARunningOneAfterItStops()
    {
        var rig = new KernelRig(4);
        int a = rig.Fork(cpus: Cpumask.Of(0));
        int b = rig.Fork(cpus: Cpumask.Of(0));
        rig.RunFor(Ms);
        int running = rig.Kernel.Current(0), queued = running == a ? b : a;
        rig.Kernel.SetCpusAllowed(queued, Cpumask.Of(2));
        Assert.That(rig.Kernel.Tasks[queued].Cpu, Is.EqualTo(2), "a queued task moves at once");
        rig.Kernel.SetCpusAllowed(running, Cpumask.Of(3));
        Assert.That(rig.Kernel.Tasks[running].Cpu, Is.EqualTo(0), "a running task moves when switched out");
        rig.RunFor(Ms);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Current(3), Is.EqualTo(running));
            Assert.That(rig.Kernel.Current(2), Is.EqualTo(queued));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(-1));
            Assert.That(rig.Kernel.Metrics.TaskMigrations(running) + rig.Kernel.Metrics.TaskMigrations(queued), Is.EqualTo(2));
        });
    }

    [Test]
    public void Affinity_TasksRunOnlyOnTheirCpus()
    {
        var rig = new KernelRig(4, timelineLimit: 100_000);
        rig.RunNs = 300_000;
        rig.SleepNs = 700_000;
        var mask = Cpumask.Of(1, 2);
        for (int i = 0; i < 6; i++)
        {
            rig.Fork(workNs: 300_000, cpus: mask);
        }
        rig.RunFor(SimTime.FromMilliseconds(200));
        rig.Kernel.Finish();
        var segs = rig.Kernel.Metrics.Timeline.Where(s => s.Task >= 0).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(segs, Is.Not.Empty);
            Assert.That(segs.Select(s => s.Cpu).Distinct().Order(), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(rig.Kernel.Metrics.CpuBusy(0) + rig.Kernel.Metrics.CpuBusy(3), Is.Zero);
        });
    }

    [Test]
    public void TwoHogsOnOneCpu_PreemptedByTheTick_SplitEvenly()
    {
        var rig = new KernelRig(1, sliceTicks: 3);
        int a = rig.Fork();
        int b = rig.Fork();
        rig.RunFor(SimTime.FromSeconds(1));
        rig.Kernel.Finish();
        var m = rig.Kernel.Metrics;
        Assert.Multiple(() =>
        {
            Assert.That(m.Runtime(a) + m.Runtime(b), Is.EqualTo(1_000_000_000L));
            Assert.That(m.Runtime(a), Is.EqualTo(500_000_000L).Within(3_000_000));
            Assert.That(m.InvoluntarySwitches(a), Is.EqualTo(1000 / 3 / 2).Within(2), "preempted every 3 ticks, alternating");
            Assert.That(m.VoluntarySwitches(a), Is.Zero);
            Assert.That(m.Waits(a).Count, Is.EqualTo(m.InvoluntarySwitches(a)).Within(1), "a wait after each preemption");
            Assert.That(m.Waits(b).Max, Is.EqualTo(3_000_000L), "waits a whole 3-tick slice");
        });
    }

    [Test]
    public void Exit_OfARunningTask_SwitchesToTheNextAndEndsIt()
    {
        var rig = new KernelRig(1);
        rig.SleepNs = -1;
        int a = rig.Fork(workNs: 1_000_000);
        int b = rig.Fork(workNs: 1_000_000);
        rig.RunFor(SimTime.FromMilliseconds(5));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Tasks[a].State, Is.EqualTo((uint)TaskState.Dead));
            Assert.That(rig.Kernel.Tasks[b].State, Is.EqualTo((uint)TaskState.Dead));
            Assert.That(rig.Kernel.Tasks[a].Flags & (uint)TaskFlags.Exiting, Is.Not.Zero);
            Assert.That(rig.Kernel.NrRunning(0), Is.Zero);
            Assert.That(rig.Kernel.Metrics.Runtime(a) + rig.Kernel.Metrics.Runtime(b), Is.EqualTo(2_000_000L));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(-1));
        });
    }

    [Test]
    public void Exit_OfAQueuedTask_DequeuesIt()
    {
        var rig = new KernelRig(1);
        int a = rig.Fork();
        int b = rig.Fork();
        rig.RunFor(Ms);
        int queued = rig.Kernel.Current(0) == a ? b : a;
        rig.Kernel.Exit(queued);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.NrRunning(0), Is.EqualTo(1));
            Assert.That(rig.Kernel.Tasks[queued].OnRq, Is.Zero);
            Assert.That(rig.Kernel.WakeUp(queued), Is.False, "a dead task is not woken");
        });
    }

    [Test]
    public void WakeupOntoABusyCpuOfTheSameClass_AsksTheClass()
    {
        var rig = new KernelRig(1);
        rig.Fork();
        int t = rig.Fork(workNs: 100_000);
        rig.RunFor(SimTime.FromMilliseconds(50));
        Assert.That(rig.Fifo.WakeupPreempts, Is.GreaterThan(0), "wakeup_preempt of the class, not an unconditional resched");
        Assert.That(rig.Kernel.Metrics.TaskWakeups(t), Is.GreaterThan(0));
    }

    /// <summary>
    /// jiffies count whole TICK_NSEC (10⁹ / HZ, truncated) since boot, at every HZ: the constant-divisor arms for the
    /// usual HZ and the general division for the rest agree with that definition at seeded random times.
    /// </summary>
    [TestCase(1000)]
    [TestCase(250)]
    [TestCase(100)]
    [TestCase(300)]
    [TestCase(1024)]
    public void Jiffies_CountWholeTicksSinceBoot(int hz)
    {
        var sim = new Simulator();
        var kernel = new SchedKernel(sim, new CpuTopology(1), hz, core => new BpfSim.Scheduler.Fair.FairSchedClass(core));
        long tickNs = 1_000_000_000L / hz;
        var random = new SimRandom((ulong)hz);
        long t = 0;
        for (int i = 0; i < 500; i++)
        {
            // Steps of up to two ticks, and now and then a time on a tick boundary or just before one.
            t += i % 50 == 7 ? tickNs - t % tickNs : i % 50 == 8 ? tickNs - 1 : 1 + random.Next((int)(2 * tickNs));
            sim.RunUntil(new SimTime(t));
            Assert.That(kernel.Jiffies, Is.EqualTo((ulong)(t / tickNs)), $"HZ {hz} at {t} ns");
        }
    }
}
