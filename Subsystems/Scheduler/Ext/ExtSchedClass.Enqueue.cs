using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// enqueue_task_scx, do_enqueue_task, direct_dispatch, schedule_deferred, process_ddsp_deferred_locals,
// task_woken_scx, dispatch_enqueue, find_dsq_for_dispatch, dequeue_task_scx, ops_dequeue, dispatch_dequeue
// (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    /// <summary>direct_dispatch_task: the task whose select_cpu/enqueue is running (−1 none, −2 already used).</summary>
    private int _ddspTask = -1;
    private const int DdspSpoiled = -2;

    private ulong[] _extraEnqFlags = [];

    /// <summary>init_scx_entity: the entity as __sched_fork leaves it.</summary>
    internal void InitEntity(ref TaskStruct p)
    {
        EnsureTasks(p.Id + 1);
        p.Scx = default;
        p.Scx.StickyCpu = -1;
        p.Scx.HoldingCpu = -1;
        p.Scx.RunnableAt = _core.Jiffies;
        p.Scx.DdspDsqId = ScxConsts.DsqInvalid;
        p.Scx.Slice = ScxConsts.SliceDfl;
        _entityInit[p.Id] = true;
    }

    private bool[] _entityInit = [];

    /// <inheritdoc/>
    public override void EnqueueTask(int cpu, ref TaskStruct p, EnqueueFlags flags)
    {
        EnsureTasks(p.Id + 1);
        _inWakeup = (flags & EnqueueFlags.Wakeup) != 0;
        ulong enqFlags = (ulong)(uint)flags | _extraEnqFlags[cpu];
        int sticky = p.Scx.StickyCpu;
        if (sticky >= 0)
        {
            p.Scx.StickyCpu = -1;
        }
        // A running task restored by a property change goes straight back to the local DSQ (set_next_task follows).
        if ((flags & EnqueueFlags.Restore) != 0 && _core.Current(cpu) == p.Id)
        {
            sticky = cpu;
        }
        if ((p.Scx.Flags & ScxTaskFlags.Queued) != 0)
        {
            _inWakeup = false;
            return;
        }
        SetTaskRunnable(cpu, ref p);
        p.Scx.Flags |= ScxTaskFlags.Queued;
        _nrRunning[cpu]++;
        if (_ops?.Runnable is { } runnable && p.OnRq != TaskStruct.OnRqMigrating)
        {
            CallTaskFlags(MRunnable, runnable, ScxKfMask.Rest, cpu, ref p, enqFlags);
        }
        DoEnqueueTask(cpu, ref p, enqFlags, sticky);
        _inWakeup = false;
    }

    /// <summary>
    /// SCX_RQ_IN_WAKEUP: an ENQUEUE_WAKEUP enqueue is running (one flag suffices: it is set and cleared within one
    /// <see cref="EnqueueTask"/>, which nothing re-enters).
    /// </summary>
    private bool _inWakeup;

    /// <summary>task_woken_scx: run_deferred, so a wake-up's deferred remote local dispatches happen before its rq is unlocked.</summary>
    public override void TaskWoken(int cpu, ref TaskStruct p) => ProcessDeferred(cpu);

    /// <summary>do_enqueue_task.</summary>
    private void DoEnqueueTask(int cpu, ref TaskStruct p, ulong enqFlags, int stickyCpu)
    {
        if (stickyCpu == cpu)
        {
            ClearDirectDispatch(ref p);
            DispatchEnqueue(_dsqs.Local(cpu), ref p, enqFlags);
            return;
        }
        if (_anyRqNotOnline && !ScxRqOnline(cpu))
        {
            // The BPF scheduler was told the CPU is offline; the hotplug path is running (ExtSchedClass.Hotplug.cs).
            p.Scx.Slice = ScxConsts.SliceDfl;
            ClearDirectDispatch(ref p);
            DispatchEnqueue(_dsqs.Local(cpu), ref p, enqFlags);
            return;
        }
        if (Bypassing)
        {
            p.Scx.Slice = ScxConsts.SliceDfl;
            ClearDirectDispatch(ref p);
            DispatchEnqueue(GlobalDsqOf(p), ref p, enqFlags);
            return;
        }
        if (p.Scx.DdspDsqId != ScxConsts.DsqInvalid)
        {
            DirectDispatch(cpu, ref p, enqFlags);
            return;
        }
        if ((_ops!.Flags & ScxOpsFlags.EnqExiting) == 0 && (p.Flags & (uint)TaskFlags.Exiting) != 0)
        {
            p.Scx.Slice = ScxConsts.SliceDfl;
            ClearDirectDispatch(ref p);
            DispatchEnqueue(_dsqs.Local(cpu), ref p, enqFlags);
            return;
        }
        if (_ops.Enqueue is not { } enqueue)
        {
            p.Scx.Slice = ScxConsts.SliceDfl;
            ClearDirectDispatch(ref p);
            DispatchEnqueue(GlobalDsqOf(p), ref p, enqFlags);
            return;
        }
        // The qseq brands this QUEUED instance; 0 is never used (it is what a dispatch of a NONE task records).
        const uint qseqMask = unchecked((uint)(ScxOpss.QseqMask >> ScxOpss.QseqShift));
        p.Scx.OpsQseq = (p.Scx.OpsQseq + 1) & qseqMask;
        if (p.Scx.OpsQseq == 0)
        {
            p.Scx.OpsQseq = 1;
        }
        ulong qseq = (ulong)p.Scx.OpsQseq << ScxOpss.QseqShift;
        p.Scx.OpsState = ScxOpss.Queueing | qseq;
        int saved = _ddspTask;
        _ddspTask = p.Id;
        CallTaskFlags(MEnqueue, enqueue, ScxKfMask.Enqueue, cpu, ref p, enqFlags);
        _ddspTask = saved;
        if (p.Scx.DdspDsqId != ScxConsts.DsqInvalid)
        {
            DirectDispatch(cpu, ref p, enqFlags);
            return;
        }
        p.Scx.OpsState = ScxOpss.Queued | qseq;
    }

    private static void ClearDirectDispatch(ref TaskStruct p)
    {
        p.Scx.DdspDsqId = ScxConsts.DsqInvalid;
        p.Scx.DdspEnqFlags = 0;
    }

    /// <summary>mark_direct_dispatch: scx_bpf_dispatch from select_cpu or enqueue records the verdict.</summary>
    internal void MarkDirectDispatch(ref TaskStruct p, ulong dsqId, ulong enqFlags)
    {
        int ddsp = _ddspTask;
        _ddspTask = DdspSpoiled;
        if (p.Id != ddsp)
        {
            if (ddsp == DdspSpoiled)
            {
                ErrorExit(ScxExitKind.Error, 0, $"{p.CommString}[{p.Pid}] already direct-dispatched");
            }
            else
            {
                ref var q = ref Task(ddsp);
                ErrorExit(ScxExitKind.Error, 0, $"scheduling for {q.CommString}[{q.Pid}] but trying to direct-dispatch {p.CommString}[{p.Pid}]");
            }
            return;
        }
        p.Scx.DdspDsqId = dsqId;
        p.Scx.DdspEnqFlags = enqFlags;
    }

    /// <summary>Whether a select_cpu or enqueue is running, so an insert is a direct dispatch.</summary>
    internal bool InDirectDispatchContext => _ddspTask != -1;

    /// <summary>direct_dispatch.</summary>
    private void DirectDispatch(int cpu, ref TaskStruct p, ulong enqFlags)
    {
        int dsq = FindDsqForDispatch(cpu, p.Scx.DdspDsqId, ref p);
        p.Scx.DdspEnqFlags |= enqFlags;
        // A verdict for a remote CPU's local DSQ waits until this rq can be unlocked (ddsp_deferred_locals).
        if (_dsqs.IsLocal(dsq) && dsq != _dsqs.Local(cpu))
        {
            if ((p.Scx.OpsState & ScxOpss.StateMask) == ScxOpss.Queueing)
            {
                p.Scx.OpsState = ScxOpss.None;
            }
            _dsqs.InsertFifo(_dsqs.Deferred(cpu), p.Id, head: false);
            // schedule_deferred (ext.c): in a wake-up, task_woken_scx runs them right after wakeup_preempt
            // (TaskWoken); otherwise the balance callback or irq_work does, after the current rq work (an event now).
            if (!_inWakeup && !_deferredQueued)
            {
                _deferredQueued = true;
                _core.Simulator.Schedule(_core.Simulator.Now, _handler, EvDeferred);
            }
            return;
        }
        ulong flags = p.Scx.DdspEnqFlags;
        ClearDirectDispatch(ref p);
        DispatchEnqueue(dsq, ref p, flags | ScxEnqFlags.ClearOpss);
    }

    /// <summary>process_ddsp_deferred_locals for every CPU.</summary>
    private void ProcessAllDeferred()
    {
        _deferredQueued = false;
        for (int cpu = 0; cpu < _core.NrCpus; cpu++)
        {
            ProcessDeferred(cpu);
        }
    }

    /// <summary>process_ddsp_deferred_locals for <paramref name="cpu"/>'s rq.</summary>
    private void ProcessDeferred(int cpu)
    {
        int list = _dsqs.Deferred(cpu);
        int t;
        while ((t = _dsqs.First(list)) >= 0)
        {
            ref var p = ref Task(t);
            _dsqs.Unlink(t, ref p);
            ulong dsqId = p.Scx.DdspDsqId;
            ulong flags = p.Scx.DdspEnqFlags;
            ClearDirectDispatch(ref p);
            if (!_opsEnabled)
            {
                continue;
            }
            int dsq = FindDsqForDispatch(cpu, dsqId, ref p);
            if (_dsqs.IsLocal(dsq))
            {
                DispatchToLocalDsq(cpu, dsq, ref Task(t), flags);
            }
        }
    }

    /// <summary>find_dsq_for_dispatch: a bad target raises an error and falls back to the task's global DSQ.</summary>
    internal int FindDsqForDispatch(int cpu, ulong dsqId, ref TaskStruct p)
    {
        if (dsqId == ScxConsts.DsqLocal)
        {
            return _dsqs.Local(cpu);
        }
        if ((dsqId & ScxConsts.DsqLocalOn) == ScxConsts.DsqLocalOn)
        {
            int target = (int)(uint)(dsqId & ScxConsts.DsqLocalCpuMask); // s32 in ext.c: 0xffffffff is CPU -1
            if (!OpsCpuValid(target, "in SCX_DSQ_LOCAL_ON dispatch verdict"))
            {
                return GlobalDsqOf(p);
            }
            return _dsqs.Local(target);
        }
        int dsq = dsqId == ScxConsts.DsqGlobal ? GlobalDsqOf(p) : _dsqs.FindUser(dsqId);
        if (dsq < 0)
        {
            ErrorExit(ScxExitKind.Error, 0, $"non-existent DSQ 0x{dsqId:x} for {p.CommString}[{p.Pid}]");
            return GlobalDsqOf(p);
        }
        return dsq;
    }

    /// <summary>ops_cpu_valid.</summary>
    internal bool OpsCpuValid(long cpu, string? where)
    {
        if (cpu >= 0 && cpu < _core.NrCpus)
        {
            return true;
        }
        ErrorExit(ScxExitKind.Error, 0, $"invalid CPU {cpu}{(where is null ? "" : " ")}{where}");
        return false;
    }

    /// <summary>dispatch_enqueue.</summary>
    private void DispatchEnqueue(int dsq, ref TaskStruct p, ulong enqFlags)
    {
        bool isLocal = _dsqs.IsLocal(dsq);
        if (!isLocal && _dsqs.Id(dsq) == ScxConsts.DsqInvalid)
        {
            ErrorExit(ScxExitKind.Error, 0, "attempting to dispatch to a destroyed dsq");
            dsq = GlobalDsqOf(p);
        }
        ulong id = _dsqs.Id(dsq);
        if ((id & ScxConsts.DsqFlagBuiltin) != 0 && (enqFlags & ScxEnqFlags.DsqPriq) != 0)
        {
            ErrorExit(ScxExitKind.Error, 0, "cannot use vtime ordering for built-in DSQs");
            enqFlags &= ~ScxEnqFlags.DsqPriq;
        }
        if ((enqFlags & ScxEnqFlags.DsqPriq) != 0)
        {
            // Only checkable when the first PRIQ task arrives: the list holds FIFO tasks but the tree is empty.
            if (!_dsqs.HasPriq(dsq) && _dsqs.Nr(dsq) > 0)
            {
                ErrorExit(ScxExitKind.Error, 0, $"DSQ ID 0x{id:x16} already had FIFO-enqueued tasks");
            }
            _dsqs.InsertPriq(dsq, p.Id, _core.Tasks);
        }
        else
        {
            if (_dsqs.HasPriq(dsq))
            {
                ErrorExit(ScxExitKind.Error, 0, $"DSQ ID 0x{id:x16} already had PRIQ-enqueued tasks");
            }
            _dsqs.InsertFifo(dsq, p.Id, head: (enqFlags & (ScxEnqFlags.Head | ScxEnqFlags.Preempt)) != 0);
        }
        ref var q = ref Task(p.Id);
        q.Scx.DsqSeq = _dsqs.Seq(dsq);
        q.Scx.DsqId = id == ScxConsts.DsqLocal ? ScxConsts.DsqLocalOn | (uint)_dsqs.CpuOfLocal(dsq) : id;
        if ((enqFlags & ScxEnqFlags.ClearOpss) != 0)
        {
            q.Scx.OpsState = ScxOpss.None;
        }
        if (isLocal)
        {
            LocalDsqPostEnq(_dsqs.CpuOfLocal(dsq), ref q, enqFlags);
        }
    }

    /// <summary>local_dsq_post_enq: SCX_ENQ_PREEMPT zeroes the running SCX task's slice; a CPU running a lower class reschedules.</summary>
    private void LocalDsqPostEnq(int cpu, ref TaskStruct p, ulong enqFlags)
    {
        if ((_rqFlags[cpu] & RqInBalance) != 0)
        {
            return;
        }
        int curr = _core.Current(cpu);
        bool preempt = false;
        if ((enqFlags & ScxEnqFlags.Preempt) != 0 && curr >= 0 && curr != p.Id && OnExt(Task(curr)))
        {
            Task(curr).Scx.Slice = 0;
            preempt = true;
        }
        // sched_class_above(ext, curr's class): only idle is below ext.
        if (preempt || curr < 0)
        {
            _core.ReschedCurr(cpu);
        }
    }

    /// <inheritdoc/>
    public override bool DequeueTask(int cpu, ref TaskStruct p, DequeueFlags flags)
    {
        if ((p.Scx.Flags & ScxTaskFlags.Queued) == 0)
        {
            return true;
        }
        ulong deqFlags = (ulong)(uint)flags;
        OpsDequeue(cpu, ref p, deqFlags);
        if (_ops?.Stopping is not null && _core.Current(cpu) == p.Id)
        {
            UpdateCurr(cpu);
            CallStopping(cpu, ref p, false);
        }
        if (_ops?.Quiescent is { } quiescent && p.OnRq != TaskStruct.OnRqMigrating)
        {
            CallTaskFlags(MQuiescent, quiescent, ScxKfMask.Rest, cpu, ref p, deqFlags);
        }
        if ((deqFlags & ScxDeqFlags.Sleep) != 0)
        {
            p.Scx.Flags |= ScxTaskFlags.DeqdForSleep;
        }
        else
        {
            p.Scx.Flags &= ~ScxTaskFlags.DeqdForSleep;
        }
        p.Scx.Flags &= ~ScxTaskFlags.Queued;
        _nrRunning[cpu]--;
        DispatchDequeue(ref p);
        ClearDirectDispatch(ref p);
        return true;
    }

    /// <summary>ops_dequeue: a task the BPF side holds (QUEUED) is taken back; ops.dequeue tells it.</summary>
    private void OpsDequeue(int cpu, ref TaskStruct p, ulong deqFlags)
    {
        ClrTaskRunnable(ref p, false);
        if ((p.Scx.OpsState & ScxOpss.StateMask) == ScxOpss.Queued)
        {
            if (_ops?.Dequeue is { } dequeue)
            {
                CallTaskFlags(MDequeue, dequeue, ScxKfMask.Rest, cpu, ref p, deqFlags);
            }
        }
        // QUEUEING and DISPATCHING never outlive the code that set them in a single-threaded simulation.
        p.Scx.OpsState = ScxOpss.None;
    }

    /// <summary>dispatch_dequeue: off whatever DSQ (or deferred list) the task is on.</summary>
    private void DispatchDequeue(ref TaskStruct p)
    {
        _dsqs.Unlink(p.Id, ref p);
        p.Scx.HoldingCpu = -1;
    }
}
