namespace BpfSim.Scheduler.Kernel;

// The per-CPU stopper (kernel/stop_machine.c, stop_one_cpu_nowait) as the fair balancer uses it for active balancing:
// the stopper thread is the highest class, so a request preempts the CPU's task at once; its work runs in the
// __schedule that follows, after the preempted task is back on its runqueue, and the CPU then picks as usual. One
// request per CPU at a time (rq->active_balance).
public sealed partial class SchedKernel
{
    private int[] _stopPush = [];
    private SchedClass?[] _stopClass = [];

    /// <inheritdoc/>
    public bool StopOneCpu(int cpu, SchedClass requester, int pushCpu)
    {
        ArgumentNullException.ThrowIfNull(requester);
        if (_stopPush.Length == 0)
        {
            _stopPush = new int[NrCpus];
            _stopClass = new SchedClass?[NrCpus];
        }
        if (_stopClass[cpu] is not null || !CpuActive(cpu))
        {
            return false; // one pending already; an inactive CPU's stopper takes no work (cpu_stop_queue_work)
        }
        _stopPush[cpu] = pushCpu;
        _stopClass[cpu] = requester;
        ReschedCurr(cpu);
        return true;
    }

    /// <summary>Whether <paramref name="cpu"/> has a stopper request not yet run.</summary>
    private bool StopPending(int cpu) => _stopClass.Length != 0 && _stopClass[cpu] is not null;

    /// <summary>
    /// In __schedule on <paramref name="cpu"/>: a pending stopper request preempts <paramref name="prev"/> — put back
    /// with the stop class as next (it stays queued unless it was blocking; no idle transition) — and runs the
    /// request's work. <paramref name="prev"/> is −1 afterwards. True when the stopper ran.
    /// </summary>
    private bool RunStopper(int cpu, ref int prev, bool voluntary)
    {
        if (!StopPending(cpu))
        {
            return false;
        }
        int push = _stopPush[cpu];
        var requester = _stopClass[cpu]!;
        _stopClass[cpu] = null;
        if (prev >= 0)
        {
            _classes[_pt[prev].Class].PutPrevTask(cpu, ref Tasks[prev], SchedClass.StopperTask);
            ContextSwitch(cpu, prev, -1, voluntary);
            prev = -1;
        }
        requester.CpuStopWork(cpu, push);
        return true;
    }

    /// <summary>A CPU going offline drops its stopper's pending work (its stopper is parked).</summary>
    private void DropStopWork(int cpu)
    {
        if (_stopClass.Length != 0)
        {
            _stopClass[cpu] = null;
        }
    }
}
