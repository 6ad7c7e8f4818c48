using BpfSim.Core.Bpf.Consumers;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Hotplug;

/// <summary>A scheduler that implements the hotplug operations and records what it saw in them.</summary>
[StructOps(SchedExtOpsType.TypeName, Name = "hpprobe", Link = true)]
internal sealed class HotplugProbe : SchedExtOpsProgram
{
    public List<string> Calls { get; } = [];
    public List<ScxKfMask> Masks { get; } = [];
    public bool ConsumeInOffline { get; init; }
    public int LocalOnCpu { get; init; } = -1;

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        ulong dsq = LocalOnCpu >= 0 ? ScxConsts.DsqLocalOn | (uint)LocalOnCpu : ScxConsts.DsqGlobal;
        Scx.Dispatch(ref p, dsq, Scx.SliceDfl, enqFlags);
    }

    public override void CpuOnline(int cpu)
    {
        Calls.Add($"cpu_online {cpu} online={Scx.GetOnlineCpumask().Test(cpu)}");
        Masks.Add(Scx.Current!.KfMask);
    }

    public override void CpuOffline(int cpu)
    {
        Calls.Add($"cpu_offline {cpu} online={Scx.GetOnlineCpumask().Test(cpu)}");
        Masks.Add(Scx.Current!.KfMask);
        if (ConsumeInOffline)
        {
            Scx.Consume(ScxConsts.DsqGlobal);
        }
    }
}

/// <summary>
/// sched_ext's side of CPU hotplug (kernel/sched/ext.c, 6.12): handle_hotplug increments scx_hotplug_seq on every
/// event and calls ops.cpu_online/cpu_offline with SCX_KF_UNLOCKED, or exits a scheduler without them with
/// SCX_EXIT_UNREG_KERN, exit code SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG and "cpu %d going %s, exiting
/// scheduler"; check_hotplug_seq at enable; LOCAL_ON of an offline CPU falls back to the global DSQ without an error.
/// </summary>
public sealed class CpuHotplugExtTests
{
    private const long RestartHotplug = (1L << 48) | (1L << 32);

    private static HotplugRig WithHogs(int cpus, int hogs)
    {
        var rig = new HotplugRig(cpus);
        for (int i = 0; i < hogs; i++)
        {
            rig.Hog($"hog{i}");
        }
        return rig;
    }

    [TestCase(false, "cpu 3 going offline, exiting scheduler")]
    [TestCase(true, "cpu 3 going online, exiting scheduler")]
    public void SchedulerWithoutHotplugOps_ExitsUnregKern_WithTheRestartCodeAndMessage(bool online, string message)
    {
        var rig = WithHogs(4, 6);
        if (online)
        {
            rig.Offline(3);
        }
        rig.Load(new ScxSimple());
        rig.RunMs(50);
        Assert.That(rig.Ext.Enabled, Is.True);
        Assert.That(rig.Kernel.SetCpuOnline(3, online), Is.Zero);
        rig.RunMs(10);
        var exit = rig.Exits.Single();
        Assert.Multiple(() =>
        {
            Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.UnregKern));
            Assert.That(ExtSchedClass.KindName(exit.Kind), Is.EqualTo("SCX_EXIT_UNREG_KERN"));
            Assert.That(exit.ExitCode, Is.EqualTo(RestartHotplug));
            Assert.That(exit.ExitCode, Is.EqualTo(ScxExitCodes.ActRestart | ScxExitCodes.RsnHotplug));
            Assert.That(exit.Reason, Is.EqualTo("unregistered from the main kernel"));
            Assert.That(exit.Message, Is.EqualTo(message));
            Assert.That(rig.Ext.Ejections, Is.Empty, "UNREG_KERN is not an error exit");
            Assert.That(rig.Ext.Enabled, Is.False);
            Assert.That(Enumerable.Range(0, rig.Kernel.Tasks.Count).Select(t => rig.Kernel.ClassOf(rig.Task(t)).Name), Is.All.EqualTo("fair"));
            Assert.That(rig.Ext.HotplugSeq, Is.EqualTo(online ? 2 : 1));
        });
    }

    [Test]
    public void HotplugSeq_CountsEveryEvent_WithOrWithoutAScheduler()
    {
        var rig = WithHogs(4, 2);
        rig.Offline(1);
        rig.Offline(2);
        rig.Online(1);
        Assert.That(rig.Ext.HotplugSeq, Is.EqualTo(3));
        Assert.That(rig.Kernel.HotplugEvents.Select(e => e.Seq), Is.EqualTo(new long[] { 1, 2, 3 }));
        var probe = new HotplugProbe();
        rig.Load(probe);
        rig.Online(2);
        Assert.That(rig.Ext.HotplugSeq, Is.EqualTo(4));
        Assert.That(rig.Exits, Is.Empty);
    }

    [Test]
    public void HotplugOps_CalledWithSchedKfUnlocked_WhileTheCpuIsOnline_AndTheSchedulerStays()
    {
        var rig = WithHogs(4, 6);
        var probe = new HotplugProbe();
        rig.Load(probe);
        rig.RunMs(30);
        rig.Offline(2);
        rig.RunMs(30);
        rig.Online(2);
        rig.RunMs(30);
        Assert.Multiple(() =>
        {
            Assert.That(probe.Calls, Is.EqualTo(new[] { "cpu_offline 2 online=True", "cpu_online 2 online=True" }),
                "scx_qmap.bpf.c: still online in cpu_offline, already online in cpu_online");
            Assert.That(probe.Masks, Is.All.EqualTo(ScxKfMask.Unlocked));
            Assert.That(rig.Exits, Is.Empty);
            Assert.That(rig.Ext.Enabled, Is.True);
        });
    }

    [Test]
    public void DispatchKfuncFromCpuOffline_IsRefused_AsInAnyUnlockedOperation()
    {
        var rig = WithHogs(2, 3);
        rig.Load(new HotplugProbe { ConsumeInOffline = true });
        rig.RunMs(20);
        rig.Offline(1);
        rig.RunMs(5);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(exit.Message, Does.Contain("called from an operation only allowing 0x0"));
    }

    [TestCase(0UL, false)]
    [TestCase(2UL, false)]
    [TestCase(1UL, true)]
    public void HotplugSeqAtEnable_Mismatch_Exits(ulong expected, bool exits)
    {
        var rig = WithHogs(4, 2);
        rig.Offline(3);
        rig.Online(3);
        rig.Load(new HotplugProbe(), hotplugSeq: expected);
        rig.RunMs(10);
        if (!exits)
        {
            Assert.That(rig.Exits, Is.Empty, "0 means no check; 2 is the current seq");
            Assert.That(rig.Ext.Enabled, Is.True);
            return;
        }
        var exit = rig.Exits.Single();
        Assert.Multiple(() =>
        {
            Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.UnregKern));
            Assert.That(exit.ExitCode, Is.EqualTo(RestartHotplug));
            Assert.That(exit.Message, Is.EqualTo("expected hotplug seq 1 did not match actual 2"));
            Assert.That(rig.Ext.Enabled, Is.False);
        });
    }

    [Test]
    public void LocalOnAnOfflineCpu_GoesToTheGlobalDsq_WithoutAnError()
    {
        var rig = WithHogs(4, 3);
        rig.Offline(3);
        rig.Load(new HotplugProbe { LocalOnCpu = 3 });
        rig.RunMs(1);
        // The enable re-enqueues every task through ops.enqueue: each verdict is LOCAL_ON of CPU 3, which
        // dispatch_to_local_dsq turns into the global DSQ (task_can_run_on_remote_rq: !scx_rq_online, no error).
        Assert.Multiple(() =>
        {
            Assert.That(rig.Exits, Is.Empty, "no error for an offline CPU (only for one outside the task's cpus_ptr)");
            Assert.That(rig.TasksOn(3), Is.Empty);
            for (int t = 0; t < 3; t++)
            {
                bool inGlobal = rig.Ext.Dsqs.DsqOf(t) == rig.Ext.Dsqs.Global(0);
                bool running = rig.Kernel.Current(rig.Task(t).Cpu) == t;
                Assert.That(inGlobal || running, Is.True, $"task {t} went to the global DSQ (or from it to a CPU)");
            }
        });
    }

    [Test]
    public void ExtTasksOnTheOutgoingCpu_AreMovedOff_AndKeepRunningUnderTheScheduler()
    {
        var rig = WithHogs(4, 8);
        rig.Load(new HotplugProbe());
        rig.RunMs(50);
        var on2 = rig.TasksOn(2).ToList();
        Assert.That(on2, Is.Not.Empty);
        rig.Offline(2);
        Assert.Multiple(() =>
        {
            Assert.That(rig.TasksOn(2), Is.Empty);
            Assert.That(rig.Kernel.HotplugEvents.Single().TasksMigrated, Is.EqualTo(on2.Count));
            Assert.That(on2.Select(t => rig.Kernel.ClassOf(rig.Task(t)).Name), Is.All.EqualTo("ext"));
        });
        rig.RunMs(100);
        Assert.That(rig.TasksOn(2), Is.Empty);
        Assert.That(rig.Exits, Is.Empty);
    }

    [Test]
    public void ScxQmapPort_ImplementsTheHotplugOps_PrintsTheCpus_AndStaysLoaded()
    {
        var rig = WithHogs(4, 6);
        rig.Load(new ScxQmap());
        rig.RunMs(30);
        rig.Offline(3);
        rig.Offline(2);
        rig.RunMs(30);
        rig.Online(3);
        rig.RunMs(30);
        var lines = rig.Bpf.Trace.Select(t => t.Text).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(rig.Exits, Is.Empty);
            Assert.That(rig.Ext.Enabled, Is.True);
            Assert.That(lines, Is.EqualTo(new[]
            {
                "CPUS: |OOOO", // ops.init
                "CPU 3 going offline", "CPUS: |OOOO",
                "CPU 2 going offline", "CPUS: |OOOX",
                "CPU 3 coming online", "CPUS: |OOXO",
            }));
        });
    }
}
