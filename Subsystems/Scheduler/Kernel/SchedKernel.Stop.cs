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
            Array.Fill(_stopPush, -1);
            _stopClass = new SchedClass?[NrCpus];
        }
        if (_stopPush[cpu] >= 0)
        {
            return false;
        }
        _stopPush[cpu] = pushCpu;
        _stopClass[cpu] = requester;
        ReschedCurr(cpu);
        return true;
    }

    /// <summary>
    /// In __schedule on <paramref name="cpu"/>: a pending stopper request switches <paramref name="prev"/> out (it stays
    /// queued unless it was blocking) and runs the request's work. <paramref name="prev"/> is −1 afterwards.
    /// </summary>
    private void RunStopper(int cpu, ref int prev, bool voluntary)
    {
        if (_stopPush.Length == 0 || _stopPush[cpu] < 0)
        {
            return;
        }
        int push = _stopPush[cpu];
        var requester = _stopClass[cpu]!;
        _stopPush[cpu] = -1;
        _stopClass[cpu] = null;
        if (prev >= 0)
        {
            PutPrevSetNext(cpu, prev, -1);
            ContextSwitch(cpu, prev, -1, voluntary);
            prev = -1;
        }
        requester.CpuStopWork(cpu, push);
    }
}
