using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// The sched_ext kfuncs of one kernel (kernel/sched/ext.c, 6.12), taking task ids and CPU numbers, so the C# facade
/// <see cref="Scx"/> and the bytecode kfunc table call the same code. Each checks its calling context as the kernel's
/// scx_kf_allowed does (the SCX_KF_* mask of the operation being run) and turns misuse into an error exit with the
/// kernel's message, never an exception.
/// </summary>
public sealed class ScxKfuncs
{
    private readonly ExtSchedClass _ext;

    internal ScxKfuncs(ExtSchedClass ext)
    {
        _ext = ext;
    }

    /// <summary>current-&gt;scx.kf_mask: the kfunc sets the running operation allows.</summary>
    public ScxKfMask KfMask { get; internal set; }

    /// <summary>Whether the operation now running is one a program may implement sleepable (bpf_scx_check_member).</summary>
    internal bool InSleepable { get; set; }

    /// <summary>kf_tasks[0], kf_tasks[1]: the tasks the running operation is about (−1 none).</summary>
    public int KfTask0 { get; internal set; } = -1;

    public int KfTask1 { get; internal set; } = -1;

    /// <summary>smp_processor_id() for the running operation (−1 outside one: CPU 0 is used).</summary>
    public int ThisCpu { get; internal set; } = -1;

    private int Cpu => ThisCpu >= 0 ? ThisCpu : 0;

    private TaskTable Tasks => _ext.Core.Tasks;

    internal TaskTable TasksTable => _ext.Core.Tasks;

    /// <summary>nr_cpu_ids.</summary>
    public int NrCpuIds => _ext.Core.NrCpus;

    /// <summary>bpf_ktime_get_ns.</summary>
    public ulong NowNs => (ulong)_ext.Core.NowNs;

    private static int HighestBit(uint m) => m == 0 ? -1 : 31 - System.Numerics.BitOperations.LeadingZeroCount(m);

    /// <summary>scx_kf_allowed.</summary>
    private bool Allowed(ScxKfMask mask)
    {
        if ((KfMask & mask) == 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, $"kfunc with mask 0x{(uint)mask:x} called from an operation only allowing 0x{(uint)KfMask:x}");
            return false;
        }
        uint higher(ScxKfMask bit) => ~(((uint)bit << 1) - 1);
        int top = HighestBit((uint)mask);
        if (top == HighestBit((uint)ScxKfMask.CpuRelease) && ((uint)KfMask & higher(ScxKfMask.CpuRelease)) != 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "cpu_release kfunc called from a nested operation");
            return false;
        }
        if (top == HighestBit((uint)ScxKfMask.Dispatch) && ((uint)KfMask & higher(ScxKfMask.Dispatch)) != 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "dispatch kfunc called from a nested operation");
            return false;
        }
        return true;
    }

    private bool Sleepable(string kfunc)
    {
        // Only the sleepable operations (init, init_task, exit, cpu_online/offline) may: ops.dump and BPF timer
        // callbacks share their SCX_KF_UNLOCKED mask but are not sleepable programs.
        if (KfMask != ScxKfMask.Unlocked || !InSleepable)
        {
            // The verifier refuses this at load for bytecode; a C# consumer learns it at the call.
            _ext.ErrorExit(ScxExitKind.Error, 0, $"program must be sleepable to call sleepable kfunc {kfunc} (called with kf_mask 0x{(uint)KfMask:x})");
            return false;
        }
        return true;
    }

    /// <summary>
    /// A scheduler is loaded: from ops.init on, so a kfunc called from ops.init or ops.init_task meets the same
    /// scx_kf_allowed check as anywhere else (their SCX_KF_UNLOCKED mask refuses dispatch, consume and select_cpu_dfl:
    /// an error that ends the scheduler once its enable has run), and a kick from there is carried out.
    /// </summary>
    private bool Loaded => _ext.Loaded;

    /// <summary>scx_dispatch_preamble.</summary>
    private bool DispatchPreamble(int task, ulong enqFlags)
    {
        if (!Allowed(ScxKfMask.Enqueue | ScxKfMask.Dispatch))
        {
            return false;
        }
        if (task < 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "called with NULL task");
            return false;
        }
        if ((enqFlags & ScxEnqFlags.InternalMask) != 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, $"invalid enq_flags 0x{enqFlags:x}");
            return false;
        }
        return true;
    }

    private void DispatchCommit(ref TaskStruct p, ulong dsqId, ulong enqFlags)
    {
        if (_ext.InDirectDispatchContext)
        {
            _ext.MarkDirectDispatch(ref p, dsqId, enqFlags);
        }
        else
        {
            _ext.BufferDispatch(ref p, dsqId, enqFlags);
        }
    }

    /// <summary>scx_bpf_dispatch (6.13+: scx_bpf_dsq_insert): slice 0 keeps the current slice (or 1 if it is 0).</summary>
    public void DsqInsert(int task, ulong dsqId, ulong slice, ulong enqFlags)
    {
        if (!Loaded || !DispatchPreamble(task, enqFlags))
        {
            return;
        }
        ref var p = ref Tasks[task];
        p.Scx.Slice = slice != 0 ? slice : p.Scx.Slice != 0 ? p.Scx.Slice : 1;
        DispatchCommit(ref p, dsqId, enqFlags);
    }

    /// <summary>scx_bpf_dispatch_vtime (6.13+: scx_bpf_dsq_insert_vtime): sets dsq_vtime, PRIQ insert.</summary>
    public void DsqInsertVtime(int task, ulong dsqId, ulong slice, ulong vtime, ulong enqFlags)
    {
        if (!Loaded || !DispatchPreamble(task, enqFlags))
        {
            return;
        }
        ref var p = ref Tasks[task];
        p.Scx.Slice = slice != 0 ? slice : p.Scx.Slice != 0 ? p.Scx.Slice : 1;
        p.Scx.DsqVtime = vtime;
        DispatchCommit(ref p, dsqId, enqFlags | ScxEnqFlags.DsqPriq);
    }

    /// <summary>scx_bpf_consume (6.13+: scx_bpf_dsq_move_to_local): flushes the buffer, then moves one task of a user DSQ here.</summary>
    public bool DsqMoveToLocal(ulong dsqId)
    {
        if (!Loaded || !Allowed(ScxKfMask.Dispatch))
        {
            return false;
        }
        _ext.FlushDispatchBuf();
        int dsq = _ext.Dsqs.FindUser(dsqId);
        if (dsq < 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, $"invalid DSQ ID 0x{dsqId:x16}");
            return false;
        }
        if (_ext.ConsumeDispatchQ(_ext.DispatchCpu, dsq))
        {
            _ext.CountConsumed();
            return true;
        }
        return false;
    }

    /// <summary>scx_bpf_dispatch_nr_slots.</summary>
    public uint DispatchNrSlots() => Loaded && Allowed(ScxKfMask.Dispatch) ? (uint)(_ext.DispatchMaxBatch - _ext.DispatchCursor) : 0;

    /// <summary>scx_bpf_dispatch_cancel.</summary>
    public void DispatchCancel()
    {
        if (Loaded && Allowed(ScxKfMask.Dispatch))
        {
            _ext.CancelDispatch();
        }
    }

    /// <summary>scx_bpf_reenqueue_local (ops.cpu_release only).</summary>
    public uint ReenqueueLocal() => Loaded && Allowed(ScxKfMask.CpuRelease) ? _ext.ReenqueueLocal(Cpu) : 0;

    /// <summary>scx_bpf_create_dsq (sleepable): 0, −EINVAL (built-in id, bad node) or −EEXIST.</summary>
    public int CreateDsq(ulong dsqId, int node)
    {
        if (!Sleepable("scx_bpf_create_dsq"))
        {
            return -22;
        }
        if (node >= _ext.Core.Topology.NodeCount || (node < 0 && node != ScxConsts.NumaNoNode))
        {
            return -22;
        }
        return _ext.Dsqs.CreateUser(dsqId, out _);
    }

    /// <summary>scx_bpf_destroy_dsq: an in-use DSQ is an error and stays.</summary>
    public void DestroyDsq(ulong dsqId)
    {
        int dsq = _ext.Dsqs.FindUser(dsqId);
        if (dsq < 0)
        {
            return;
        }
        if (_ext.Dsqs.Nr(dsq) > 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, $"attempting to destroy in-use dsq 0x{dsqId:x16} (nr={_ext.Dsqs.Nr(dsq)})");
            return;
        }
        _ext.Dsqs.RemoveUser(dsq);
    }

    /// <summary>scx_bpf_kick_cpu: queued, carried out at this instant after the caller returns.</summary>
    public void KickCpu(int cpu, ulong flags) => KickCpuInternal(cpu, flags, Cpu);

    internal void KickCpuInternal(int cpu, ulong flags, int thisCpu)
    {
        if (!Loaded || !_ext.OpsCpuValid(cpu, null) || _ext.Bypassing)
        {
            return; // don't kick while bypassing
        }
        var f = (ScxKickFlags)flags;
        if ((f & ScxKickFlags.Idle) != 0 && (f & (ScxKickFlags.Preempt | ScxKickFlags.Wait)) != 0)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "PREEMPT/WAIT cannot be used with SCX_KICK_IDLE");
        }
        _ = thisCpu;
        _ext.QueueKick(cpu, f);
    }

    /// <summary>scx_bpf_select_cpu_dfl (ops.select_cpu only, built-in idle tracking on).</summary>
    public int SelectCpuDfl(int task, int prevCpu, ulong wakeFlags, out bool isIdle)
    {
        isIdle = false;
        if (!Loaded || !_ext.OpsCpuValid(prevCpu, null))
        {
            return prevCpu;
        }
        if (!_ext.BuiltinIdleEnabled)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "built-in idle tracking is disabled");
            return prevCpu;
        }
        if (!Allowed(ScxKfMask.SelectCpu))
        {
            return prevCpu;
        }
        return _ext.SelectCpuDfl(ref Tasks[task], prevCpu, wakeFlags, out isIdle);
    }

    private bool BuiltinIdle()
    {
        if (!_ext.BuiltinIdleEnabled)
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "built-in idle tracking is disabled");
            return false;
        }
        return true;
    }

    /// <summary>scx_bpf_pick_idle_cpu: an idle CPU of the mask, claimed; −EBUSY if none.</summary>
    public int PickIdleCpu(in Cpumask allowed, ulong flags) => BuiltinIdle() ? _ext.PickIdleCpu(allowed, flags) : -16;

    /// <summary>scx_bpf_pick_any_cpu: an idle CPU if there is one, else any CPU of the mask (distributed).</summary>
    public int PickAnyCpu(in Cpumask allowed, ulong flags)
    {
        if (_ext.BuiltinIdleEnabled)
        {
            int cpu = _ext.PickIdleCpu(allowed, flags);
            if (cpu >= 0)
            {
                return cpu;
            }
        }
        var all = _ext.Core.Topology.Possible;
        int any = _ext.AnyAndDistribute(in allowed, in all);
        return any >= 0 ? any : -16;
    }

    /// <summary>scx_bpf_test_and_clear_cpu_idle.</summary>
    public bool TestAndClearCpuIdle(int cpu) => BuiltinIdle() && _ext.OpsCpuValid(cpu, null) && _ext.TestAndClearCpuIdle(cpu);

    /// <summary>scx_bpf_get_idle_cpumask (a copy; the kernel's is read-only to the caller).</summary>
    public Cpumask GetIdleCpumask() => BuiltinIdle() ? _ext.IdleCpumask : default;

    /// <summary>scx_bpf_get_online_cpumask (a copy of cpu_online_mask).</summary>
    public Cpumask GetOnlineCpumask()
    {
        var core = _ext.Core;
        var m = core.Topology.Possible;
        for (int cpu = 0; cpu < core.NrCpus; cpu++)
        {
            if (!core.CpuOnline(cpu))
            {
                m.Clear(cpu);
            }
        }
        return m;
    }

    /// <summary>scx_bpf_get_possible_cpumask (cpu_possible_mask).</summary>
    public Cpumask GetPossibleCpumask() => _ext.Core.Topology.Possible;

    /// <summary>bpf_printk from a C# scheduler: a line of the run's trace (trace_pipe), on this CPU, under the scheduler's name.</summary>
    public void TracePrintk(string text)
    {
        if (_ext.Bpf is { } bpf)
        {
            bpf.Trace.Add(new Core.Bpf.TraceLine(bpf.Simulator.Now, Math.Max(Cpu, 0), _ext.Ops?.Name ?? "?", text));
        }
    }

    /// <summary>scx_bpf_get_idle_smtmask.</summary>
    public Cpumask GetIdleSmtmask() => BuiltinIdle() ? _ext.IdleSmtmask : default;

    /// <summary>scx_bpf_put_idle_cpumask: nothing to release.</summary>
    public static void PutIdleCpumask(in Cpumask mask)
    {
        _ = mask;
    }

    /// <summary>scx_bpf_dsq_nr_queued: SCX_DSQ_LOCAL, LOCAL_ON|cpu or a user DSQ; −ENOENT otherwise (the global DSQ too, in 6.12).</summary>
    public int DsqNrQueued(ulong dsqId)
    {
        if (dsqId == ScxConsts.DsqLocal)
        {
            return _ext.Dsqs.Nr(_ext.Dsqs.Local(Cpu));
        }
        if ((dsqId & ScxConsts.DsqLocalOn) == ScxConsts.DsqLocalOn)
        {
            int cpu = (int)(uint)(dsqId & ScxConsts.DsqLocalCpuMask); // s32 in ext.c
            if (_ext.OpsCpuValid(cpu, null))
            {
                return _ext.Dsqs.Nr(_ext.Dsqs.Local(cpu));
            }
            return -2;
        }
        int dsq = _ext.Dsqs.FindUser(dsqId);
        return dsq >= 0 ? _ext.Dsqs.Nr(dsq) : -2;
    }

    /// <summary>scx_bpf_task_cpu.</summary>
    public int TaskCpu(int task) => Tasks[task].Cpu;

    /// <summary>The id of the task with <paramref name="pid"/> (bpf_task_from_pid), or −1.</summary>
    public int TaskFromPid(int pid)
    {
        var tasks = Tasks;
        for (int i = 0; i < tasks.Count; i++)
        {
            if (tasks[i].Pid == pid && tasks[i].State != (uint)TaskState.Dead)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>scx_bpf_error: SCX_EXIT_ERROR_BPF with the message.</summary>
    public void Error(string message) => _ext.ErrorExit(ScxExitKind.ErrorBpf, 0, message);

    /// <summary>scx_ops_error: an SCX_EXIT_ERROR the kernel raises on the scheduler's behalf, such as a bstr format it refuses.</summary>
    internal void OpsError(string message) => _ext.ErrorExit(ScxExitKind.Error, 0, message);

    /// <summary>scx_bpf_exit: SCX_EXIT_UNREG_BPF with the code and message.</summary>
    public void Exit(long exitCode, string message) => _ext.ErrorExit(ScxExitKind.UnregBpf, exitCode, message);

    /// <summary>scx_bpf_dump: only from ops.dump, dump_cpu and dump_task.</summary>
    public void Dump(string text)
    {
        if (!_ext.AppendDump(text))
        {
            _ext.ErrorExit(ScxExitKind.Error, 0, "scx_bpf_dump() must only be called from ops.dump() and friends");
        }
    }

    /// <summary>scx_bpf_task_running: whether the task is the current task of its CPU.</summary>
    public bool TaskRunning(int task) => _ext.Core.Current(Tasks[task].Cpu) == task;

    /// <summary>bpf_timer_init + bpf_timer_set_callback: a timer that lives as long as the scheduler.</summary>
    public ScxTimer CreateTimer(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _ext.CreateTimer(callback);
    }

    /// <summary>The BpfSystem the scheduler was loaded into (for a C# scheduler's own maps), or null.</summary>
    public Core.Bpf.BpfSystem? Bpf => _ext.Bpf;
}
