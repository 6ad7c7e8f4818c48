using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// Prefetching for the event queue: the simulator names the next event before dispatching the current one, and its
/// task's lines (task_struct, the core's, the class's and the metrics' records, the driver's) are fetched while the
/// current event runs. Off unless a caller sets <see cref="Simulator.PrefetchHints"/>: with the per-CPU block
/// timelines, the pick's own prefetch and the DSQ head's, the hints no longer pay at 64 CPUs × 10,000 tasks. Sleep/wake
/// runs as fast without them, and CPU hogs, whose every event is a tick of a task already in cache, run 22 % faster
/// (docs/performance.md, "Scheduler", session 26).
/// </summary>
public sealed partial class SchedKernel : IEventPrefetcher
{
    /// <summary>
    /// The kernel's events are per CPU (a burst's end, the tick, a reschedule): each starts with the CPU's current
    /// task, whose records are fetched; for a burst's end also the driver's (it decides what the task does next).
    /// Guessing the task picked after a blocking one (the timeline's first eligible without curr) and fetching it as
    /// well measured slower: the guess's own reads come before the current event, unoverlapped.
    /// </summary>
    void IEventPrefetcher.Prefetch(int kind, long arg, int distance)
    {
        // Only the next event: the CPU's current task may change before a farther one comes.
        if (distance != 1 || (ulong)arg >= (ulong)_curr.Length)
        {
            return;
        }
        int curr = _curr[(int)arg];
        if (curr < 0)
        {
            return;
        }
        PrefetchTask(curr);
        if (kind == KindBurst)
        {
            Driver?.PrefetchTask(curr);
        }
    }

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
