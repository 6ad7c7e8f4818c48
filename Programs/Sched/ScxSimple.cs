using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Programs.Sched;

/// <summary>
/// A C# port of tools/sched_ext/scx_simple.bpf.c (6.12): one shared user DSQ (id 0), weighted vtime by default or
/// FIFO with <c>fifo_sched</c>; select_cpu uses the built-in idle selection and dispatches to the local DSQ when the
/// CPU is idle; a sleeper's budget is limited to one slice (max(dsq_vtime, vtime_now − SCX_SLICE_DFL)); stopping
/// charges (SCX_SLICE_DFL − slice left) × 100 / weight. The kernel example's per-CPU stats map (PERCPU_ARRAY[2]: local,
/// global) is kept as plain per-CPU counters: a C# consumer has no handle to create maps with.
/// </summary>
[StructOps(SchedExtOpsType.TypeName, Name = "simple", Id = "scx_simple", Link = true,
    Description = "sched_ext: global weighted vtime (or FIFO with fifo_sched) over one shared DSQ")]
public sealed class ScxSimple : SchedExtOpsProgram
{
    /// <summary>SHARED_DSQ.</summary>
    public const ulong SharedDsq = 0;

    private ulong _vtimeNow;
    private long[] _stats = new long[2];

    /// <summary>const volatile bool fifo_sched: FIFO instead of weighted vtime.</summary>
    [StructOpsOption("fifo_sched", Description = "schedule FIFO instead of weighted vtime")]
    public bool FifoSched;

    /// <summary>vtime_now: the largest dsq_vtime of a task that started running.</summary>
    public ulong VtimeNow => _vtimeNow;

    /// <summary>stats[0] summed over CPUs: tasks dispatched straight to an idle CPU's local DSQ.</summary>
    public long LocalQueued => Sum(0);

    /// <summary>stats[1] summed over CPUs: tasks queued on the shared DSQ.</summary>
    public long GlobalQueued => Sum(1);

    private long Sum(int idx)
    {
        long n = 0;
        for (int i = idx; i < _stats.Length; i += 2)
        {
            n += _stats[i];
        }
        return n;
    }

    private void StatInc(int idx) => _stats[Scx.SmpProcessorId * 2 + idx]++;

    private static bool VtimeBefore(ulong a, ulong b) => (long)(a - b) < 0;

    public override int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags)
    {
        int cpu = Scx.SelectCpuDfl(ref p, prevCpu, wakeFlags, out bool isIdle);
        if (isIdle)
        {
            StatInc(0);
            Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceDfl, 0);
        }
        return cpu;
    }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        StatInc(1);
        if (FifoSched)
        {
            Scx.Dispatch(ref p, SharedDsq, Scx.SliceDfl, enqFlags);
            return;
        }
        ulong vtime = p.Scx.DsqVtime;
        // A task that idled may bank at most one slice of budget.
        if (VtimeBefore(vtime, _vtimeNow - Scx.SliceDfl))
        {
            vtime = _vtimeNow - Scx.SliceDfl;
        }
        Scx.DispatchVtime(ref p, SharedDsq, Scx.SliceDfl, vtime, enqFlags);
    }

    public override void Dispatch(int cpu, ref TaskStruct prev) => Scx.Consume(SharedDsq);

    public override void Running(ref TaskStruct p)
    {
        if (FifoSched)
        {
            return;
        }
        if (VtimeBefore(_vtimeNow, p.Scx.DsqVtime))
        {
            _vtimeNow = p.Scx.DsqVtime;
        }
    }

    public override void Stopping(ref TaskStruct p, bool runnable)
    {
        if (FifoSched)
        {
            return;
        }
        p.Scx.DsqVtime += (Scx.SliceDfl - p.Scx.Slice) * 100 / p.Scx.Weight;
    }

    public override void Enable(ref TaskStruct p) => p.Scx.DsqVtime = _vtimeNow;

    public override int Init()
    {
        _stats = new long[2 * Scx.NrCpuIds];
        return Scx.CreateDsq(SharedDsq, -1);
    }

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
