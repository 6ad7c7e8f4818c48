using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// select_task_rq_scx, scx_select_cpu_dfl, the built-in idle masks (idle_masks.cpu/smt, update_builtin_idle,
// __scx_update_idle, test_and_clear_cpu_idle, scx_pick_idle_cpu) (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    private bool _builtinIdle;

    /// <summary>scx_builtin_idle_enabled: ops.update_idle absent, or SCX_OPS_KEEP_BUILTIN_IDLE.</summary>
    public bool BuiltinIdleEnabled => _builtinIdle;

    /// <summary>idle_masks.cpu.</summary>
    public ref readonly Cpumask IdleCpumask => ref _idleCpu;

    /// <summary>idle_masks.smt (the idle CPUs whose siblings are all idle), or idle_masks.cpu without SMT.</summary>
    public ref readonly Cpumask IdleSmtmask => ref _core.Topology.Smt ? ref _idleSmt : ref _idleCpu;

    /// <summary>smp_processor_id() during a wakeup: the waker's CPU (−1 when no CPU's code wakes the task: a timer).</summary>
    private int WakerCpu => _core.ThisCpu;

    /// <inheritdoc/>
    public override int SelectTaskRq(ref TaskStruct p, int prevCpu, WakeFlags flags)
    {
        if (!_opsEnabled || (flags & WakeFlags.Exec) != 0)
        {
            return prevCpu;
        }
        EnsureTasks(p.Id + 1);
        if (_ops!.SelectCpu is not null && !Bypassing)
        {
            int saved = _ddspTask;
            _ddspTask = p.Id;
            int cpu = CallSelectCpu(ref p, prevCpu, (ulong)(uint)flags, WakerCpu >= 0 ? WakerCpu : prevCpu);
            _ddspTask = saved;
            return OpsCpuValid(cpu, "from ops.select_cpu()") ? cpu : prevCpu;
        }
        int picked = SelectCpuDfl(ref p, prevCpu, (ulong)(uint)flags, out bool found);
        if (found)
        {
            p.Scx.Slice = ScxConsts.SliceDfl;
            p.Scx.DdspDsqId = ScxConsts.DsqLocal;
        }
        return picked;
    }

    /// <summary>scx_select_cpu_dfl.</summary>
    internal int SelectCpuDfl(ref TaskStruct p, int prevCpu, ulong wakeFlags, out bool found)
    {
        found = false;
        int self = WakerCpu;
        // Sync wakeup onto the waker's CPU when its local DSQ is empty and the machine has idle CPUs.
        if ((wakeFlags & ScxWakeFlags.Sync) != 0 && self >= 0 && !_idleCpu.IsEmpty && _dsqs.Nr(_dsqs.Local(self)) == 0 &&
            (_core.Current(self) < 0 || (Task(_core.Current(self)).Flags & (uint)TaskFlags.Exiting) == 0) && p.CpusMask.Test(self))
        {
            found = true;
            return self;
        }
        if (_core.Topology.Smt)
        {
            if (_idleSmt.Test(prevCpu) && TestAndClearCpuIdle(prevCpu))
            {
                found = true;
                return prevCpu;
            }
            int core = PickIdleCpu(in p.CpusMask, ScxPickIdleFlags.Core);
            if (core >= 0)
            {
                found = true;
                return core;
            }
        }
        if (TestAndClearCpuIdle(prevCpu))
        {
            found = true;
            return prevCpu;
        }
        int any = PickIdleCpu(in p.CpusMask, 0);
        if (any >= 0)
        {
            found = true;
            return any;
        }
        return prevCpu;
    }

    /// <summary>test_and_clear_cpu_idle: claims an idle CPU (and marks its core not wholly idle).</summary>
    internal bool TestAndClearCpuIdle(int cpu)
    {
        if (_core.Topology.Smt)
        {
            ref readonly var smt = ref _core.Topology.SmtMask(cpu);
            if (!smt.And(_idleSmt).IsEmpty)
            {
                for (int c = smt.First; c >= 0; c = smt.NextFrom(c + 1))
                {
                    _idleSmt.Clear(c);
                }
            }
            else
            {
                _idleSmt.Clear(cpu);
            }
        }
        return _idleCpu.TestAndClear(cpu);
    }

    /// <summary>scx_pick_idle_cpu: an idle CPU of <paramref name="allowed"/> (a whole idle core first with SMT), claimed; −EBUSY if none.</summary>
    internal int PickIdleCpu(in Cpumask allowed, ulong flags)
    {
        while (true)
        {
            int cpu = -1;
            if (_core.Topology.Smt)
            {
                cpu = AnyAndDistribute(in _idleSmt, in allowed);
                if (cpu < 0 && (flags & ScxPickIdleFlags.Core) != 0)
                {
                    return -16;
                }
            }
            if (cpu < 0)
            {
                cpu = AnyAndDistribute(in _idleCpu, in allowed);
                if (cpu < 0)
                {
                    return -16;
                }
            }
            if (TestAndClearCpuIdle(cpu))
            {
                return cpu;
            }
        }
    }

    /// <summary>
    /// cpumask_any_and_distribute (lib/cpumask.c): the next CPU of both masks after the one this CPU picked last time,
    /// wrapping. The position is per CPU and starts at 0, so a CPU's first pick from a full mask is CPU 1.
    /// </summary>
    internal int AnyAndDistribute(in Cpumask a, in Cpumask b)
    {
        var both = a.And(b);
        int n = _core.NrCpus;
        int self = Kfuncs.ThisCpu >= 0 ? Kfuncs.ThisCpu : Math.Max(_core.ThisCpu, 0);
        int next = both.NextFrom(_distributePrev[self] + 1);
        if (next < 0 || next >= n)
        {
            next = both.First;
        }
        if (next < 0 || next >= n)
        {
            return -1;
        }
        _distributePrev[self] = next;
        return next;
    }

    /// <summary>
    /// scx_update_idle (idle.c, __scx_update_idle in ext.c): ops.update_idle when implemented and
    /// <paramref name="notify"/> (a real transition: put_prev_task_idle / set_next_task_idle), the built-in masks when
    /// enabled. Without <paramref name="notify"/> it is pick_task_idle's refresh of a CPU that stays idle: the masks
    /// only, so a CPU reserved by pick_idle_cpu and kicked, but given no task, is idle again.
    /// </summary>
    public void UpdateIdle(int cpu, bool idle, bool notify = true)
    {
        if (!_opsEnabled)
        {
            return;
        }
        if (notify && _ops!.UpdateIdle is not null && !Bypassing)
        {
            CallUpdateIdle(cpu, idle);
        }
        if (_builtinIdle)
        {
            UpdateBuiltinIdle(cpu, idle);
        }
    }

    private void UpdateBuiltinIdle(int cpu, bool idle)
    {
        if (idle)
        {
            _idleCpu.Set(cpu);
        }
        else
        {
            _idleCpu.Clear(cpu);
        }
        if (!_core.Topology.Smt)
        {
            return;
        }
        ref readonly var smt = ref _core.Topology.SmtMask(cpu);
        if (idle)
        {
            if (smt.IsSubsetOf(_idleCpu))
            {
                for (int c = smt.First; c >= 0; c = smt.NextFrom(c + 1))
                {
                    _idleSmt.Set(c);
                }
            }
        }
        else
        {
            for (int c = smt.First; c >= 0; c = smt.NextFrom(c + 1))
            {
                _idleSmt.Clear(c);
            }
        }
    }

    /// <summary>reset_idle_masks: every online CPU counts as idle until the CPUs say otherwise.</summary>
    private void ResetIdleMasks()
    {
        _idleCpu = _core.Topology.Possible;
        for (int cpu = 0; cpu < _core.NrCpus; cpu++)
        {
            if (!_core.CpuOnline(cpu))
            {
                _idleCpu.Clear(cpu); // cpu_online_mask
            }
        }
        _idleSmt = _idleCpu;
    }
}
