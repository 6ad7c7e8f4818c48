using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Scheduler.Ext;

/// <summary>Prefetching of tasks a CPU is about to take from a DSQ.</summary>
public sealed partial class ExtSchedClass
{
    /// <summary>
    /// Asks the caches for all of <paramref name="id"/>'s state a consume reads — task_struct's lines (its CPU, the scx
    /// entity), the core's, the metrics' and this class's records — at once: with 10,000 tasks in one DSQ the task at its
    /// head is rarely in cache, and each record was a miss after the one before.
    /// </summary>
    private unsafe void PrefetchForConsume(int id)
    {
        _core.PrefetchTask(id);
        if (!Sse.IsSupported || (uint)id >= (uint)_core.Tasks.Count || (uint)id >= (uint)_runNext.Length)
        {
            return;
        }
        // task_struct's lines, the scx entity's included, come with the core's prefetch while sched_ext is enabled.
        Sse.Prefetch0(Unsafe.AsPointer(ref _runNext[id]));
        Sse.Prefetch0(Unsafe.AsPointer(ref _runPrev[id]));
    }

    /// <summary>
    /// After a consume took <paramref name="dsq"/>'s head: the new head is what the next consume of the DSQ (another
    /// CPU's, a few events later with scx_simple's one shared DSQ) examines first, so its lines are asked for now,
    /// to arrive in the meantime. Changes nothing.
    /// </summary>
    private void PrefetchNextHead(int dsq)
    {
        int head = _dsqs.First(dsq);
        if (head >= 0)
        {
            PrefetchForConsume(head);
        }
    }
}
