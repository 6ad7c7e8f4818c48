using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Kernel;

/// <summary>sched_tick (core.c) and the NO_HZ rules for when a CPU has a tick at all (kernel/time/tick-sched.c).</summary>
public sealed partial class SchedKernel
{
    /// <summary>
    /// sched_tick: account the current task, its class's task_tick, then scx_tick, then sched_balance_trigger unless
    /// sched_ext has switched every task (6.12's order, whatever class runs); re-armed for the next jiffy unless the CPU
    /// may stop its tick.
    /// </summary>
    private void Tick(int cpu)
    {
        int curr = _curr[cpu];
        if (curr < 0)
        {
            _tickOn[cpu] = false; // NO_HZ idle: no tick on an idle CPU
            return;
        }
        UpdateCurrCore(cpu);
        Metrics.Tick(cpu);
        _classes[_pt[curr].Class].TaskTick(cpu, ref Tasks[curr]);
        if (ExtEnabled)
        {
            _ext!.Tick(cpu);
        }
        if (!ExtEnabled || !_ext!.SwitchedAll)
        {
            _classes[FairClass].TickBalance(cpu);
        }
        _tickOn[cpu] = false;
        UpdateTick(cpu);
    }

    /// <summary>
    /// The CPUs booted as nohz_full= (tick_nohz_full_cpu): only these may stop a busy CPU's tick. Empty, as in a
    /// kernel booted without the parameter; scenarios cannot set it (the 1 Hz remote tick, sched_tick_remote, is not
    /// modelled), so it exists for the tick-stopping rule's tests.
    /// </summary>
    internal Cpumask NohzFull { get; set; }

    /// <summary>
    /// Starts or stops <paramref name="cpu"/>'s tick: none while idle (tick_nohz_idle_enter); stopped on a busy CPU
    /// only when it is nohz_full and sched_ext says its task may run tickless (sched_can_stop_tick →
    /// scx_can_stop_tick); otherwise a tick at every jiffy boundary.
    /// </summary>
    private void UpdateTick(int cpu)
    {
        int curr = _curr[cpu];
        bool want = curr >= 0 && !CanStopTick(cpu, curr);
        if (want == _tickOn[cpu])
        {
            return;
        }
        _tickOn[cpu] = want;
        if (want)
        {
            long next = (NowNs / _tickNs + 1) * _tickNs;
            Simulator.Arm(_tickTimer[cpu], new SimTime(next), cpu);
        }
        else
        {
            Simulator.Cancel(_tickTimer[cpu]);
        }
    }

    // tick_nohz_full_update_tick (kernel/time/tick-sched.c) leaves the tick alone unless tick_nohz_full_cpu(cpu):
    // on any other CPU a task with SCX_SLICE_INF still gets task_tick_scx, ops.tick and scx_tick every jiffy.
    private bool CanStopTick(int cpu, int curr) =>
        NohzFull.Test(cpu) && _pt[curr].Class == ExtClass && ExtEnabled && _ext!.CanStopTick(cpu);
}
