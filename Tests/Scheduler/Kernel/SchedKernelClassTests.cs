using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>The core with two classes: the class order, cross-class preemption, the ext hooks' call sites.</summary>
public sealed class SchedKernelClassTests
{
    private static (KernelRig Rig, FakeExtHooks Ext) Rig(int cpus = 1)
    {
        var rig = new KernelRig(cpus);
        var ext = new FakeExtHooks(new FifoTestClass(cpus) { Core = rig.Kernel });
        rig.Kernel.AttachExt(ext);
        return (rig, ext);
    }

    private static int ForkExt(KernelRig rig, long work = SchedKernel.InfiniteWork) =>
        rig.Kernel.Fork("ext", 0, rig.Kernel.Topology.Possible, SchedPolicy.Ext, work, new LogLinearHistogram());

    [Test]
    public void FairTaskWaking_PreemptsAnExtTask_AndExtRunsOnlyWhenFairIsEmpty()
    {
        var (rig, ext) = Rig();
        rig.RunNs = 1_000_000;
        rig.SleepNs = 4_000_000;
        int e = ForkExt(rig);
        rig.RunFor(SimTime.FromMilliseconds(2));
        Assert.That(rig.Kernel.Current(0), Is.EqualTo(e));
        int f = rig.Fork(workNs: 1_000_000);
        Assert.That(rig.Kernel.NeedResched(0), Is.True, "a higher class's wakeup reschedules the lower class's task");
        rig.RunFor(new SimTime(1));
        Assert.That(rig.Kernel.Current(0), Is.EqualTo(f));
        rig.RunFor(SimTime.FromMilliseconds(100));
        rig.Kernel.Finish();
        var m = rig.Kernel.Metrics;
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.ClassOf(rig.Kernel.Tasks[e]), Is.SameAs(ext.Class));
            Assert.That(m.Runtime(f), Is.EqualTo(20_000_000).Within(1_000_000), "fair runs 1 ms every 5 ms, first");
            Assert.That(m.Runtime(e) + m.Runtime(f), Is.EqualTo(rig.Sim.Now.Nanoseconds), "ext fills the rest");
            Assert.That(m.InvoluntarySwitches(e), Is.EqualTo(m.TaskWakeups(f) + 1).Within(1), "preempted at every fair wakeup");
            Assert.That(ext.Fifo.WakeupPreempts, Is.Zero, "a different class: no wakeup_preempt call");
        });
    }

    [Test]
    public void ExtDisabled_ExtPolicyTasksRunInFair_AndSwitchedAllSkipsFair()
    {
        var (rig, ext) = Rig();
        ext.Enabled = false;
        int e = ForkExt(rig);
        Assert.That(rig.Kernel.ClassIndexOf(e), Is.EqualTo(SchedKernel.FairClass), "task_should_scx only when enabled");
        rig.RunFor(SimTime.FromMilliseconds(1));
        ext.Enabled = true;
        ext.SwitchedAll = true;
        rig.Kernel.SwitchClass(ref rig.Kernel.Tasks[e], ext.Class);
        rig.RunFor(SimTime.FromMilliseconds(1));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.ClassIndexOf(e), Is.EqualTo(SchedKernel.ExtClass));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(e), "switched while running, still running");
            Assert.That(rig.Kernel.NrRunning(0), Is.EqualTo(1));
        });
    }

    [Test]
    public void Fork_FailingInitTask_FailsTheForkWithItsErrno()
    {
        var (rig, ext) = Rig();
        ext.ForkResult = -12;
        int r = ForkExt(rig);
        Assert.Multiple(() =>
        {
            Assert.That(r, Is.EqualTo(-12));
            Assert.That(ext.PostForks, Is.Zero);
            Assert.That(rig.Kernel.NrRunning(0), Is.Zero);
            Assert.That(rig.Kernel.Tasks[rig.Kernel.Tasks.Count - 1].State, Is.EqualTo((uint)TaskState.Dead));
        });
    }

    [Test]
    public void ExtHooks_AreCalledWhereCoreAndIdleCallThem()
    {
        var (rig, ext) = Rig();
        rig.SleepNs = -1;
        int t = ForkExt(rig, work: 3_500_000);
        rig.RunFor(SimTime.FromMilliseconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(ext.Forks, Is.EqualTo(1));
            Assert.That(ext.PostForks, Is.EqualTo(1));
            Assert.That(ext.Ticks, Is.EqualTo(3), "ticks at 1, 2, 3 ms while it ran");
            Assert.That(ext.Freed, Is.EqualTo(new[] { t }), "sched_ext_free after the exit");
            Assert.That(ext.IdleCalls, Is.EqualTo(new[] { (0, false), (0, true) }), "idle left at the first switch, entered at the exit");
        });
    }

    [Test]
    public void CanStopTick_OnANonNohzFullCpu_TheTickRuns()
    {
        // tick_nohz_full_update_tick (tick-sched.c): a CPU not booted nohz_full keeps its tick whatever
        // sched_can_stop_tick says.
        var (rig, ext) = Rig();
        ext.StopTick = true;
        ForkExt(rig);
        rig.RunFor(SimTime.FromMilliseconds(10));
        Assert.That(rig.Kernel.Metrics.CpuTicks(0), Is.EqualTo(10));
        Assert.That(rig.Kernel.TickRunning(0), Is.True);
    }

    [Test]
    public void CanStopTick_StopsTheBusyCpusTick_OnANohzFullCpu()
    {
        var (rig, ext) = Rig();
        rig.Kernel.NohzFull = Cpumask.Of(0);
        ext.StopTick = true;
        ForkExt(rig);
        rig.RunFor(SimTime.FromMilliseconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Metrics.CpuTicks(0), Is.Zero, "asked at the switch: the tick never starts");
            Assert.That(rig.Kernel.TickRunning(0), Is.False);
        });
        ext.StopTick = false;
        ForkExt(rig); // a second runnable task: the core re-evaluates and restarts the tick
        rig.RunFor(SimTime.FromMilliseconds(10));
        Assert.That(rig.Kernel.Metrics.CpuTicks(0), Is.GreaterThan(5));
    }

    /// <summary>Two CPUs, CPU 1 nohz_full: a hog pinned there (returned) and one pinned to CPU 0.</summary>
    private static (KernelRig Rig, int Task) LoneTaskOnNohzFullCpu1()
    {
        var rig = new KernelRig(2);
        rig.Kernel.NohzFull = Cpumask.Of(1);
        int t = rig.Fork(cpus: Cpumask.Of(1));
        rig.Fork(cpus: Cpumask.Of(0));
        return (rig, t);
    }

    /// <summary>
    /// sched_can_stop_tick (core.c) on a nohz_full CPU: one queued task of a class without forced preemption (here the
    /// test FIFO class, like SCHED_FIFO) needs no tick; sched_tick_remote then runs its task_tick once a second from a
    /// housekeeping CPU (the first remote tick one second after the CPU came up), and nothing else ticks it.
    /// </summary>
    [Test]
    public void NohzFullCpu_LoneTask_TicklessWithAOneHertzRemoteTick()
    {
        var (rig, t) = LoneTaskOnNohzFullCpu1();
        rig.RunFor(SimTime.FromMilliseconds(3500));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Current(1), Is.EqualTo(t));
            Assert.That(rig.Kernel.TickRunning(1), Is.False);
            Assert.That(rig.Kernel.Metrics.CpuTicks(1), Is.Zero, "no local tick on the tickless CPU");
            Assert.That(rig.Kernel.RemoteTicks, Is.EqualTo(3), "at 1, 2 and 3 s");
            Assert.That(rig.Kernel.Metrics.CpuTicks(0), Is.EqualTo(3500), "the housekeeping CPU ticks every jiffy");
        });
    }

    /// <summary>
    /// sched_tick_stop / sched_tick_start (core.c) around hotplug: CPU 1 goes offline at 0.5 s (OFFLINING), so the
    /// remote tick queued for 1 s runs once more, finds it offline and stops (OFFLINE); back online at 1.5 s, a new
    /// one is queued a second later, at 2.5 s — not at 2 s in the old phase.
    /// </summary>
    [Test]
    public void NohzFullCpu_RemoteTick_RestartsOneSecondAfterTheCpuComesBack()
    {
        var (rig, t) = LoneTaskOnNohzFullCpu1();
        rig.RunFor(SimTime.FromMilliseconds(500));
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        rig.RunFor(SimTime.FromMilliseconds(1000));
        Assert.That(rig.Kernel.SetCpuOnline(1, true), Is.Zero);
        Assert.That(rig.Kernel.SetCpusAllowed(t, Cpumask.Of(1)), Is.Zero);
        rig.RunFor(SimTime.FromMilliseconds(700));
        Assert.That(rig.Kernel.Current(1), Is.EqualTo(t));
        Assert.That(rig.Kernel.RemoteTicks, Is.Zero, "none at 1 s (offline) nor at 2 s");
        rig.RunFor(SimTime.FromMilliseconds(400));
        Assert.That(rig.Kernel.RemoteTicks, Is.EqualTo(1), "at 2.5 s");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void PrevBalance_FromPrevsClassDown_StartingAtExtWhenEnabled(bool enabled)
    {
        var (rig, ext) = Rig();
        ext.Enabled = enabled;
        rig.SleepNs = -1;
        rig.Fork(workNs: 1_000_000);
        rig.RunFor(new SimTime(1));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Fifo.Balances, Is.Zero, "prev was idle: fair is above where balancing starts");
            Assert.That(ext.Fifo.Balances, Is.EqualTo(enabled ? 1 : 0), "ext is balanced from idle only when enabled");
        });
        rig.RunFor(SimTime.FromMilliseconds(2));
        Assert.Multiple(() =>
        {
            Assert.That(rig.Fifo.Balances, Is.EqualTo(1), "prev was fair at its exit: fair balanced");
            Assert.That(ext.Fifo.Balances, Is.EqualTo(enabled ? 2 : 0), "then ext, as fair found nothing");
        });
    }
}
