using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Ext;

public class ScxSimpleTests
{
    /// <summary>
    /// Two nice-0 and two nice-5 hogs on one CPU: the vtime order gives each nice-0 task 1024:335 of a nice-5 one
    /// (scx_simple charges 100/weight with weight = sched_weight_to_cgroup: 100 and 33).
    /// </summary>
    [Test]
    public void Nice0AndNice5Hogs_GetWeightShares_UnderVtime()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork(nice: 0, comm: "hog0a");
        int b = rig.Fork(nice: 5, comm: "hog5a");
        int c = rig.Fork(nice: 0, comm: "hog0b");
        int d = rig.Fork(nice: 5, comm: "hog5b");
        rig.LoadOk(new ScxSimple());
        Assert.That(rig.ClassOf(a), Is.EqualTo("ext"));
        rig.RunMs(1_000);
        rig.Kernel.UpdateAccounting();
        long[] start = [rig.Kernel.Metrics.Runtime(a), rig.Kernel.Metrics.Runtime(b), rig.Kernel.Metrics.Runtime(c), rig.Kernel.Metrics.Runtime(d)];
        rig.RunMs(60_000);
        rig.Kernel.UpdateAccounting();
        double ra = rig.Kernel.Metrics.Runtime(a) - start[0] + rig.Kernel.Metrics.Runtime(c) - start[2];
        double rb = rig.Kernel.Metrics.Runtime(b) - start[1] + rig.Kernel.Metrics.Runtime(d) - start[3];
        Assert.That(ra / rb, Is.EqualTo(1024.0 / 335.0).Within(2).Percent, $"nice0={ra} nice5={rb}");
        Assert.That(rig.Exits, Is.Empty);
    }

    /// <summary>
    /// Two hogs alone on one CPU alternate slice by slice whatever their weights, as in the kernel: balance runs
    /// before put_prev_task, so ops.dispatch consumes the only queued task (the other one) before prev is enqueued.
    /// </summary>
    [Test]
    public void TwoHogsOnOneCpu_Alternate_BecauseBalanceRunsBeforePutPrev()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork(nice: 0);
        int b = rig.Fork(nice: 5);
        rig.LoadOk(new ScxSimple());
        rig.RunMs(10_000);
        rig.Kernel.UpdateAccounting();
        double ra = rig.Kernel.Metrics.Runtime(a), rb = rig.Kernel.Metrics.Runtime(b);
        Assert.That(ra / rb, Is.EqualTo(1.0).Within(1).Percent);
    }

    [Test]
    public void FifoSched_SharesRoundRobinBySlices()
    {
        var rig = new ExtRig(cpus: 1);
        var a = rig.Fork(nice: 0);
        var b = rig.Fork(nice: 5);
        rig.LoadOk(new ScxSimple { FifoSched = true });
        rig.RunMs(10_000);
        rig.Kernel.UpdateAccounting();
        double ra = rig.Kernel.Metrics.Runtime(a), rb = rig.Kernel.Metrics.Runtime(b);
        Assert.That(ra / rb, Is.EqualTo(1.0).Within(2).Percent);
    }

    [Test]
    public void SecondScheduler_IsEbusy()
    {
        var rig = new ExtRig(cpus: 2);
        rig.Fork();
        rig.LoadOk(new ScxSimple());
        var r = rig.Load(new ScxSimple(), out _);
        Assert.That(r.Errno, Is.EqualTo(BpfSim.Core.Bpf.Errno.EBUSY));
    }
}
