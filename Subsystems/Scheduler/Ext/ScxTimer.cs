using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// A bpf_timer for a C# scheduler (scx_central's slice timer): a simulator timer whose callback runs with the
/// scheduler's kfuncs reachable through <see cref="Scx"/>, on the CPU it is pinned to (BPF_F_TIMER_CPU_PIN). Like a
/// timer in a BPF map, it dies with the scheduler: disabling it cancels every timer it created. An exception in the
/// callback is an error exit.
/// </summary>
public sealed class ScxTimer : IEventHandler
{
    private readonly ExtSchedClass _ext;
    private readonly Action _callback;
    private readonly TimerId _timer;

    internal ScxTimer(ExtSchedClass ext, Action callback)
    {
        _ext = ext;
        _callback = callback;
        var sim = ext.Core.Simulator;
        _timer = sim.CreateTimer(sim.Register(this), 0);
    }

    /// <summary>The CPU the callback runs on (smp_processor_id inside it); −1 = not pinned (CPU 0).</summary>
    public int PinnedCpu { get; private set; } = -1;

    /// <summary>Whether the timer will fire.</summary>
    public bool IsArmed => _ext.Core.Simulator.IsArmed(_timer);

    /// <summary>bpf_timer_start(timer, nsecs, pin ? BPF_F_TIMER_CPU_PIN : 0): pinned to the calling CPU.</summary>
    /// <returns>0, or −EINVAL once the scheduler is gone.</returns>
    public int Start(ulong nsecs, bool pin = true)
    {
        if (!_ext.Loaded)
        {
            return -22;
        }
        if (pin)
        {
            PinnedCpu = Scx.Current?.ThisCpu is int c && c >= 0 ? c : 0;
        }
        var sim = _ext.Core.Simulator;
        sim.Arm(_timer, sim.Now + SimTime.FromNanoseconds((long)Math.Min(nsecs, long.MaxValue / 2)));
        return 0;
    }

    /// <summary>
    /// bpf_timer_start with BPF_F_TIMER_CPU_PIN from <paramref name="cpu"/>: for an ops.init that, in the kernel, runs
    /// on a CPU its loader pinned itself to (scx_central's loader pins itself to the central CPU).
    /// </summary>
    public int StartOn(ulong nsecs, int cpu)
    {
        int r = Start(nsecs, pin: false);
        if (r == 0)
        {
            PinnedCpu = cpu;
        }
        return r;
    }

    /// <summary>bpf_timer_cancel.</summary>
    public void Cancel() => _ext.Core.Simulator.Cancel(_timer);

    void IEventHandler.OnEvent(int kind, long arg)
    {
        if (_ext.Loaded)
        {
            _ext.RunTimer(_callback, PinnedCpu);
        }
    }
}
