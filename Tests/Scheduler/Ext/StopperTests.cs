using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>
/// The per-CPU stopper the fair balancer's active balancing uses (stop_machine.c stop_one_cpu_nowait), against a
/// sched_ext task: the stop class is above ext, so put_prev_task_scx keeps the task's slice at the head of the local
/// DSQ, switch_class calls ops.cpu_release with SCX_CPU_PREEMPT_STOP, and the CPU never passes through idle
/// (no ops.update_idle); the task then runs on, after ops.cpu_acquire.
/// </summary>
public sealed class StopperTests
{
    [StructOps(SchedExtOpsType.TypeName, Name = "stoprec", Link = true)]
    private sealed class Recorder : SchedExtOpsProgram
    {
        public List<string> Calls { get; } = [];

        public override void Enqueue(ref TaskStruct p, ulong enqFlags) => Scx.DsqInsert(ref p, Scx.DsqLocal, Scx.SliceDfl, enqFlags);

        public override void UpdateIdle(int cpu, bool idle) => Calls.Add($"update_idle {cpu} {idle}");

        public override void CpuAcquire(int cpu, in ScxCpuAcquireArgs args) => Calls.Add($"cpu_acquire {cpu}");

        public override void CpuRelease(int cpu, in ScxCpuReleaseArgs args) => Calls.Add($"cpu_release {cpu} {args.Reason}");
    }

    [Test]
    public void Stopper_PreemptsAnExtTask_WithCpuReleaseStop_AndNoIdle()
    {
        var rig = new ExtRig(1);
        int t = rig.Fork(comm: "hog");
        var s = new Recorder();
        rig.LoadOk(s);
        rig.RunMs(2);
        Assert.That(rig.Kernel.Current(0), Is.EqualTo(t));
        Assert.That(rig.ClassOf(t), Is.EqualTo("ext"));
        s.Calls.Clear();
        Assert.That(rig.Kernel.StopOneCpu(0, rig.Fair, 0), Is.True);
        Assert.That(rig.Kernel.StopOneCpu(0, rig.Fair, 0), Is.False, "one request at a time");
        rig.RunMs(2);
        Assert.Multiple(() =>
        {
            Assert.That(s.Calls, Does.Contain("cpu_release 0 2"), "SCX_CPU_PREEMPT_STOP");
            Assert.That(s.Calls, Does.Contain("cpu_acquire 0"));
            Assert.That(s.Calls.Where(c => c.StartsWith("update_idle", StringComparison.Ordinal)), Is.Empty, "no idle in between");
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(t), "the task runs on");
            Assert.That(rig.Kernel.StopOneCpu(0, rig.Fair, 0), Is.True, "the request ran; a new one is taken");
        });
    }

    /// <summary>
    /// set_cpus_allowed_ptr on a running task off its new mask: migration_cpu_stop, the same stopper, preempts it
    /// (ops.cpu_release with SCX_CPU_PREEMPT_STOP) and moves it; the CPU goes straight on to its next task, no idle.
    /// </summary>
    [Test]
    public void AffinityChangeOfTheRunningTask_IsAStopperPreemption()
    {
        var rig = new ExtRig(2);
        int t = rig.Fork(comm: "moved", cpus: BpfSim.Scheduler.Kernel.Cpumask.Of(0));
        int u = rig.Fork(comm: "stays", cpus: BpfSim.Scheduler.Kernel.Cpumask.Of(0));
        var s = new Recorder();
        rig.LoadOk(s);
        for (int i = 0; i < 200 && rig.Kernel.Current(0) != t; i++)
        {
            rig.RunMs(1);
        }
        Assert.That(rig.Kernel.Current(0), Is.EqualTo(t));
        s.Calls.Clear();
        Assert.That(rig.Kernel.SetCpusAllowed(t, BpfSim.Scheduler.Kernel.Cpumask.Of(1)), Is.Zero);
        rig.RunMs(1);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.Current(1), Is.EqualTo(t));
            Assert.That(rig.Kernel.Current(0), Is.EqualTo(u));
            Assert.That(s.Calls, Does.Contain("cpu_release 0 2"));
            Assert.That(s.Calls, Does.Not.Contain("update_idle 0 True"), "CPU 0 never idled");
        });
    }
}
