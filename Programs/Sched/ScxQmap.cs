using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Programs.Sched;

/// <summary>
/// A C# port of the core of tools/sched_ext/scx_qmap.bpf.c (6.12): five FIFO BPF_MAP_TYPE_QUEUE maps (4096 pids
/// each) held in a BPF_MAP_TYPE_ARRAY_OF_MAPS, created in ops.init in the BpfSystem the scheduler was loaded into; a
/// task goes to the queue of its weight band (≤25, ≤50, &lt;200, &lt;400, else); ops.dispatch pops from the queues in
/// rounds of 1, 2, 4, 8, 16 (queue i gets 2^i per round) into SHARED_DSQ and consumes it; select_cpu and enqueue
/// dispatch straight to an idle CPU; cpu_release re-enqueues the local DSQ (scx_bpf_reenqueue_local); the
/// stall_user_nth / stall_kernel_nth options drop every nth enqueue (a stall the watchdog catches, timeout_ms 5 s);
/// dump, dump_cpu and dump_task write the queues and per-CPU and per-task state into the exit dump; init, cpu_online
/// and cpu_offline print the CPUs' online states to the trace (print_cpus), and implementing the hotplug ops keeps
/// it loaded when a CPU goes on- or offline.
/// Not ported: the high-priority boosting (it iterates DSQs with bpf_for_each(scx_dsq)), core_sched_before's
/// bookkeeping, cpuperf targets and the monitor timer's printouts. Per-task (task storage) and per-CPU (PERCPU_ARRAY)
/// contexts are plain arrays.
/// </summary>
[StructOps(SchedExtOpsType.TypeName, Name = "qmap", Id = "scx_qmap", Link = true,
    Description = "sched_ext: five weight-banded QUEUE maps in an ARRAY_OF_MAPS, dispatched in rounds of 1, 2, 4, 8, 16")]
public sealed class ScxQmap : SchedExtOpsProgram
{
    private const ulong SharedDsq = 0;
    private const ulong HighpriDsq = 1;
    private const uint QueueEntries = 4096;

    /// <summary>const volatile u64 slice_ns.</summary>
    [StructOpsOption("slice_ns", Description = "the slice each dispatch gives (ns)")]
    public ulong SliceNs = ScxConsts.SliceDfl;

    /// <summary>const volatile u32 stall_user_nth: drop every nth enqueue of a user task (0 = never).</summary>
    [StructOpsOption("stall_user_nth", Description = "drop every nth enqueue of a user task (the watchdog then ejects)")]
    public uint StallUserNth;

    /// <summary>const volatile u32 stall_kernel_nth.</summary>
    [StructOpsOption("stall_kernel_nth", Description = "drop every nth enqueue of a kernel thread")]
    public uint StallKernelNth;

    /// <summary>const volatile u32 dsp_batch: tasks moved to SHARED_DSQ per dispatch (0 = 1).</summary>
    [StructOpsOption("dsp_batch", Description = "tasks popped into the shared DSQ per dispatch (0 = 1)")]
    public uint DspBatch;

    /// <summary>const volatile s32 disallow_tgid: init_task sets scx.disallow for this tgid.</summary>
    [StructOpsOption("disallow_tgid", Description = "tasks of this tgid are not allowed into SCX")]
    public int DisallowTgid;

    private BpfMap? _queueArr;
    private readonly int[] _queueFds = new int[5];
    private int _queueArrFd = -1;
    private bool[] _forceLocal = [];
    private ulong[] _dspIdx = [];
    private ulong[] _dspCnt = [];
    private uint[] _avgWeight = [];
    private uint _userCnt;
    private uint _kernelCnt;
    private readonly byte[] _key = new byte[4];
    private readonly byte[] _pid = new byte[4];

    public override uint TimeoutMs => 5000;

    /// <summary>The example's counters.</summary>
    public ulong NrEnqueued, NrDispatched, NrReenqueued, NrDequeued, NrDdspFromEnq, NrCoreSchedExeced;

    private static int WeightToIdx(uint weight) => weight <= 25 ? 0 : weight <= 50 ? 1 : weight < 200 ? 2 : weight < 400 ? 3 : 4;

    private ref bool ForceLocal(in TaskStruct p)
    {
        if (p.Id >= _forceLocal.Length)
        {
            Array.Resize(ref _forceLocal, Math.Max(p.Id + 1, _forceLocal.Length * 2));
        }
        return ref _forceLocal[p.Id];
    }

    private static int PickDirectDispatchCpu(ref TaskStruct p, int prevCpu)
    {
        if (p.NrCpusAllowed == 1 || Scx.TestAndClearCpuIdle(prevCpu))
        {
            return prevCpu;
        }
        int cpu = Scx.PickIdleCpu(p.CpusMask, 0);
        return cpu >= 0 ? cpu : -1;
    }

    public override int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags)
    {
        int cpu = PickDirectDispatchCpu(ref p, prevCpu);
        if (cpu >= 0)
        {
            ForceLocal(p) = true;
            return cpu;
        }
        return prevCpu;
    }

    private QueueStackMapBase? Ring(int idx)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_key, idx);
        return _queueArr!.LookupInner(_key) as QueueStackMapBase;
    }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        int idx = WeightToIdx(p.Scx.Weight);
        // Deliberate stalls: the watchdog's demonstration.
        if ((p.Flags & (uint)TaskFlags.Kthread) != 0)
        {
            if (StallKernelNth != 0 && ++_kernelCnt % StallKernelNth == 0)
            {
                return;
            }
        }
        else if (StallUserNth != 0 && ++_userCnt % StallUserNth == 0)
        {
            return;
        }
        ref bool forceLocal = ref ForceLocal(p);
        if (forceLocal)
        {
            forceLocal = false;
            Scx.Dispatch(ref p, Scx.DsqLocal, SliceNs, enqFlags);
            return;
        }
        // SCX_ENQ_CPU_SELECTED (ENQUEUE_RQ_SELECTED): select_cpu did not run for this enqueue; try an idle CPU.
        int cpu;
        if ((enqFlags & ScxEnqFlags.CpuSelected) == 0 && (cpu = PickDirectDispatchCpu(ref p, Scx.TaskCpu(p))) >= 0)
        {
            NrDdspFromEnq++;
            Scx.Dispatch(ref p, Scx.DsqLocalOn | (uint)cpu, SliceNs, enqFlags);
            return;
        }
        // Re-enqueued by cpu_release: to the shared DSQ, and wake an idle CPU for it.
        if ((enqFlags & ScxEnqFlags.Reenq) != 0)
        {
            Scx.Dispatch(ref p, SharedDsq, 0, enqFlags);
            cpu = Scx.PickIdleCpu(p.CpusMask, 0);
            if (cpu >= 0)
            {
                Scx.KickCpu(cpu, (ulong)ScxKickFlags.Idle);
            }
            return;
        }
        var ring = Ring(idx);
        if (ring is null)
        {
            Scx.Error($"failed to find ring {idx}");
            return;
        }
        BinaryPrimitives.WriteInt32LittleEndian(_pid, p.Pid);
        // Queue full: dispatch to the shared DSQ directly.
        if (ring.Push(_pid) != Errno.None)
        {
            Scx.Dispatch(ref p, SharedDsq, SliceNs, enqFlags);
            return;
        }
        NrEnqueued++;
    }

    public override void Dequeue(ref TaskStruct p, ulong deqFlags)
    {
        NrDequeued++;
        if ((deqFlags & ScxDeqFlags.CoreSchedExec) != 0)
        {
            NrCoreSchedExeced++;
        }
    }

    public override void Dispatch(int cpu, ref TaskStruct prev)
    {
        if (Scx.Consume(SharedDsq))
        {
            return;
        }
        uint batch = DspBatch != 0 ? DspBatch : 1;
        for (int i = 0; i < 5; i++)
        {
            // Round-robin over the queues, 2^idx tasks from queue idx per visit.
            if (_dspCnt[cpu] == 0)
            {
                _dspIdx[cpu] = (_dspIdx[cpu] + 1) % 5;
                _dspCnt[cpu] = 1UL << (int)_dspIdx[cpu];
            }
            var fifo = Ring((int)_dspIdx[cpu]);
            if (fifo is null)
            {
                Scx.Error($"failed to find ring {_dspIdx[cpu]}");
                return;
            }
            while (fifo.Pop(_pid) == Errno.None)
            {
                ref var p = ref Scx.TaskFromPid(BinaryPrimitives.ReadInt32LittleEndian(_pid));
                if (Unsafe.IsNullRef(ref p))
                {
                    continue;
                }
                NrDispatched++;
                Scx.Dispatch(ref p, SharedDsq, SliceNs, 0);
                batch--;
                _dspCnt[cpu]--;
                if (batch == 0 || Scx.DispatchNrSlots() == 0)
                {
                    Scx.Consume(SharedDsq);
                    return;
                }
                if (_dspCnt[cpu] == 0)
                {
                    break;
                }
            }
            _dspCnt[cpu] = 0;
        }
    }

    public override void Tick(ref TaskStruct p)
    {
        int cpu = Scx.TaskCpu(p);
        _avgWeight[cpu] = _avgWeight[cpu] * 3 / 4 + p.Scx.Weight / 4;
    }

    public override void CpuRelease(int cpu, in ScxCpuReleaseArgs args)
    {
        uint cnt = Scx.ReenqueueLocal();
        NrReenqueued += cnt;
    }

    public override int InitTask(ref TaskStruct p, in ScxInitTaskArgs args)
    {
        if (DisallowTgid != 0 && p.Pid == DisallowTgid)
        {
            p.Scx.Disallow = 1;
        }
        ForceLocal(p) = false;
        return 0;
    }

    public override void Dump(in ScxDumpCtx ctx)
    {
        for (int i = 0; i < 5; i++)
        {
            var fifo = Ring(i);
            if (fifo is null)
            {
                return;
            }
            Scx.Dump($"QMAP FIFO[{i}]:");
            // Pop everything and push it back: the queue is unchanged, as the example does through dump_store.
            var pids = new List<int>();
            while (fifo.Pop(_pid) == Errno.None)
            {
                pids.Add(BinaryPrimitives.ReadInt32LittleEndian(_pid));
            }
            foreach (int pid in pids)
            {
                Scx.Dump($" {pid}");
                BinaryPrimitives.WriteInt32LittleEndian(_pid, pid);
                fifo.Push(_pid);
            }
            Scx.Dump("\n");
        }
    }

    public override void DumpCpu(in ScxDumpCtx ctx, int cpu, bool idle)
    {
        if (!idle)
        {
            Scx.Dump($"QMAP: dsp_idx={_dspIdx[cpu]} dsp_cnt={_dspCnt[cpu]} avg_weight={_avgWeight[cpu]}\n");
        }
    }

    public override void DumpTask(in ScxDumpCtx ctx, ref TaskStruct p) =>
        Scx.Dump($"QMAP: force_local={(ForceLocal(p) ? 1 : 0)}\n");

    /// <summary>print_cpus: each CPU as O (online), X (possible, offline) or a space, with a | after every eighth.</summary>
    private static void PrintCpus()
    {
        var possible = Scx.GetPossibleCpumask();
        var online = Scx.GetOnlineCpumask();
        var buf = new System.Text.StringBuilder(128);
        for (int cpu = 0; cpu < Scx.NrCpuIds && buf.Length < 127; cpu++)
        {
            buf.Append(online.Test(cpu) ? 'O' : possible.Test(cpu) ? 'X' : ' ');
            if ((cpu & 7) == 7 && buf.Length < 127)
            {
                buf.Append('|');
            }
        }
        Scx.TracePrintk($"CPUS: |{buf}");
    }

    /// <summary>qmap_cpu_online: implementing it keeps the scheduler loaded across hotplug (no SCX_ECODE_ACT_RESTART exit).</summary>
    public override void CpuOnline(int cpu)
    {
        Scx.TracePrintk($"CPU {cpu} coming online");
        PrintCpus(); // @cpu is already online at this point
    }

    /// <summary>qmap_cpu_offline.</summary>
    public override void CpuOffline(int cpu)
    {
        Scx.TracePrintk($"CPU {cpu} going offline");
        PrintCpus(); // @cpu is still online at this point
    }

    public override int Init()
    {
        PrintCpus();
        int n = Scx.NrCpuIds;
        _dspIdx = new ulong[n];
        _dspCnt = new ulong[n];
        _avgWeight = new uint[n];
        var bpf = Scx.Bpf;
        for (int i = 0; i < 5; i++)
        {
            var r = bpf.MapCreate(new MapSpec { Type = MapType.Queue, ValueSize = 4, MaxEntries = QueueEntries, Name = $"queue{i}" }, out _queueFds[i]);
            if (!r.IsOk)
            {
                Scx.Error($"queue{i}: {r.Reason}");
                return -(int)r.Errno;
            }
        }
        var outer = bpf.MapCreate(new MapSpec
        {
            Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 5, Name = "queue_arr", InnerMapFd = _queueFds[0],
        }, out _queueArrFd);
        if (!outer.IsOk)
        {
            Scx.Error($"queue_arr: {outer.Reason}");
            return -(int)outer.Errno;
        }
        var value = new byte[4];
        for (int i = 0; i < 5; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_key, i);
            BinaryPrimitives.WriteInt32LittleEndian(value, _queueFds[i]);
            bpf.MapUpdateElem(_queueArrFd, _key, value).ThrowIfFailed();
        }
        bpf.GetMap(_queueArrFd, out var arr).ThrowIfFailed();
        _queueArr = arr;
        int ret = Scx.CreateDsq(SharedDsq, -1);
        return ret != 0 ? ret : Scx.CreateDsq(HighpriDsq, -1);
    }

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
