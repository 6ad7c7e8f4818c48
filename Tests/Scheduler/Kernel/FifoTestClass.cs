using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// A tiny round-robin class for testing the core without the fair class: per-CPU FIFO runqueues as intrusive lists
/// in int arrays; the current task is preempted after <see cref="SliceTicks"/> ticks when others wait; a woken task
/// goes on the least loaded allowed CPU (its previous one on a tie).
/// </summary>
internal sealed class FifoTestClass : SchedClass
{
    private readonly int[] _head;
    private readonly int[] _tail;
    private readonly int[] _queued;
    private int[] _next = new int[64];
    private int[] _ticks = new int[64];

    public FifoTestClass(int cpus, int sliceTicks = 4)
    {
        _head = new int[cpus];
        _tail = new int[cpus];
        _queued = new int[cpus];
        Array.Fill(_head, -1);
        Array.Fill(_tail, -1);
        SliceTicks = sliceTicks;
    }

    public ISchedCore? Core { get; set; }

    public int SliceTicks { get; }

    /// <summary>Wakeup-preempt calls seen (the same class on the woken CPU).</summary>
    public int WakeupPreempts { get; private set; }

    /// <summary>Balance calls seen.</summary>
    public int Balances { get; private set; }

    public override string Name => "fifo";

    public override bool Balance(int cpu, int prev)
    {
        Balances++;
        return false;
    }

    public override void EnqueueTask(int cpu, ref TaskStruct p, EnqueueFlags flags)
    {
        Grow(p.Id);
        _next[p.Id] = -1;
        if (_tail[cpu] < 0)
        {
            _head[cpu] = p.Id;
        }
        else
        {
            _next[_tail[cpu]] = p.Id;
        }
        _tail[cpu] = p.Id;
        _queued[cpu]++;
    }

    public override bool DequeueTask(int cpu, ref TaskStruct p, DequeueFlags flags)
    {
        Remove(cpu, p.Id);
        return true;
    }

    public override int PickTask(int cpu)
    {
        if (_head[cpu] >= 0)
        {
            return _head[cpu];
        }
        // The current task is not on the list while it runs: it goes on running if still runnable here.
        int curr = Core!.Current(cpu);
        return curr >= 0 && Core.Tasks[curr].OnRq != 0 && Core.ClassOf(Core.Tasks[curr]) == this ? curr : -1;
    }

    public override void PutPrevTask(int cpu, ref TaskStruct p, int next)
    {
        if (p.OnRq != 0)
        {
            EnqueueTask(cpu, ref p, EnqueueFlags.None); // to the back
        }
    }

    public override void SetNextTask(int cpu, ref TaskStruct p, bool first)
    {
        Remove(cpu, p.Id);
        _ticks[p.Id] = 0;
    }

    public override int SelectTaskRq(ref TaskStruct p, int prevCpu, WakeFlags flags)
    {
        var core = Core!;
        int best = prevCpu;
        int bestLoad = p.CpusMask.Test(prevCpu) ? core.NrRunning(prevCpu) : int.MaxValue;
        for (int cpu = p.CpusMask.First; cpu >= 0 && cpu < core.NrCpus; cpu = p.CpusMask.NextFrom(cpu + 1))
        {
            if (core.NrRunning(cpu) < bestLoad)
            {
                best = cpu;
                bestLoad = core.NrRunning(cpu);
            }
        }
        return best;
    }

    public override void WakeupPreempt(int cpu, ref TaskStruct p, WakeFlags flags) => WakeupPreempts++;

    public override void TaskTick(int cpu, ref TaskStruct p)
    {
        if (++_ticks[p.Id] >= SliceTicks && _head[cpu] >= 0)
        {
            Core!.ReschedCurr(cpu);
        }
    }

    public override bool HasRunnable(int cpu) => _head[cpu] >= 0;

    private void Remove(int cpu, int id)
    {
        int prev = -1;
        for (int t = _head[cpu]; t >= 0; prev = t, t = _next[t])
        {
            if (t != id)
            {
                continue;
            }
            if (prev < 0)
            {
                _head[cpu] = _next[t];
            }
            else
            {
                _next[prev] = _next[t];
            }
            if (_tail[cpu] == t)
            {
                _tail[cpu] = prev;
            }
            _queued[cpu]--;
            return;
        }
    }

    private void Grow(int id)
    {
        if (id >= _next.Length)
        {
            Array.Resize(ref _next, Math.Max(id + 1, _next.Length * 2));
            Array.Resize(ref _ticks, _next.Length);
        }
    }
}
