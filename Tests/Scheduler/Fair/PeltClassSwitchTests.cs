using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;
using BpfSim.Tests.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// A task forked while sched_ext runs every task is not fair's, yet post_init_entity_util_avg dates its average
/// (last_update_time = now): when it later switches to the fair class, the requeue only ages it and switched_to_fair
/// attaches it, once (fair.c, 6.12).
/// </summary>
public sealed class PeltClassSwitchTests
{
    [Test]
    public void TaskForkedUnderSchedExt_SwitchedToFair_IsAttachedOnce()
    {
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var kernel = new SchedKernel(sim, new CpuTopology(1), 1000, core => fair = new FairSchedClass(core));
        var ext = new FakeExtHooks(new FifoTestClass(1) { Core = kernel }) { Enabled = true, SwitchedAll = true };
        kernel.AttachExt(ext);
        int x = kernel.Fork("x", 0, kernel.Topology.Possible, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        sim.RunUntil(SimTime.FromMilliseconds(10));
        Assert.That(kernel.Current(0), Is.EqualTo(x), "x runs in the sched_ext stand-in");

        ext.Enabled = false;
        ext.SwitchedAll = false;
        kernel.SwitchClass(ref kernel.Tasks[x], fair!);
        var f = fair!;
        var task = f.TaskAvg(x);
        var cfs = f.CfsAvg(0);
        Assert.Multiple(() =>
        {
            Assert.That(task.LastUpdateTime, Is.EqualTo(cfs.LastUpdateTime), "attached: dated to its cfs_rq");
            // Aged from its fork with no load (it was never on a cfs_rq), load_avg 0: attach_entity_load_avg gives it a
            // load_sum of 1, and the cfs_rq's weighted sum takes weight × 1 — once.
            Assert.That(task.LoadSum, Is.EqualTo(1UL));
            Assert.That(cfs.LoadSum, Is.EqualTo(FairMath.ScaleLoadDown(kernel.Tasks[x].Se.Weight) * task.LoadSum), "attached once, not twice");
        });
    }
}
