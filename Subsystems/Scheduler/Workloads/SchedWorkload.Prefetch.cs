using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Workloads;

/// <summary>Prefetching for the event queue (see <see cref="SchedKernel"/>'s): a wake-up's task, a burst's end's record.</summary>
public sealed partial class SchedWorkload : IEventPrefetcher
{
    /// <summary>A task's wake-up reads its workload record, then wakes it through the kernel: both are fetched.</summary>
    void IEventPrefetcher.Prefetch(int kind, long arg, int distance)
    {
        if (distance != 1 || kind != KindWake || (ulong)arg >= (ulong)_wt.Length)
        {
            return;
        }
        PrefetchTask((int)arg);
        _kernel.PrefetchTask((int)arg);
    }

    /// <summary>The task's workload record (its random stream, group and exit time).</summary>
    public unsafe void PrefetchTask(int task)
    {
        if (Sse.IsSupported && (uint)task < (uint)_wt.Length)
        {
            byte* t = (byte*)Unsafe.AsPointer(ref _wt[task]);
            Sse.Prefetch0(t);
            Sse.Prefetch0(t + 47); // a 48-byte record may cross a line
        }
    }
}
