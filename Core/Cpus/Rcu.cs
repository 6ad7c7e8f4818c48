using BpfSim.Core.Simulation;

namespace BpfSim.Core.Cpus;

/// <summary>
/// Read-copy-update in simulated time. Readers are program invocations (or a test that holds a CPU inside a
/// read-side critical section across time). A grace period starts when someone waits for one and ends once every
/// CPU has passed a quiescent point: a CPU outside any read-side section when the grace period starts is already
/// quiescent; one inside reports when it leaves its outermost section. Grace periods start and end on scheduler
/// ticks, as the kernel's grace-period kthread is driven by jiffies: a request waits for the next tick to start one,
/// and its end is noticed at the first tick after the last report, so a grace period on an idle system takes between
/// one and two ticks.
/// </summary>
/// <remarks>
/// Mirrors the guarantee of kernel/rcu/tree.c: <c>synchronize_rcu()</c> and <c>call_rcu()</c> wait for a full
/// grace period that starts after the call, so readers that began before the call have finished. Grace-period
/// detection runs only while someone waits, so an idle simulation has no RCU events.
/// </remarks>
public sealed class Rcu : IEventHandler
{
    private const int KindTick = 0;

    private readonly Simulator _sim;
    private readonly CpuSet _cpus;
    private readonly RcuOptions _options;
    private readonly HandlerId _handler;
    private readonly int[] _readDepth;
    private readonly bool[] _reported;
    private readonly Queue<(long Target, Action Callback)> _callbacks = new();
    private bool _inProgress;
    private bool _tickScheduled;
    private long _completed;

    public Rcu(Simulator sim, CpuSet cpus, RcuOptions? options = null)
    {
        _sim = sim;
        _cpus = cpus;
        _options = options ?? new RcuOptions();
        _options.Validate();
        _handler = sim.Register(this);
        _readDepth = new int[cpus.Count];
        _reported = new bool[cpus.Count];
    }

    public RcuOptions Options => _options;

    /// <summary>Grace periods completed since the start (rcu_seq).</summary>
    public long CompletedGracePeriods => _completed;

    /// <summary>True while a grace period is being detected.</summary>
    public bool GracePeriodInProgress => _inProgress;

    /// <summary>Simulated time spent in grace periods in total.</summary>
    public SimTime TimeInGracePeriods { get; private set; }

    private SimTime _gpStart;

    /// <summary>Enters a read-side critical section on <paramref name="cpu"/> (rcu_read_lock). Sections nest.</summary>
    public void ReadLock(int cpu)
    {
        _cpus.CheckCpu(cpu);
        _readDepth[cpu]++;
    }

    /// <summary>Leaves a read-side critical section on <paramref name="cpu"/> (rcu_read_unlock).</summary>
    /// <exception cref="InvalidOperationException">The CPU is not inside a read-side section.</exception>
    public void ReadUnlock(int cpu)
    {
        _cpus.CheckCpu(cpu);
        if (_readDepth[cpu] == 0)
        {
            throw new InvalidOperationException($"rcu_read_unlock on CPU {cpu} without rcu_read_lock");
        }
        if (--_readDepth[cpu] == 0 && _inProgress)
        {
            _reported[cpu] = true;
        }
    }

    /// <summary>True while <paramref name="cpu"/> is inside a read-side section.</summary>
    public bool IsReading(int cpu) => _readDepth[cpu] > 0;

    /// <summary>Runs <paramref name="callback"/> after a full grace period that starts after this call (call_rcu).</summary>
    public void CallRcu(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        // A grace period under way may not cover readers that began after it started: wait for the next one
        // (rcu_seq_snap). Otherwise the next grace period to start will do.
        long target = _inProgress ? _completed + 2 : _completed + 1;
        _callbacks.Enqueue((target, callback));
        EnsureTick();
    }

    /// <summary>
    /// Blocks the caller in simulated time until a full grace period has elapsed (synchronize_rcu): the simulator
    /// keeps dispatching other events meanwhile, as other CPUs keep running while a syscall sleeps.
    /// </summary>
    /// <returns>The simulated time the caller waited.</returns>
    /// <exception cref="RcuStallException">CPUs stayed in read-side sections past <see cref="RcuOptions.StallTimeout"/>.</exception>
    public SimTime Synchronize()
    {
        var start = _sim.Now;
        bool done = false;
        CallRcu(() => done = true);
        var deadline = start + _options.StallTimeout;
        if (!_sim.RunWhile(() => !done, deadline))
        {
            var stalled = Enumerable.Range(0, _cpus.Count).Where(c => _readDepth[c] > 0).ToArray();
            throw new RcuStallException(
                $"synchronize_rcu: grace period did not end within {_options.StallTimeout}; " +
                $"CPUs still in read-side sections: {string.Join(", ", stalled)}",
                stalled);
        }
        return _sim.Now - start;
    }

    private void StartGracePeriod()
    {
        _inProgress = true;
        _gpStart = _sim.Now;
        for (int cpu = 0; cpu < _reported.Length; cpu++)
        {
            _reported[cpu] = _readDepth[cpu] == 0;
        }
    }

    /// <summary>Grace-period work runs on ticks, and only while someone waits.</summary>
    private void EnsureTick()
    {
        if (_tickScheduled)
        {
            return;
        }
        _tickScheduled = true;
        long tick = _options.TickPeriod.Nanoseconds;
        long next = (_sim.Now.Nanoseconds / tick + 1) * tick;
        _sim.Schedule(new SimTime(next), _handler, KindTick);
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        _tickScheduled = false;
        if (_inProgress && Array.IndexOf(_reported, false) < 0)
        {
            _completed++;
            _inProgress = false;
            TimeInGracePeriods += _sim.Now - _gpStart;
            while (_callbacks.Count > 0 && _callbacks.Peek().Target <= _completed)
            {
                _callbacks.Dequeue().Callback();
            }
        }
        if (!_inProgress && _callbacks.Count > 0)
        {
            StartGracePeriod();
        }
        if (_inProgress)
        {
            EnsureTick();
        }
    }
}
