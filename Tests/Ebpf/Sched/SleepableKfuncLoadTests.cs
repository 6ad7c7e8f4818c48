using BpfSim.Core.Bpf;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// check_kfunc_call (kernel/bpf/verifier.c): a KF_SLEEPABLE kfunc — scx_bpf_create_dsq, scx_kfunc_ids_unlocked in
/// ext.c — may be called only from a sleepable program (SEC("struct_ops.s/…")). An init written as SEC("struct_ops/…")
/// that calls it is refused at load with EACCES, before the scheduler runs.
/// </summary>
public sealed class SleepableKfuncLoadTests
{
    [TestCase("scx_nonsleepable_init")]
    [TestCase("scx_nonsleepable_init.v3")]
    public void NonSleepableInit_CallingCreateDsq_IsRefusedAtLoad(string name)
    {
        var rig = new ScxObjectRig(2);
        var r = rig.LoadObject(TestObjects.PathOf(name));
        Assert.Multiple(() =>
        {
            Assert.That(r.IsOk, Is.False);
            Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
            Assert.That(r.Cause, Does.Contain("program must be sleepable to call sleepable kfunc scx_bpf_create_dsq"));
        });
    }
}
