using BpfSim.Core.Bpf.Maps;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Tests.Scheduler.Ext;

namespace BpfSim.Tests.Programs.Sched;

public class ScxQmapTests
{
    [Test]
    public void WeightBandedQueues_InAnArrayOfMaps_ScheduleEveryHog()
    {
        var rig = new ExtRig(cpus: 2);
        var hogs = new[] { -20, -5, 0, 5, 19 }.Select(n => rig.Fork(nice: n, comm: $"n{n}")).ToArray();
        var q = new ScxQmap();
        rig.LoadOk(q);
        rig.RunMs(2_000);
        rig.Kernel.UpdateAccounting();
        Assert.That(q.ExitInfo, Is.Null, q.ExitInfo?.Message);
        Assert.That(q.NrEnqueued, Is.GreaterThan(50UL));
        Assert.That(q.NrDispatched, Is.GreaterThan(50UL));
        foreach (int h in hogs)
        {
            Assert.That(rig.Kernel.Metrics.Runtime(h), Is.GreaterThan(100_000_000), rig.Task(h).CommString);
        }
        var maps = rig.Bpf.Objects.All(BpfSim.Core.Bpf.BpfObjectKind.Map).OfType<BpfMap>().Select(m => (m.Name, m.Type)).ToList();
        Assert.That(maps, Has.Member(("queue_arr", MapType.ArrayOfMaps)));
        Assert.That(maps.Count(m => m.Type == MapType.Queue), Is.EqualTo(5));
    }

    [Test]
    public void StallUserNth_LeavesATaskQueuedForever_WatchdogEjectsAt5s_WithQmapDump()
    {
        var rig = new ExtRig(cpus: 1);
        rig.Fork(comm: "a");
        rig.Fork(comm: "b");
        var q = new ScxQmap { StallUserNth = 3 };
        rig.LoadOk(q);
        rig.RunMs(10_000);
        Assert.That(q.ExitInfo?.Kind, Is.EqualTo(ScxExitKind.ErrorStall));
        Assert.That(q.ExitInfo!.Message, Does.Match(@"^[ab]\[\d+\] failed to run for \d+\.\d{3}s$"));
        Assert.That(q.ExitInfo.Dump, Does.Contain("QMAP FIFO[2]:"));
    }
}
