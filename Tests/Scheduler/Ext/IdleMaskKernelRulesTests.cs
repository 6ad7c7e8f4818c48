using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>
/// The built-in idle tracking as the Debian 6.12 tree has it: an idle CPU that picks idle again refreshes its idle bit
/// (pick_task_idle → scx_update_idle without do_notify, kernel/sched/ext.c __scx_update_idle), and idle-CPU picks
/// rotate per CPU from 0 (cpumask_any_and_distribute's per-CPU distribute_cpu_mask_prev, lib/cpumask.c).
/// </summary>
public sealed class IdleMaskKernelRulesTests
{
    [Test]
    public void CpuReservedAndKickedButGivenNoTask_IsIdleAgainInTheMask()
    {
        var rig = new ExtRig(cpus: 2);
        bool reserved = false;
        var s = new ProbeScheduler
        {
            OnSelect = (ref TaskStruct p, int prev, ulong wf) =>
            {
                if (!reserved)
                {
                    // scx_central's pattern: claim an idle CPU and wake it, then dispatch nothing to it.
                    reserved = Scx.TestAndClearCpuIdle(1);
                    Scx.KickCpu(1, 0);
                }
                return 0;
            },
        };
        rig.LoadOk(s);
        rig.RunMs(1);
        rig.Fork(); // any CPU, so select_task_rq asks ops.select_cpu
        rig.RunMs(5);
        Assert.That(reserved, "CPU 1 was idle and got reserved");
        Assert.That(rig.Ext.IdleCpumask.Test(1), "the kicked CPU picked idle again and set its idle bit");
    }

    [Test]
    public void IdlePicks_RotatePerCpu_StartingAfterZero()
    {
        var rig = new ExtRig(cpus: 4);
        var all = rig.Kernel.Topology.Possible;
        int Pick(int thisCpu)
        {
            rig.Ext.Kfuncs.ThisCpu = thisCpu;
            return rig.Ext.AnyAndDistribute(in all, in all);
        }
        Assert.Multiple(() =>
        {
            Assert.That(new[] { Pick(0), Pick(0), Pick(0), Pick(0), Pick(0) }, Is.EqualTo(new[] { 1, 2, 3, 0, 1 }),
                "\"our first selection will skip 0\"");
            Assert.That(Pick(2), Is.EqualTo(1), "CPU 2 has a position of its own, still at 0");
            Assert.That(Pick(0), Is.EqualTo(2), "CPU 0's position is where it was");
        });
    }
}
