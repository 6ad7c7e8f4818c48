using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

public class ExitTests
{
    [Test]
    public void StalledTask_WatchdogEjectsAtTimeout_TasksBackInFair_RunContinues()
    {
        var rig = new ExtRig(cpus: 2);
        int a = rig.Fork(comm: "victim");
        int b = rig.Fork(comm: "other");
        var stall = new ScxStall();
        rig.LoadOk(stall);
        rig.RunMs(10_000);
        Assert.That(rig.Exits, Has.Count.EqualTo(1));
        var info = rig.Exits[0];
        Assert.That(info.Kind, Is.EqualTo(ScxExitKind.ErrorStall));
        Assert.That(info.Reason, Is.EqualTo("runnable task stall"));
        // Checked every timeout/2 (1.5 s) with a strict time_after: the first check past 3 s is at 4.5 s.
        Assert.That(info.Message, Is.EqualTo($"victim[{rig.Task(a).Pid}] failed to run for 4.500s"));
        Assert.That(stall.ExitInfo, Is.EqualTo(info), "ops.exit received the exit info");
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
        Assert.That(rig.ClassOf(b), Is.EqualTo("fifo"));
        long before = rig.Kernel.Metrics.Runtime(a);
        rig.RunMs(1_000);
        rig.Kernel.UpdateAccounting();
        Assert.That(rig.Kernel.Metrics.Runtime(a), Is.GreaterThan(before), "the stalled task runs again under the fair class");
        Assert.That(rig.Ext.Ejections, Has.Count.EqualTo(1));
        Assert.That(rig.Ext.Ejections[0].Kind, Is.EqualTo("SCX_EXIT_ERROR_STALL"));
    }

    [Test]
    public void InitFailure_ReturnsZeroToLinkCreator_ReportedThroughExitInfo()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        var s = new FailingInitScheduler();
        var r = rig.Load(s, out _);
        Assert.That(r.IsOk, Is.True, "scx_ops_enable returns 0 after arming");
        Assert.That(s.ExitInfo, Is.Not.Null);
        Assert.That(s.ExitInfo!.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(s.ExitInfo.Message, Is.EqualTo("ops.init() failed (-12)"));
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
        Assert.That(rig.Ext.Enabled, Is.False);
    }

    [TestCase(1024u)]
    [TestCase(1u << 20)]
    [TestCase((uint)int.MaxValue)]
    public void DispatchMaxBatch_AboveAllocationLimit_FailsEnableWithEnomem(uint batch)
    {
        // scx_ops_enable_workfn: __alloc_percpu(16 + 32 * batch bytes) is NULL above PCPU_MIN_UNIT_SIZE (32 KiB,
        // mm/percpu.c pcpu_alloc), so ret = -ENOMEM, err_disable, scx_ops_error("scx_ops_enable() failed (%d)").
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        var s = new ProbeScheduler { Batch = batch };
        var r = rig.Load(s, out _);
        Assert.That(r.IsOk, Is.True, "err_disable returns 0 to the link creator");
        Assert.That(s.ExitInfo, Is.Not.Null);
        Assert.That(s.ExitInfo!.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(s.ExitInfo.Message, Is.EqualTo("scx_ops_enable() failed (-12)"));
        Assert.That(rig.Ext.Enabled, Is.False);
        Assert.That(rig.Ext.EnableState, Is.EqualTo(ScxEnableState.Disabled));
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
        long before = rig.Kernel.Metrics.Runtime(a);
        rig.RunMs(50);
        rig.Kernel.UpdateAccounting();
        Assert.That(rig.Kernel.Metrics.Runtime(a), Is.GreaterThan(before), "the run continues under the fair class");
        Assert.That(rig.Ext.Ejections.Select(e => e.Kind), Is.EqualTo(new[] { "SCX_EXIT_ERROR" }));
    }

    [Test]
    public void DispatchMaxBatch_LargestThatLoads_Is1023()
    {
        // 16 + 32 * 1023 = 32752 bytes fits PCPU_MIN_UNIT_SIZE; 16 + 32 * 1024 = 32784 does not.
        var rig = new ExtRig(cpus: 1);
        rig.Fork();
        var s = new ProbeScheduler { Batch = 1023 };
        rig.LoadOk(s);
        rig.RunMs(10);
        Assert.That(s.ExitInfo, Is.Null);
        Assert.That(rig.Ext.DispatchMaxBatch, Is.EqualTo(1023));
        rig.Ext.UnregisterScheduler(null);
        var s2 = new ProbeScheduler { Batch = 1024 };
        rig.LoadOk(s2);
        Assert.That(s2.ExitInfo?.Message, Is.EqualTo("scx_ops_enable() failed (-12)"));
    }

    [Test]
    public void ConsumerException_IsErrorExit_NotACrash()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        rig.Fork();
        var s = new ThrowingEnqueueScheduler();
        rig.LoadOk(s);
        rig.RunMs(100);
        Assert.That(s.ExitInfo?.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(s.ExitInfo!.Message, Does.Contain("ops.enqueue() failed").And.Contain("boom"));
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
    }

    [Test]
    public void VtimeInsertIntoBuiltinDsq_ErrorsAndEjects()
    {
        var rig = new ExtRig(cpus: 1);
        rig.Fork();
        rig.Fork();
        var s = new VtimeGlobalScheduler();
        rig.LoadOk(s);
        rig.RunMs(100);
        Assert.That(s.ExitInfo?.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(s.ExitInfo!.Message, Is.EqualTo("cannot use vtime ordering for built-in DSQs"));
    }
}

[BpfSim.Core.Bpf.Consumers.StructOps(SchedExtOpsType.TypeName, Name = "failinit", Link = true)]
internal sealed class FailingInitScheduler : SchedExtOpsProgram
{
    public override int Init() => -12;

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}

[BpfSim.Core.Bpf.Consumers.StructOps(SchedExtOpsType.TypeName, Name = "throwing", Link = true)]
internal sealed class ThrowingEnqueueScheduler : SchedExtOpsProgram
{
    public override void Enqueue(ref TaskStruct p, ulong enqFlags) => throw new InvalidOperationException("boom");

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}

[BpfSim.Core.Bpf.Consumers.StructOps(SchedExtOpsType.TypeName, Name = "vtglobal", Link = true)]
internal sealed class VtimeGlobalScheduler : SchedExtOpsProgram
{
    public override void Enqueue(ref TaskStruct p, ulong enqFlags) => Scx.DispatchVtime(ref p, Scx.DsqGlobal, Scx.SliceDfl, 5, enqFlags);

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
