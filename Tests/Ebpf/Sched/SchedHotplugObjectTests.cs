using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Tests.Ebpf.Loading;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// CPU hotplug with sched_ext schedulers as clang-built .bpf.o run by the interpreter: Tests/Ebpf/Sched/src/
/// scx_hotplug.bpf.c's cpu_online/cpu_offline are called through their trampolines with the CPU and see it online in
/// the online mask; one calling a dispatch-only kfunc from cpu_offline is ejected; and bpfsim's scx_simple.bpf.o,
/// which has no hotplug ops, exits with SCX_EXIT_UNREG_KERN and SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG.
/// </summary>
[Category("Ebpf")]
public sealed class SchedHotplugObjectTests
{
    private string _dir = "";
    private string _obj = "";

    [OneTimeSetUp]
    public void Build()
    {
        _dir = SchedClang.TempDir();
        var (code, output) = SchedClang.CompileTestScheduler(_dir, "scx_hotplug", out _obj);
        Assert.That(code, Is.Zero, output);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Test]
    public void ObjectWithHotplugOps_IsCalledForEachEvent_WithTheCpuOnline()
    {
        var rig = new ScxObjectRig(4);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(_obj, variable: "hp").IsOk);
        rig.RunMs(50);
        Assert.That(rig.Kernel.SetCpuOnline(3, false), Is.Zero);
        rig.RunMs(50);
        Assert.That(rig.Kernel.SetCpuOnline(3, true), Is.Zero);
        rig.RunMs(50);
        var g = BssGlobals.Read(rig.Bpf, rig.Object);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Exits, Is.Empty);
            Assert.That(rig.Ext.Enabled, Is.True);
            Assert.That(g.Int("offlines"), Is.EqualTo(1));
            Assert.That(g.Int("onlines"), Is.EqualTo(1));
            Assert.That(g.Int("last_cpu_plus1"), Is.EqualTo(4));
            Assert.That(g.Int("online_in_offline"), Is.EqualTo(1), "still online in cpu_offline");
            Assert.That(g.Int("online_in_online"), Is.EqualTo(1), "already online in cpu_online");
            Assert.That(g.Int("online_weight"), Is.EqualTo(4), "scx_bpf_get_online_cpumask in cpu_online: all four");
            Assert.That(rig.Ext.HotplugSeq, Is.EqualTo(2));
        });
    }

    [Test]
    public void ObjectCallingADispatchKfuncFromCpuOffline_IsEjected()
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(_obj, variable: "hp_bad").IsOk);
        rig.RunMs(20);
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        rig.RunMs(5);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(exit.Message, Does.Contain("called from an operation only allowing 0x0"));
    }

    [Test]
    public void ObjectHotplugSeq_SetBeforeLoad_IsCheckedAtEnable()
    {
        // SCX_OPS_OPEN writes skel->struct_ops.ops->hotplug_seq before the load; a stale value exits at enable.
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        var info = ConsumerObjectLoader.LoadInto(rig.Catalog, BpfObjects.PathOf("scx_simple")).Single();
        Assert.That(ConsumerLoading.Load(rig.Bpf, info, [], out var loaded).IsOk);
        Assert.That(loaded!.SetPendingMember("hotplug_seq", 7), Is.True);
        Assert.That(loaded.Register().IsOk, Is.True, "bpf_scx_reg returns 0: the mismatch is an exit, not a refusal");
        Assert.That(loaded.SetPendingMember("hotplug_seq", 1), Is.False, "no longer pending once registered");
        rig.RunMs(5);
        var exit = rig.Exits.Single();
        Assert.Multiple(() =>
        {
            Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.UnregKern));
            Assert.That(exit.ExitCode, Is.EqualTo(ScxExitCodes.ActRestart | ScxExitCodes.RsnHotplug));
            Assert.That(exit.Message, Is.EqualTo("expected hotplug seq 7 did not match actual 1"));
        });
    }

    [TestCase("scx_simple")]
    [TestCase("scx_simple.v3")]
    public void ScxSimpleObject_WithoutHotplugOps_ExitsForTheRestart(string name)
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(BpfObjects.PathOf(name)).IsOk);
        rig.RunMs(50);
        Assert.That(rig.Kernel.SetCpuOnline(1, false), Is.Zero);
        rig.RunMs(5);
        var exit = rig.Exits.Single();
        Assert.Multiple(() =>
        {
            Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.UnregKern));
            Assert.That(exit.ExitCode, Is.EqualTo(ScxExitCodes.ActRestart | ScxExitCodes.RsnHotplug));
            Assert.That(exit.Message, Is.EqualTo("cpu 1 going offline, exiting scheduler"));
            Assert.That(rig.Kernel.ClassOf(rig.Task(0)).Name, Is.Not.EqualTo("ext"), "back in the default class");
        });
    }
}
