using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Kernel;

/// <summary>sched_tick (core.c) and the NO_HZ rules for when a CPU has a tick at all (kernel/time/tick-sched.c).</summary>
public sealed partial class SchedKernel
{
    /// <summary>
    /// sched_tick: account the current task, its class's task_tick, then scx_tick, then sched_balance_trigger unless
    /// sched_ext has switched every task (6.12's order, whatever class runs); re-armed for the next jiffy unless the CPU
    /// may stop its tick.
    /// </summary>
    private void Tick(int cpu)
    {
        int curr = _curr[cpu];
        if (curr < 0)
        {
            _tickOn[cpu] = false; // NO_HZ idle: no tick on an idle CPU
            return;
        }
        UpdateCurrCore(cpu);
        Metrics.Tick(cpu);
        _classes[_pt[curr].Class].TaskTick(cpu, ref Tasks[curr]);
        if (ExtEnabled)
        {
            _ext!.Tick(cpu);
        }
        if (!ExtEnabled || !_ext!.SwitchedAll)
        {
            _classes[FairClass].TickBalance(cpu);
        }
        _tickOn[cpu] = false;
        UpdateTick(cpu);
    }

    private Cpumask _nohzFull;
    private TimerId[] _remoteTick = [];
    private byte[] _remoteState = []; // struct tick_work's state: TICK_SCHED_REMOTE_OFFLINE 0, OFFLINING 1, RUNNING 2

    private const byte RemoteOffline = 0, RemoteOfflining = 1, RemoteRunning = 2;

    /// <summary>
    /// The CPUs booted as nohz_full= (tick_nohz_full_cpu): only these may stop a busy CPU's tick, and a 1 Hz remote
    /// tick (sched_tick_remote, from a housekeeping CPU) then runs their task's task_tick. Empty by default, as in a
    /// kernel booted without the parameter. Set before the run; the remote ticks start one second later, as
    /// sched_tick_start queues them.
    /// </summary>
    public Cpumask NohzFull
    {
        get => _nohzFull;
        set
        {
            _nohzFull = value.And(Topology.Possible);
            if (_remoteTick.Length == 0 && !_nohzFull.IsEmpty)
            {
                _remoteTick = new TimerId[NrCpus];
                _remoteState = new byte[NrCpus];
                for (int cpu = 0; cpu < NrCpus; cpu++)
                {
                    _remoteTick[cpu] = Simulator.CreateTimer(_handler, KindRemoteTick);
                }
            }
            for (int cpu = 0; cpu < _remoteTick.Length; cpu++)
            {
                _remoteState[cpu] = RemoteOffline;
                Simulator.Cancel(_remoteTick[cpu]);
                if (_nohzFull.Test(cpu) && CpuOnline(cpu))
                {
                    RemoteTickStart(cpu);
                }
            }
        }
    }

    /// <summary>sched_update_tick_dependency: a busy tickless CPU whose tasks now need the tick gets it back at once.</summary>
    private void TickDependency(int cpu)
    {
        if (!_tickOn[cpu] && _curr[cpu] >= 0)
        {
            UpdateTick(cpu);
        }
    }

    /// <summary>Remote ticks that found their CPU tickless and ran its task's task_tick.</summary>
    public long RemoteTicks { get; private set; }

    /// <summary>
    /// sched_tick_remote (core.c): once a second, from a housekeeping CPU, a nohz_full CPU whose tick is stopped gets
    /// its current task's task_tick (update_curr, and for a sched_ext task ops.tick) — no scx_tick, no balancing.
    /// </summary>
    private void RemoteTick(int cpu)
    {
        // Requeued while RUNNING; an OFFLINING CPU's last run finds it offline and leaves it OFFLINE.
        if (_remoteState[cpu] == RemoteRunning)
        {
            Simulator.Arm(_remoteTick[cpu], Simulator.Now + SimTime.FromSeconds(1), cpu);
        }
        else
        {
            _remoteState[cpu] = RemoteOffline;
        }
        int curr = _curr[cpu];
        if (!CpuOnline(cpu) || _tickOn[cpu] || curr < 0)
        {
            return;
        }
        _thisCpu = HousekeepingCpu();
        RemoteTicks++;
        UpdateCurrCore(cpu);
        _classes[_pt[curr].Class].TaskTick(cpu, ref Tasks[curr]);
    }

    /// <summary>sched_tick_start (sched_cpu_starting): RUNNING; queued a second from now unless a run is still pending.</summary>
    private void RemoteTickStart(int cpu)
    {
        if (!_nohzFull.Test(cpu))
        {
            return;
        }
        byte was = _remoteState[cpu];
        _remoteState[cpu] = RemoteRunning;
        if (was == RemoteOffline)
        {
            Simulator.Arm(_remoteTick[cpu], Simulator.Now + SimTime.FromSeconds(1), cpu);
        }
    }

    /// <summary>sched_tick_stop (sched_cpu_dying): OFFLINING; the pending run happens once more, then stops.</summary>
    private void RemoteTickStop(int cpu)
    {
        if (_nohzFull.Test(cpu) && _remoteState[cpu] == RemoteRunning)
        {
            _remoteState[cpu] = RemoteOfflining;
        }
    }

    private int HousekeepingCpu()
    {
        for (int c = 0; c < NrCpus; c++)
        {
            if (!_nohzFull.Test(c) && CpuOnline(c))
            {
                return c;
            }
        }
        return 0;
    }

    /// <summary>
    /// Starts or stops <paramref name="cpu"/>'s tick: none while idle (tick_nohz_idle_enter); stopped on a busy CPU
    /// only when it is nohz_full and sched_can_stop_tick allows it; otherwise a tick at every jiffy boundary. A task
    /// enqueued on a tickless CPU restarts it at once (sched_update_tick_dependency's kick); one leaving lets it stop
    /// at the next tick.
    /// </summary>
    private void UpdateTick(int cpu, bool mayStop = true)
    {
        int curr = _curr[cpu];
        bool want = curr >= 0 && !CanStopTick(cpu, curr);
        if (want == _tickOn[cpu] || (!want && !mayStop))
        {
            return;
        }
        _tickOn[cpu] = want;
        if (want)
        {
            long next = (JiffiesAt(NowNs) + 1) * _tickNs;
            Simulator.Arm(_tickTimer[cpu], new SimTime(next), cpu);
        }
        else
        {
            Simulator.Cancel(_tickTimer[cpu]);
        }
    }

    // tick_nohz_full_update_tick (kernel/time/tick-sched.c) leaves the tick alone unless tick_nohz_full_cpu(cpu):
    // on any other CPU a task with SCX_SLICE_INF still gets task_tick_scx, ops.tick and scx_tick every jiffy. On a
    // nohz_full CPU, sched_can_stop_tick (core.c): sched_ext must agree (scx_can_stop_tick: a non-ext task, or the
    // scheduler's SCX_SLICE_INF), and the fair class must hold at most one queued task (no involuntary preemption to
    // time). bpfsim has no RT or deadline tasks.
    private bool CanStopTick(int cpu, int curr) =>
        _nohzFull.Test(cpu) && (!ExtEnabled || _ext!.CanStopTick(cpu)) && _classes[FairClass].NrQueued(cpu) <= 1;
}
