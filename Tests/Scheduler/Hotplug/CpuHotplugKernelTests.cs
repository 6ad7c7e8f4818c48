using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Hotplug;

/// <summary>
/// CPU hotplug in the core scheduler, as kernel/cpu.c and kernel/sched/core.c (6.12) do it: cpu_down's EBUSY for the
/// last online CPU, balance_push moving every task off the outgoing CPU, select_fallback_rq (same node first, then
/// any allowed CPU, then the affinity widened to every CPU with "process %d (%s) no longer affine to cpu%d"), wake-ups
/// never placed on an offline CPU, fair's update_sysctl in rq_online/rq_offline, and offline time kept apart.
/// </summary>
public sealed class CpuHotplugKernelTests
{
    /// <summary>
    /// tick_nohz_cpu_down (kernel/time/tick-sched.c): with nohz_full CPUs, the timekeeping CPU (0) does their
    /// housekeeping and must stay online: EBUSY. The nohz_full CPU itself may go.
    /// </summary>
    [Test]
    public void SetCpuOnline_WithNohzFull_CpuZeroIsRefusedWithEbusy()
    {
        var rig = new HotplugRig(3);
        rig.Kernel.NohzFull = Cpumask.Of(2);
        rig.Hog();
        rig.RunMs(5);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.SetCpuOnline(0, false), Is.EqualTo(-16));
            Assert.That(rig.Kernel.CpuOnline(0), Is.True);
            Assert.That(rig.Kernel.SetCpuOnline(2, false), Is.Zero);
            Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        });
    }

    [Test]
    public void SetCpuOnline_LastOnlineCpu_IsRefusedWithEbusy_AndAnUnknownCpuWithEinval()
    {
        var rig = new HotplugRig(2);
        rig.Hog();
        rig.RunMs(5);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.SetCpuOnline(2, false), Is.EqualTo(-22), "EINVAL: no CPU 2");
            Assert.That(rig.Kernel.SetCpuOnline(0, false), Is.Zero, "CPU 0 may go offline while CPU 1 is online (x86 allows it)");
            Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.EqualTo(-16), "EBUSY: num_online_cpus() == 1");
            Assert.That(rig.Kernel.CpuOnline(1), Is.True);
            Assert.That(rig.Kernel.NumOnlineCpus, Is.EqualTo(1));
        });
    }

    [Test]
    public void SetCpusAllowed_NoActiveCpuInTheMask_IsEinval_AndTheAffinityIsUnchanged()
    {
        var rig = new HotplugRig(4);
        int t = rig.Hog(cpus: Cpumask.Of(0, 1));
        rig.RunMs(5);
        rig.Offline(2);
        rig.Offline(3);
        Assert.Multiple(() =>
        {
            // __set_cpus_allowed_ptr_locked: no CPU of cpu_active_mask in the new mask (core.c).
            Assert.That(rig.Kernel.SetCpusAllowed(t, Cpumask.Of(2, 3)), Is.EqualTo(-22));
            Assert.That(rig.Kernel.SetCpusAllowed(t, Cpumask.Of(5)), Is.EqualTo(-22), "no such CPU");
            Assert.That(rig.Kernel.Tasks[t].CpusMask, Is.EqualTo(Cpumask.Of(0, 1)), "unchanged");
            Assert.That(rig.Kernel.AffinityBroken, Is.Zero, "refused, not widened");
            Assert.That(rig.Kernel.SetCpusAllowed(t, Cpumask.Of(1, 3)), Is.Zero, "one active CPU is enough");
        });
    }

    [Test]
    public void SetCpuOnline_ToTheStateItIsIn_DoesNothing()
    {
        var rig = new HotplugRig(2);
        Assert.That(rig.Kernel.SetCpuOnline(1, true), Is.Zero);
        rig.Offline(1);
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        Assert.That(rig.Kernel.HotplugEvents, Has.Count.EqualTo(1), "only the real change is an event");
        Assert.That(rig.Ext.HotplugSeq, Is.EqualTo(1));
    }

    [Test]
    public void CpuDown_PushesTheRunningAndQueuedTasks_ToOnlineCpus()
    {
        var rig = new HotplugRig(4);
        for (int i = 0; i < 8; i++)
        {
            rig.Hog($"hog{i}");
        }
        rig.RunMs(50);
        var onCpu3 = rig.TasksOn(3).ToList();
        Assert.That(onCpu3, Is.Not.Empty, "the balancer spread the hogs");
        long migrations = onCpu3.Sum(t => rig.Kernel.Metrics.TaskMigrations(t));
        rig.Offline(3);
        var e = rig.Kernel.HotplugEvents.Single();
        Assert.Multiple(() =>
        {
            Assert.That(rig.TasksOn(3), Is.Empty);
            Assert.That(rig.Kernel.Current(3), Is.EqualTo(-1));
            Assert.That(rig.Kernel.NrRunning(3), Is.Zero);
            Assert.That(e.TasksMigrated, Is.EqualTo(onCpu3.Count));
            Assert.That(rig.Kernel.HotplugMigrations, Is.EqualTo(onCpu3.Count));
            Assert.That(onCpu3.Sum(t => rig.Kernel.Metrics.TaskMigrations(t)), Is.EqualTo(migrations + onCpu3.Count), "set_task_cpu counts each move");
            Assert.That(rig.Kernel.CpuOnline(3) || rig.Kernel.CpuActive(3), Is.False);
        });
        rig.RunMs(200);
        Assert.That(rig.TasksOn(3), Is.Empty, "the balancer never pulls to an offline CPU");
        rig.Online(3);
        rig.RunMs(200);
        Assert.That(rig.TasksOn(3), Is.Not.Empty, "back online, the balancer uses it again");
    }

    [Test]
    public void PinnedTask_ItsOnlyCpuGoesOffline_AffinityBrokenAsSelectFallbackRq()
    {
        var rig = new HotplugRig(4);
        int pinned = rig.Hog("pin", cpus: Cpumask.Of(2));
        rig.Hog("other");
        rig.RunMs(20);
        Assert.That(rig.Task(pinned).Cpu, Is.EqualTo(2));
        rig.Offline(2);
        var p = rig.Task(pinned);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.AffinityBroken, Is.EqualTo(1));
            Assert.That(rig.Kernel.HotplugEvents.Single().AffinityBroken, Is.EqualTo(1));
            Assert.That(p.CpusMask, Is.EqualTo(rig.Kernel.Topology.Possible), "cpuset_cpus_allowed_fallback: every CPU");
            Assert.That(p.Cpu, Is.Not.EqualTo(2));
            Assert.That(rig.Kernel.HotplugLog.Single().Text, Is.EqualTo($"process {p.Pid} (pin) no longer affine to cpu2"));
        });
        rig.RunMs(20);
        long ran = rig.Kernel.Metrics.Runtime(pinned);
        rig.RunMs(50);
        Assert.That(rig.Kernel.Metrics.Runtime(pinned), Is.GreaterThan(ran), "it runs on another CPU");
        rig.Online(2);
        Assert.That(rig.Task(pinned).CpusMask, Is.EqualTo(rig.Kernel.Topology.Possible), "the kernel does not restore the old affinity");
    }

    [Test]
    public void SelectFallbackRq_PrefersAnAllowedCpuOfTheSameNode()
    {
        // Two nodes: CPUs 0-1 and 2-3. A task allowed on 1 and 2 that sleeps on 1 wakes, with 1 offline, on 2 (the
        // only allowed active CPU), and a task allowed on 0, 1 and 3 sleeping on 1 wakes on 0 (node 0 first).
        var rig = new HotplugRig(4, nodes: 2);
        rig.SleepNs = 50_000_000;
        int a = rig.Sleeper("a", Cpumask.Of(1, 2));
        int b = rig.Sleeper("b", Cpumask.Of(0, 1, 3));
        rig.RunMs(5);
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        rig.RunMs(200);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Task(a).Cpu, Is.Not.EqualTo(1));
            Assert.That(rig.Task(b).Cpu, Is.Not.EqualTo(1));
            Assert.That(rig.Kernel.AffinityBroken, Is.Zero, "an allowed CPU was always active");
            Assert.That(rig.Kernel.Metrics.Runtime(a) + rig.Kernel.Metrics.Runtime(b), Is.GreaterThan(2_000_000L));
        });
    }

    [Test]
    public void SleepingPinnedTask_WakesWhileItsCpuIsOffline_RunsElsewhere()
    {
        var rig = new HotplugRig(2);
        rig.SleepNs = 10_000_000;
        int t = rig.Sleeper("pin", Cpumask.Of(1));
        rig.RunMs(3);
        Assert.That(rig.Task(t).State, Is.EqualTo((uint)BpfSim.Scheduler.Tasks.TaskState.Interruptible), "asleep when CPU 1 goes");
        rig.Offline(1);
        Assert.That(rig.Kernel.HotplugEvents.Single().TasksMigrated, Is.Zero, "a sleeper is not on the rq");
        rig.RunMs(30);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Task(t).Cpu, Is.Zero);
            Assert.That(rig.Kernel.AffinityBroken, Is.EqualTo(1), "the wake-up's select_task_rq fell back and widened it");
            Assert.That(rig.Kernel.Metrics.Runtime(t), Is.GreaterThan(1_000_000L));
        });
    }

    [Test]
    public void FairBaseSlice_RecomputedInRqOnlineAndRqOffline_WithTheChangingCpuStillCounted()
    {
        // update_sysctl: 1 + ilog2(min(num_online_cpus(), 8)) × 0.7 ms; rq_offline runs before the CPU leaves the online
        // mask, rq_online after it joined.
        var rig = new HotplugRig(4);
        Assert.That(rig.Fair.BaseSliceNs, Is.EqualTo(FairMath.BaseSliceNs(4)));
        rig.Offline(3);
        Assert.That(rig.Fair.BaseSliceNs, Is.EqualTo(FairMath.BaseSliceNs(4)), "4 CPUs were online at rq_offline");
        rig.Offline(2);
        Assert.That(rig.Fair.BaseSliceNs, Is.EqualTo(FairMath.BaseSliceNs(3)));
        Assert.That(FairMath.BaseSliceNs(3), Is.Not.EqualTo(FairMath.BaseSliceNs(4)), "the test can fail");
        rig.Online(2);
        Assert.That(rig.Fair.BaseSliceNs, Is.EqualTo(FairMath.BaseSliceNs(3)), "3 CPUs online after CPU 2 joined");
    }

    [Test]
    public void OfflineTime_IsKeptApart_AndTheOfflineCpuIsNeverBusy()
    {
        var rig = new HotplugRig(2);
        rig.Hog();
        rig.Hog();
        rig.RunMs(100);
        rig.Offline(1);
        long busyAtOffline = rig.Kernel.Metrics.CpuBusy(1);
        rig.RunMs(300);
        rig.Online(1);
        rig.RunMs(100);
        rig.Kernel.Finish();
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.OfflineNs(1), Is.EqualTo(300_000_000L));
            Assert.That(rig.Kernel.OfflineNs(0), Is.Zero);
            Assert.That(rig.Kernel.Metrics.CpuBusy(1) - busyAtOffline, Is.EqualTo(100_000_000L).Within(2_000_000), "busy only after it came back");
            Assert.That(rig.Kernel.OfflineSpans, Is.EqualTo(new[] { (1, 100_000_000L, 400_000_000L) }));
        });
    }
}
