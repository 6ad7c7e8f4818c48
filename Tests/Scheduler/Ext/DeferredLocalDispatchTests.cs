using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Metrics;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;
using BpfSim.Tests.Scheduler.Hotplug;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>A scheduler whose ops.enqueue sends wake-ups of one task to another CPU's local DSQ (SCX_DSQ_LOCAL_ON).</summary>
[StructOps(SchedExtOpsType.TypeName, Name = "ddsplon", Link = true)]
internal sealed class LocalOnWakeups : SchedExtOpsProgram
{
    public int Pid { get; set; } = -1;
    public int TargetCpu { get; init; }

    /// <summary>Also every enqueue of a task with this comm (a fork's first enqueue has no SCX_ENQ_WAKEUP).</summary>
    public string? Comm { get; init; }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        bool redirect = (p.Pid == Pid && (enqFlags & ScxEnqFlags.Wakeup) != 0) || p.CommString == Comm;
        ulong dsq = redirect ? ScxConsts.DsqLocalOn | (uint)TargetCpu : ScxConsts.DsqGlobal;
        Scx.Dispatch(ref p, dsq, Scx.SliceDfl, enqFlags);
    }
}

/// <summary>
/// direct_dispatch's deferred remote local dispatches (rq->scx.ddsp_deferred_locals, kernel/sched/ext.c 6.12): a
/// wake-up's are run by task_woken_scx, which ttwu_do_activate calls right after activate_task and wakeup_preempt,
/// under the same rq lock; so a waker that then blocks finds the task wherever process_ddsp_deferred_locals put it
/// (here the global DSQ: dispatch_to_local_dsq's fallback when the target CPU is offline).
/// </summary>
public sealed class DeferredLocalDispatchTests
{
    /// <summary>The waker wakes its partner and blocks in the same step, as a ping-pong pair does.</summary>
    private sealed class WakeThenBlock(SchedKernel kernel, int waker) : ITaskWorkDriver
    {
        public int Partner { get; set; } = -1;
        public long PartnerDoneAt { get; private set; } = -1;

        public void WorkDone(int task, int cpu)
        {
            if (task == waker)
            {
                kernel.WakeUp(Partner, WakeFlags.None, wakerCpu: cpu);
                kernel.Block(task);
                return;
            }
            if (task == Partner)
            {
                PartnerDoneAt = kernel.NowNs;
            }
            kernel.Block(task);
        }
    }

    /// <summary>The parent forks a child and blocks in the same step.</summary>
    private sealed class ForkThenBlock(SchedKernel kernel, int parent) : ITaskWorkDriver
    {
        public int Child { get; private set; } = -1;
        public long ChildDoneAt { get; private set; } = -1;

        public void WorkDone(int task, int cpu)
        {
            if (task == parent)
            {
                Child = kernel.Fork("child", 0, Cpumask.Of(0, 1), SchedPolicy.Normal, 500_000, new LogLinearHistogram(), parentCpu: cpu);
            }
            else if (task == Child)
            {
                ChildDoneAt = kernel.NowNs;
            }
            kernel.Block(task);
        }
    }

    [Test]
    public void ForkedTaskFallingBackToTheGlobalDsq_IsThereBeforeTheParentBlocks_SoTheParentsCpuRunsIt()
    {
        var rig = new HotplugRig(2) { SleepNs = 1_000_000_000_000 };
        rig.Offline(1);
        rig.Load(new LocalOnWakeups { TargetCpu = 1, Comm = "child" });
        int parent = rig.Kernel.Fork("parent", 0, Cpumask.Of(0, 1), SchedPolicy.Normal, 1_000_000, new LogLinearHistogram());
        var driver = new ForkThenBlock(rig.Kernel, parent);
        rig.Kernel.Driver = driver;
        rig.RunMs(1.2);
        // wake_up_new_task (core.c) calls task_woken_scx after wakeup_preempt too: the child's LOCAL_ON CPU 1 verdict
        // falls back to the global DSQ before the parent's schedule(), which then runs it on CPU 0.
        Assert.Multiple(() =>
        {
            Assert.That(rig.Exits, Is.Empty);
            Assert.That(driver.Child, Is.GreaterThanOrEqualTo(0));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(driver.Child), "CPU 0 runs the child, not idle with it in the global DSQ");
        });
        rig.RunMs(1);
        Assert.That(driver.ChildDoneAt, Is.EqualTo(1_500_000), "the child ran its 0.5 ms from the fork on");
    }

    [Test]
    public void WokenTaskFallingBackToTheGlobalDsq_IsThereBeforeTheWakerBlocks_SoTheWakersCpuRunsIt()
    {
        var rig = new HotplugRig(2) { SleepNs = 1_000_000_000_000 };
        rig.Offline(1);
        var sched = new LocalOnWakeups { TargetCpu = 1 };
        rig.Load(sched);
        var both = Cpumask.Of(0, 1);
        // The partner first runs with no work, so it blocks at once; the waker runs 1 ms, then wakes it and blocks.
        int partner = rig.Kernel.Fork("partner", 0, both, SchedPolicy.Normal, 0, new LogLinearHistogram());
        rig.RunMs(1);
        Assert.That(rig.Task(partner).State, Is.EqualTo((uint)TaskState.Interruptible), "the partner sleeps");
        sched.Pid = rig.Task(partner).Pid;
        int waker = rig.Kernel.Fork("waker", 0, both, SchedPolicy.Normal, 1_000_000, new LogLinearHistogram());
        var driver = new WakeThenBlock(rig.Kernel, waker) { Partner = partner };
        rig.Kernel.Driver = driver;
        long wakeAt = rig.Kernel.NowNs + 1_000_000;
        rig.Kernel.SetWork(partner, 500_000);
        rig.RunMs(1.2);
        // ops.select_cpu (prev_cpu) puts the partner on CPU 0, ops.enqueue says LOCAL_ON CPU 1: deferred on rq 0's
        // ddsp_deferred_locals, run by task_woken_scx before the waker's schedule(), where CPU 1 being offline sends
        // the partner to the global DSQ; the waker's schedule() then consumes it, so it runs on CPU 0 at once.
        Assert.Multiple(() =>
        {
            Assert.That(rig.Exits, Is.Empty);
            Assert.That(rig.Task(waker).State, Is.EqualTo((uint)TaskState.Interruptible), "the waker blocked");
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(partner), "CPU 0 runs the partner, not idle with it in the global DSQ");
            Assert.That(rig.Ext.Dsqs.DsqOf(partner), Is.Not.EqualTo(rig.Ext.Dsqs.Global(0)));
        });
        rig.RunMs(1);
        Assert.That(driver.PartnerDoneAt, Is.EqualTo(wakeAt + 500_000), "the partner ran its 0.5 ms from the wake-up on");
    }
}
