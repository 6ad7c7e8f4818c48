using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Tests.Scheduler.Ext;

namespace BpfSim.Tests.Programs.Sched;

public class ScxCentralTests
{
    [Test]
    public void CentralCpuHandsOutTasks_WorkersRunTickless_TimerEnforcesSlices()
    {
        var rig = new ExtRig(cpus: 4);
        var hogs = Enumerable.Range(0, 6).Select(i => rig.Fork(comm: $"hog{i}")).ToArray();
        var central = new ScxCentral();
        rig.LoadOk(central);
        rig.RunMs(2_000);
        rig.Kernel.UpdateAccounting();
        Assert.That(central.ExitInfo, Is.Null, central.ExitInfo?.Message);
        var runtimes = hogs.Select(h => (double)rig.Kernel.Metrics.Runtime(h)).ToArray();
        // Every hog gets CPU: the workers' tasks are preempted by the timer after slice_ns (20 ms) and requeued.
        // (The central CPU's own task is not slice-limited by the timer, as in the example: it changes only when the
        // central CPU is kicked, so the shares are not equal.)
        Assert.That(runtimes.Min(), Is.GreaterThan(0.3e9), string.Join(" ", runtimes.Select(r => $"{r / 1e6:F0}ms")));
        Assert.That(runtimes.Sum(), Is.EqualTo(4 * 2e9).Within(1).Percent, "no CPU idles while hogs wait");
        Assert.That(rig.Kernel.Metrics.Switches, Is.GreaterThan(2 * 3 * 2000 / 20 / 2), "workers switch about every slice");
        Assert.That(central.NrTimers, Is.GreaterThan(1500UL));
        Assert.That(central.NrDispatches, Is.GreaterThan(0UL));
    }

    [Test]
    public void WorkersWithSliceInf_MayStopTheTick_ButTickWithoutNohzFull()
    {
        // scx_central.bpf.c: tickless only "on CONFIG_NO_HZ_FULL kernels running with the proper nohz_full
        // parameter"; bpfsim boots without it.
        var rig = new ExtRig(cpus: 2);
        rig.Fork(comm: "a");
        rig.Fork(comm: "b");
        rig.LoadOk(new ScxCentral());
        rig.RunMs(100);
        Assert.That(rig.Ext.CanStopTick(1), Is.True);
        Assert.That(rig.Kernel.TickRunning(1), Is.True);
    }

    /// <summary>
    /// With the worker booted nohz_full (the scenario's cpus.nohz_full), its SCX_SLICE_INF task runs tickless: no
    /// local tick, ops.tick only from the 1 Hz remote tick, and the central CPU's timer still ends its slice.
    /// </summary>
    [Test]
    public void WorkersWithSliceInf_OnNohzFullCpus_RunTickless()
    {
        var rig = new ExtRig(cpus: 2);
        rig.Kernel.NohzFull = BpfSim.Scheduler.Kernel.Cpumask.Of(1);
        var hogs = new[] { rig.Fork(comm: "a"), rig.Fork(comm: "b"), rig.Fork(comm: "c") };
        var central = new ScxCentral();
        rig.LoadOk(central);
        rig.RunMs(1_500);
        rig.Kernel.UpdateAccounting();
        Assert.Multiple(() =>
        {
            Assert.That(central.ExitInfo, Is.Null, central.ExitInfo?.Message);
            Assert.That(rig.Kernel.Metrics.CpuTicks(1), Is.LessThan(rig.Kernel.Metrics.CpuTicks(0) / 10),
                "the worker's tick stops while it runs a task with SCX_SLICE_INF");
            Assert.That(rig.Kernel.RemoteTicks, Is.EqualTo(1), "the remote tick at 1 s found the worker tickless");
            Assert.That(hogs.Select(h => rig.Kernel.Metrics.Runtime(h)).Min(), Is.GreaterThan(200_000_000L),
                "the timer still rotates the worker's tasks");
        });
    }
}
