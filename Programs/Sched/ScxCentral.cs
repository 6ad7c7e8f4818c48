using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Programs.Sched;

/// <summary>
/// A C# port of tools/sched_ext/scx_central.bpf.c (6.12): one CPU (<c>central_cpu</c>) makes every decision. Tasks
/// are queued by pid in a FIFO (the kernel example's BPF_MAP_TYPE_QUEUE of 4096, here a plain ring: a C# consumer
/// has no map handle), select_cpu always answers the central CPU, and the central CPU's dispatch hands tasks to the
/// CPUs that asked (cpu_gimme_task) through SCX_DSQ_LOCAL_ON|cpu with SCX_SLICE_INF, kicking them. Workers may run
/// tickless, but only nohz_full CPUs stop their tick and bpfsim has none, so they tick as on a default-booted kernel;
/// a 1 ms timer (a bpf_timer, here <see cref="ScxTimer"/>) on the central CPU preempts any worker whose
/// task has run longer than <c>slice_ns</c> while others wait. SCX_OPS_ENQ_LAST keeps the last task going through
/// ops.enqueue.
/// </summary>
[StructOps(SchedExtOpsType.TypeName, Name = "central", Id = "scx_central", Link = true, Flags = (uint)ScxOpsFlags.EnqLast,
    Description = "sched_ext: one central CPU dispatches to all others (LOCAL_ON + kick), SCX_SLICE_INF workers, timer-enforced slices")]
public sealed class ScxCentral : SchedExtOpsProgram
{
    private const ulong FallbackDsqId = 0;
    private const ulong MsToNs = 1000UL * 1000;
    private const ulong TimerIntervalNs = 1 * MsToNs;
    private const int QueueMax = 4096;

    /// <summary>const volatile s32 central_cpu.</summary>
    [StructOpsOption("central_cpu", Description = "the CPU that makes every scheduling decision")]
    public int CentralCpu;

    /// <summary>const volatile u64 slice_ns.</summary>
    [StructOpsOption("slice_ns", Description = "the slice a worker's task gets before the timer preempts it (ns)")]
    public ulong SliceNs = ScxConsts.SliceDfl;

    private int _nrCpuIds = 1;
    private bool[] _gimme = [];
    private ulong[] _startedAt = [];
    private readonly int[] _queue = new int[QueueMax];
    private int _qHead;
    private int _qCount;
    private ScxTimer? _timer;

    /// <summary>The example's counters.</summary>
    public ulong NrTotal, NrLocals, NrQueued, NrLostPids, NrTimers, NrDispatches, NrMismatches, NrRetries, NrOverflows;

    private static bool VtimeBefore(ulong a, ulong b) => (long)(a - b) < 0;

    private bool Push(int pid)
    {
        if (_qCount == QueueMax)
        {
            return false;
        }
        _queue[(_qHead + _qCount) % QueueMax] = pid;
        _qCount++;
        return true;
    }

    private bool Pop(out int pid)
    {
        pid = 0;
        if (_qCount == 0)
        {
            return false;
        }
        pid = _queue[_qHead];
        _qHead = (_qHead + 1) % QueueMax;
        _qCount--;
        return true;
    }

    public override int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags) => CentralCpu;

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        NrTotal++;
        // Per-CPU kthreads can't wait for the central CPU.
        if ((p.Flags & (uint)TaskFlags.Kthread) != 0 && p.NrCpusAllowed == 1)
        {
            NrLocals++;
            Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceInf, enqFlags | ScxEnqFlags.Preempt);
            return;
        }
        if (!Push(p.Pid))
        {
            NrOverflows++;
            Scx.Dispatch(ref p, FallbackDsqId, Scx.SliceInf, enqFlags);
            return;
        }
        NrQueued++;
        if (!Scx.TaskRunning(p))
        {
            Scx.KickCpu(CentralCpu, (ulong)ScxKickFlags.Preempt);
        }
    }

    private bool DispatchToCpu(int cpu)
    {
        // bpf_repeat(BPF_MAX_LOOPS)
        for (int loop = 0; loop < 8 * 1024 * 1024; loop++)
        {
            if (!Pop(out int pid))
            {
                break;
            }
            NrQueued--;
            ref var p = ref Scx.TaskFromPid(pid);
            if (Unsafe.IsNullRef(ref p))
            {
                NrLostPids++;
                continue;
            }
            // A task that may not run on this CPU goes to the fallback DSQ, which any CPU consumes.
            if (!p.CpusMask.Test(cpu))
            {
                NrMismatches++;
                Scx.Dispatch(ref p, FallbackDsqId, Scx.SliceInf, 0);
                if (Scx.DispatchNrSlots() == 0)
                {
                    break;
                }
                continue;
            }
            Scx.Dispatch(ref p, Scx.DsqLocalOn | (uint)cpu, Scx.SliceInf, 0);
            if (cpu != CentralCpu)
            {
                Scx.KickCpu(cpu, (ulong)ScxKickFlags.Idle);
            }
            return true;
        }
        return false;
    }

    public override void Dispatch(int cpu, ref TaskStruct prev)
    {
        if (cpu == CentralCpu)
        {
            NrDispatches++;
            for (int c = 0; c < _nrCpuIds; c++)
            {
                if (Scx.DispatchNrSlots() == 0)
                {
                    break;
                }
                // central's gimme is never set
                if (!_gimme[c])
                {
                    continue;
                }
                if (DispatchToCpu(c))
                {
                    _gimme[c] = false;
                }
            }
            // Out of slots: retry through a new scheduling cycle.
            if (Scx.DispatchNrSlots() == 0)
            {
                NrRetries++;
                Scx.KickCpu(CentralCpu, (ulong)ScxKickFlags.Preempt);
                return;
            }
            if (Scx.Consume(FallbackDsqId))
            {
                return;
            }
            DispatchToCpu(CentralCpu);
        }
        else
        {
            if (Scx.Consume(FallbackDsqId))
            {
                return;
            }
            _gimme[cpu] = true;
            // Force the central CPU into a scheduling cycle to hand this one a task.
            Scx.KickCpu(CentralCpu, (ulong)ScxKickFlags.Preempt);
        }
    }

    public override void Running(ref TaskStruct p)
    {
        int cpu = Scx.TaskCpu(p);
        ulong now = Scx.NowNs;
        _startedAt[cpu] = now != 0 ? now : 1; // 0 indicates idle
    }

    public override void Stopping(ref TaskStruct p, bool runnable) => _startedAt[Scx.TaskCpu(p)] = 0;

    private void TimerFn()
    {
        ulong now = Scx.NowNs;
        ulong nrToKick = NrQueued;
        for (int i = 0; i < _nrCpuIds; i++)
        {
            int cpu = (int)((NrTimers + (ulong)i) % (ulong)_nrCpuIds);
            if (cpu == CentralCpu)
            {
                continue;
            }
            // Still within its slice: leave it.
            ulong started = _startedAt[cpu];
            if (started != 0 && VtimeBefore(now, started + SliceNs))
            {
                continue;
            }
            // Preempt if there is something waiting for it, or while queued tasks are left to hand out.
            if (Scx.DsqNrQueued(FallbackDsqId) > 0 || Scx.DsqNrQueued(Scx.DsqLocalOn | (uint)cpu) > 0)
            {
            }
            else if (nrToKick > 0)
            {
                nrToKick--;
            }
            else
            {
                continue;
            }
            Scx.KickCpu(cpu, (ulong)ScxKickFlags.Preempt);
        }
        int ret = _timer!.StartOn(TimerIntervalNs, CentralCpu);
        if (ret != 0)
        {
            Scx.Error($"bpf_timer_start failed ({ret})");
        }
        NrTimers++;
    }

    public override int Init()
    {
        _nrCpuIds = Scx.NrCpuIds;
        _gimme = new bool[_nrCpuIds];
        _startedAt = new ulong[_nrCpuIds];
        if ((uint)CentralCpu >= (uint)_nrCpuIds)
        {
            Scx.Error($"central_cpu {CentralCpu} is not a CPU (nr_cpu_ids {_nrCpuIds})");
            return -22;
        }
        int ret = Scx.CreateDsq(FallbackDsqId, -1);
        if (ret != 0)
        {
            return ret;
        }
        _timer = Scx.CreateTimer(TimerFn);
        // The loader pins itself to the central CPU before loading, so init and the pinned timer run there.
        ret = _timer.StartOn(TimerIntervalNs, CentralCpu);
        if (ret != 0)
        {
            Scx.Error($"bpf_timer_start failed ({ret})");
        }
        return ret;
    }

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
