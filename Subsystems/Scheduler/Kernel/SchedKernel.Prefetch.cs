using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// Prefetching a task about to be handled (the fair class's pick, sched_ext's next DSQ head): its records are asked
/// for together rather than missed one after another. The kernel does not answer the simulator's event-queue hints
/// (<see cref="Simulator.PrefetchHints"/>): with the per-CPU block timelines and these prefetches they no longer paid
/// at 64 CPUs × 10,000 tasks. Sleep/wake ran as fast without them, and CPU hogs, whose every event is a tick of a task
/// already in cache, 22 % faster (docs/performance.md, "Scheduler", session 26).
/// </summary>
public sealed partial class SchedKernel
{
    /// <summary>
    /// Asks the caches for <paramref name="task"/>'s task_struct lines the scheduler reads (state, CPU, cpumask, the
    /// fair entity, and the scx entity while sched_ext is enabled), the core's and the metrics' records of it, and the
    /// fair class's. Changes nothing.
    /// </summary>
    public unsafe void PrefetchTask(int task)
    {
        if (!Sse.IsSupported || (uint)task >= (uint)Tasks.Count || (uint)task >= (uint)_pt.Length)
        {
            return;
        }
        byte* p = (byte*)Unsafe.AsPointer(ref Tasks[task]);
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + 64);
        Sse.Prefetch0(p + 128);
        Sse.Prefetch0(p + 191); // the end of se (a 312-byte task_struct starts anywhere in a line)
        if (ExtEnabled)
        {
            // The scx entity after se: sched_ext's enqueue, dispatch and running read it for every task it has.
            Sse.Prefetch0(p + 255);
            Sse.Prefetch0(p + 311);
        }
        Sse.Prefetch0(Unsafe.AsPointer(ref _pt[task]));
        Metrics.PrefetchTask(task);
        _classes[FairClass].PrefetchTask(task);
    }
}
