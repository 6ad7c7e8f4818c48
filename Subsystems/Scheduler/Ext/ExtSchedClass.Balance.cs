using System.Runtime.CompilerServices;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// balance_one, consume_dispatch_q, dispatch_to_local_dsq, finish_dispatch, flush_dispatch_buf, pick_task_scx,
// put_prev_task_scx, set_next_task_scx, move_*_to_local_dsq (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    // struct scx_dsp_ctx: one buffer (ops.dispatch never nests and the simulation runs one CPU's code at a time).
    private int[] _dspTask;
    private ulong[] _dspQseq;
    private ulong[] _dspDsq;
    private ulong[] _dspFlags;
    private int _dspCursor;
    private int _dspNrTasks;
    private int _dspCpu = -1;
    private int _dspMaxBatch;

    /// <summary>scx_dsp_max_batch of the loaded scheduler.</summary>
    public int DispatchMaxBatch => _dspMaxBatch;

    internal int DispatchCursor => _dspCursor;

    /// <summary>scx_dispatch_commit's buffered half: records an insert made in ops.dispatch.</summary>
    internal void BufferDispatch(ref TaskStruct p, ulong dsqId, ulong enqFlags)
    {
        if (_dspCursor >= _dspMaxBatch)
        {
            ErrorExit(ScxExitKind.Error, 0, "dispatch buffer overflow");
            return;
        }
        _dspTask[_dspCursor] = p.Id;
        _dspQseq[_dspCursor] = p.Scx.OpsState & ScxOpss.QseqMask;
        _dspDsq[_dspCursor] = dsqId;
        _dspFlags[_dspCursor] = enqFlags;
        _dspCursor++;
    }

    /// <summary>scx_bpf_dispatch_cancel's effect.</summary>
    internal void CancelDispatch()
    {
        if (_dspCursor > 0)
        {
            _dspCursor--;
        }
        else
        {
            ErrorExit(ScxExitKind.Error, 0, "dispatch buffer underflow");
        }
    }

    /// <inheritdoc/>
    public override bool Balance(int cpu, int prev)
    {
        if (!_opsEnabled)
        {
            return false;
        }
        EnsureTasks(_core.Tasks.Count);
        _rqFlags[cpu] |= RqInBalance;
        _rqFlags[cpu] &= ~RqBalKeep;
        bool result = BalanceOne(cpu, prev);
        _rqFlags[cpu] &= ~RqInBalance;
        return result;
    }

    private bool BalanceOne(int cpu, int prev)
    {
        bool prevOnScx = prev >= 0 && OnExt(Task(prev));
        bool prevOnRq = prev >= 0 && (Task(prev).Scx.Flags & ScxTaskFlags.Queued) != 0;
        if (_cpuPreempt && _cpuReleased[cpu])
        {
            if (_ops!.CpuAcquire is not null)
            {
                CallCpuAcquire(cpu);
            }
            _cpuReleased[cpu] = false;
        }
        if (prevOnScx)
        {
            UpdateCurr(cpu);
            // prev has slice left and is runnable: keep it, fetching more would only add latency.
            if (prevOnRq && Task(prev).Scx.Slice != 0 && !Bypassing)
            {
                _rqFlags[cpu] |= RqBalKeep;
                return true;
            }
        }
        if (_dsqs.Nr(_dsqs.Local(cpu)) > 0 || ConsumeDispatchQ(cpu, _dsqs.Global(_core.Topology.NodeOf(cpu))))
        {
            return true;
        }
        if (_ops?.Dispatch is not null && !Bypassing)
        {
            _dspCpu = cpu;
            int loops = ScxConsts.DspMaxLoops;
            do
            {
                _dspNrTasks = 0;
                CallDispatch(cpu, prevOnScx ? prev : -1);
                FlushDispatchBuf(cpu);
                if (!_opsEnabled)
                {
                    break;
                }
                if (prevOnRq && Task(prev).Scx.Slice != 0)
                {
                    _rqFlags[cpu] |= RqBalKeep;
                    _dspCpu = -1;
                    return true;
                }
                if (_dsqs.Nr(_dsqs.Local(cpu)) > 0 || ConsumeDispatchQ(cpu, _dsqs.Global(_core.Topology.NodeOf(cpu))))
                {
                    _dspCpu = -1;
                    return true;
                }
                // A dispatch that keeps producing ineligible tasks must not trap the CPU: finish this cycle and
                // kick self for a new one. The kernel's CPU spends real time in those 32 rounds; bpfsim charges
                // one jiffy before the kick lands, or a livelocked scheduler would stop simulated time (and the
                // watchdog, which is what ejects it in the kernel, would never run).
                if (--loops == 0)
                {
                    LoopsExhausted++;
                    _core.Simulator.Schedule(_core.Simulator.Now + JiffiesToTime(1), _handler, EvKickSelf, cpu);
                    break;
                }
            }
            while (_dspNrTasks > 0);
            _dspCpu = -1;
        }
        // Nothing else to run: keep prev unless SCX_OPS_ENQ_LAST wants it enqueued.
        if (prevOnRq && ((_ops?.Flags ?? 0) & ScxOpsFlags.EnqLast) == 0 || prevOnRq && Bypassing)
        {
            _rqFlags[cpu] |= RqBalKeep;
            return true;
        }
        return false;
    }

    /// <summary>How often the dispatch loop hit SCX_DSP_MAX_LOOPS (tests and notes).</summary>
    public long LoopsExhausted { get; private set; }

    /// <summary>flush_dispatch_buf.</summary>
    private void FlushDispatchBuf(int cpu)
    {
        for (int u = 0; u < _dspCursor; u++)
        {
            FinishDispatch(cpu, _dspTask[u], _dspQseq[u], _dspDsq[u], _dspFlags[u]);
        }
        _dspNrTasks += _dspCursor;
        _dspCursor = 0;
    }

    internal void FlushDispatchBuf() => FlushDispatchBuf(_dspCpu);

    internal int DispatchCpu => _dspCpu;

    /// <summary>Counted by scx_bpf_consume so the loop retries.</summary>
    internal void CountConsumed() => _dspNrTasks++;

    /// <summary>finish_dispatch: claims the task only if it is still QUEUED with the qseq seen at dispatch.</summary>
    private void FinishDispatch(int cpu, int task, ulong qseqAtDispatch, ulong dsqId, ulong enqFlags)
    {
        ref var p = ref Task(task);
        ulong opss = p.Scx.OpsState;
        if ((opss & ScxOpss.StateMask) != ScxOpss.Queued || (opss & ScxOpss.QseqMask) != qseqAtDispatch)
        {
            StaleDispatches++;
            return;
        }
        p.Scx.OpsState = ScxOpss.Dispatching;
        int dsq = FindDsqForDispatch(cpu, dsqId, ref p);
        if (_dsqs.IsLocal(dsq))
        {
            DispatchToLocalDsq(cpu, dsq, ref p, enqFlags);
        }
        else
        {
            DispatchEnqueue(dsq, ref p, enqFlags | ScxEnqFlags.ClearOpss);
        }
    }

    /// <summary>Dispatches finish_dispatch dropped because the task was no longer the BPF side's (qseq or state).</summary>
    public long StaleDispatches { get; private set; }

    /// <summary>dispatch_to_local_dsq.</summary>
    private void DispatchToLocalDsq(int cpu, int dstDsq, ref TaskStruct p, ulong enqFlags)
    {
        int srcCpu = p.Cpu;
        int dstCpu = _dsqs.CpuOfLocal(dstDsq);
        if (srcCpu == cpu && dstCpu == cpu)
        {
            DispatchEnqueue(dstDsq, ref p, enqFlags | ScxEnqFlags.ClearOpss);
            return;
        }
        if (srcCpu != dstCpu && !TaskCanRunOnRemoteRq(ref p, dstCpu, true))
        {
            DispatchEnqueue(GlobalDsqOf(p), ref p, enqFlags | ScxEnqFlags.ClearOpss);
            return;
        }
        p.Scx.OpsState = ScxOpss.None;
        if (srcCpu == dstCpu)
        {
            DispatchEnqueue(dstDsq, ref p, enqFlags);
        }
        else
        {
            MoveRemoteTaskToLocalDsq(ref p, enqFlags, srcCpu, dstCpu);
        }
        // Wake the destination if it runs something below ext (idle).
        if (_core.Current(dstCpu) < 0)
        {
            _core.ReschedCurr(dstCpu);
        }
    }

    /// <summary>task_can_run_on_remote_rq (bpfsim has no migrate_disable); an offline CPU is refused without an error.</summary>
    private bool TaskCanRunOnRemoteRq(ref TaskStruct p, int cpu, bool triggerError)
    {
        if (!p.CpusMask.Test(cpu))
        {
            if (triggerError)
            {
                ErrorExit(ScxExitKind.Error, 0, $"SCX_DSQ_LOCAL[_ON] target CPU {cpu} not allowed for {p.CommString}[{p.Pid}]");
            }
            return false;
        }
        return !_anyRqNotOnline || ScxRqOnline(cpu);
    }

    /// <summary>move_remote_task_to_local_dsq: deactivate on the source rq, set_task_cpu, activate on the destination.</summary>
    private void MoveRemoteTaskToLocalDsq(ref TaskStruct p, ulong enqFlags, int srcCpu, int dstCpu)
    {
        int id = p.Id;
        // deactivate_task marks the task TASK_ON_RQ_MIGRATING, which keeps ops.quiescent/runnable out of the move.
        p.OnRq = TaskStruct.OnRqMigrating;
        _core.DeactivateTask(srcCpu, ref p, Kernel.DequeueFlags.None);
        _core.SetTaskCpu(ref Task(id), dstCpu);
        Task(id).Scx.StickyCpu = dstCpu;
        _extraEnqFlags[dstCpu] = enqFlags;
        Task(id).OnRq = TaskStruct.OnRqMigrating;
        _core.ActivateTask(dstCpu, ref Task(id), Kernel.EnqueueFlags.None);
        _extraEnqFlags[dstCpu] = 0;
    }

    /// <summary>consume_dispatch_q: the first task of <paramref name="dsq"/> that may run on <paramref name="cpu"/> moves to its local DSQ.</summary>
    internal bool ConsumeDispatchQ(int cpu, int dsq)
    {
        for (int t = _dsqs.First(dsq); t >= 0; t = _dsqs.Next(t))
        {
            PrefetchForConsume(t);
            ref var p = ref Task(t);
            if (p.Cpu == cpu)
            {
                _dsqs.Unlink(t, ref p);
                PrefetchNextHead(dsq);
                MoveLocalTaskToLocalDsq(ref p, 0, cpu);
                return true;
            }
            if (TaskCanRunOnRemoteRq(ref p, cpu, false))
            {
                _dsqs.Unlink(t, ref p);
                PrefetchNextHead(dsq);
                MoveRemoteTaskToLocalDsq(ref p, 0, p.Cpu, cpu);
                return true;
            }
        }
        return false;
    }

    /// <summary>move_local_task_to_local_dsq.</summary>
    private void MoveLocalTaskToLocalDsq(ref TaskStruct p, ulong enqFlags, int cpu)
    {
        int local = _dsqs.Local(cpu);
        _dsqs.InsertFifo(local, p.Id, head: (enqFlags & (ScxEnqFlags.Head | ScxEnqFlags.Preempt)) != 0);
        p.Scx.DsqId = ScxConsts.DsqLocalOn | (uint)cpu;
        LocalDsqPostEnq(cpu, ref p, enqFlags);
    }

    /// <inheritdoc/>
    public override int PickTask(int cpu)
    {
        if (!_opsEnabled)
        {
            return -1;
        }
        int prev = _core.Current(cpu);
        bool keepPrev = (_rqFlags[cpu] & RqBalKeep) != 0;
        if (keepPrev && (prev < 0 || !OnExt(Task(prev))))
        {
            keepPrev = false;
        }
        if (keepPrev)
        {
            ref var p = ref Task(prev);
            if (p.Scx.Slice == 0)
            {
                p.Scx.Slice = ScxConsts.SliceDfl;
            }
            return prev;
        }
        int first = _dsqs.First(_dsqs.Local(cpu));
        if (first < 0)
        {
            return -1;
        }
        ref var t = ref Task(first);
        if (t.Scx.Slice == 0)
        {
            if (!Bypassing && !_warnedZeroSlice)
            {
                _warnedZeroSlice = true;
                _notes.Add($"t={_core.Simulator.Now}: sched_ext: {t.CommString}[{t.Pid}] has zero slice in pick_task_scx()");
            }
            t.Scx.Slice = ScxConsts.SliceDfl;
        }
        return first;
    }

    private bool _warnedZeroSlice;

    /// <inheritdoc/>
    public override void SetNextTask(int cpu, ref TaskStruct p, bool first)
    {
        if ((p.Scx.Flags & ScxTaskFlags.Queued) != 0)
        {
            // Leaving the DSQ to run; a task the BPF side still held is taken back (core-sched's case).
            if (_dsqs.DsqOf(p.Id) < 0 && (p.Scx.OpsState & ScxOpss.StateMask) == ScxOpss.Queued)
            {
                OpsDequeue(cpu, ref p, ScxDeqFlags.CoreSchedExec);
            }
            DispatchDequeue(ref p);
        }
        p.Se.ExecStart = (ulong)_core.NowNs;
        if (_ops?.Running is { } running && (p.Scx.Flags & ScxTaskFlags.Queued) != 0)
        {
            CallTask(MRunning, running, cpu, ref p);
        }
        ClrTaskRunnable(ref p, true);
        bool inf = p.Scx.Slice == ScxConsts.SliceInf;
        if (inf)
        {
            _rqFlags[cpu] |= RqCanStopTick;
        }
        else
        {
            _rqFlags[cpu] &= ~RqCanStopTick;
        }
    }

    /// <inheritdoc/>
    public override void PutPrevTask(int cpu, ref TaskStruct p, int next)
    {
        UpdateCurr(cpu);
        if (_ops?.Stopping is not null && (p.Scx.Flags & ScxTaskFlags.Queued) != 0)
        {
            CallStopping(cpu, ref p, true);
        }
        if ((p.Scx.Flags & ScxTaskFlags.Queued) != 0 && _opsEnabled)
        {
            SetTaskRunnable(cpu, ref p);
            if (p.Scx.Slice != 0 && !Bypassing)
            {
                // Preempted by a higher class with slice left: first in line when ext runs again.
                DispatchEnqueue(_dsqs.Local(cpu), ref p, ScxEnqFlags.Head);
            }
            else if (next == -1)
            {
                DoEnqueueTask(cpu, ref p, ScxEnqFlags.Last, -1);
                // Back on this CPU's local DSQ: set_tsk_need_resched(next), so the idle CPU picks it at once.
                if (_dsqs.DsqOf(p.Id) == _dsqs.Local(cpu))
                {
                    _core.ReschedCurr(cpu);
                }
            }
            else
            {
                DoEnqueueTask(cpu, ref p, 0, -1);
            }
        }
        if (next == SchedClass.StopperTask || (next >= 0 && !OnExt(Task(next))))
        {
            SwitchClassNotify(cpu, next);
        }
    }

    private bool _cpuPreempt;

    /// <summary>switch_class: the CPU leaves SCX for a higher class: ops.cpu_release, once until cpu_acquire.</summary>
    private void SwitchClassNotify(int cpu, int next)
    {
        if (!_cpuPreempt || _cpuReleased[cpu])
        {
            return;
        }
        if (_ops!.CpuRelease is not null)
        {
            // SCX_CPU_PREEMPT_STOP (2) for the stopper; SCX_CPU_PREEMPT_UNKNOWN (3) for fair, which is not RT, DL or stop.
            CallCpuRelease(cpu, next == SchedClass.StopperTask ? new ScxCpuReleaseArgs(2, -1) : new ScxCpuReleaseArgs(3, next));
        }
        _cpuReleased[cpu] = true;
    }

    /// <summary>scx_bpf_reenqueue_local: the local DSQ's tasks go back through ops.enqueue with SCX_ENQ_REENQ.</summary>
    internal uint ReenqueueLocal(int cpu)
    {
        int local = _dsqs.Local(cpu);
        Span<int> buf = _dsqs.Nr(local) <= 256 ? stackalloc int[_dsqs.Nr(local)] : new int[_dsqs.Nr(local)];
        int n = 0;
        for (int t = _dsqs.First(local); t >= 0; t = _dsqs.Next(t))
        {
            buf[n++] = t;
        }
        for (int i = 0; i < n; i++)
        {
            DispatchDequeue(ref Task(buf[i]));
        }
        for (int i = 0; i < n; i++)
        {
            DoEnqueueTask(cpu, ref Task(buf[i]), ScxEnqFlags.Reenq, -1);
        }
        return (uint)n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UpdateCurrSlice(ref TaskStruct curr, long delta)
    {
        if (curr.Scx.Slice != ScxConsts.SliceInf)
        {
            curr.Scx.Slice -= Math.Min(curr.Scx.Slice, (ulong)delta);
        }
    }
}
