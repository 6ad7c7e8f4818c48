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
