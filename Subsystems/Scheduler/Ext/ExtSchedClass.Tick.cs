using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// update_curr_scx, task_tick_scx, scx_tick, the watchdog (scx_watchdog_workfn / check_rq_for_timeouts), kicks
// (scx_bpf_kick_cpu → kick_cpus_irq_workfn), yield, weight and cpumask changes (kernel/sched/ext.c, 6.12).
public sealed partial class ExtSchedClass
{
    private ulong _watchdogTimeout;   // jiffies
    private ulong _watchdogTimestamp; // jiffies

    /// <summary>scx_watchdog_timeout in jiffies.</summary>
    public ulong WatchdogTimeoutJiffies => _watchdogTimeout;

    /// <inheritdoc/>
    public override void UpdateCurr(int cpu)
    {
        int curr = _core.Current(cpu);
        if (curr < 0)
        {
            return;
        }
        ref var p = ref Task(curr);
        if (!OnExt(p))
        {
            return;
        }
        // update_curr_common: the runtime since exec_start.
        long now = _core.NowNs;
        long delta = now - (long)p.Se.ExecStart;
        if (delta <= 0)
        {
            return;
        }
        p.Se.ExecStart = (ulong)now;
        p.Se.SumExecRuntime += (ulong)delta;
        UpdateCurrSlice(ref p, delta);
    }

    /// <inheritdoc/>
    public override void TaskTick(int cpu, ref TaskStruct p)
    {
        UpdateCurr(cpu);
        if (Bypassing)
        {
            p.Scx.Slice = 0;
        }
        else if (_ops?.Tick is { } tick)
        {
            // The CPU this code runs on: the ticking CPU, or for sched_tick_remote the housekeeping CPU.
            CallTask(MTick, tick, _core.ThisCpu >= 0 ? _core.ThisCpu : cpu, ref p);
        }
        if (p.Scx.Slice == 0)
        {
            _core.ReschedCurr(cpu);
        }
    }

    /// <summary>scx_tick: the watchdog must have checked in within the timeout.</summary>
    public void Tick(int cpu)
    {
        if (!_opsEnabled)
        {
            return;
        }
        ulong now = _core.Jiffies;
        if ((long)(now - (_watchdogTimestamp + _watchdogTimeout)) > 0)
        {
            uint ms = JiffiesToMs(now - _watchdogTimestamp);
            ErrorExit(ScxExitKind.ErrorStall, 0, $"watchdog failed to check in for {ms / 1000}.{ms % 1000:D3}s");
        }
    }

    /// <summary>scx_can_stop_tick: a CPU running an SCX task with SCX_SLICE_INF may go tickless.</summary>
    public bool CanStopTick(int cpu)
    {
        if (Bypassing)
        {
            return false;
        }
        int curr = _core.Current(cpu);
        if (curr < 0 || !OnExt(Task(curr)))
        {
            return true;
        }
        return (_rqFlags[cpu] & RqCanStopTick) != 0;
    }

    // jiffies_to_msecs (kernel/time/time.c): exact when HZ divides 1000, else rounded up (DIV_ROUND_UP).
    private uint JiffiesToMs(ulong j) => (uint)((j * 1000 + (ulong)_core.Hz - 1) / (ulong)_core.Hz);

    private SimTime JiffiesToTime(ulong j) => SimTime.FromNanoseconds((long)(j * (1_000_000_000UL / (ulong)_core.Hz)));

    private void ArmWatchdog() =>
        _core.Simulator.Arm(_watchdogTimer, _core.Simulator.Now + JiffiesToTime(Math.Max(_watchdogTimeout / 2, 1)));

    /// <summary>scx_watchdog_workfn: every timeout/2, a runnable task not run for longer than the timeout is a stall.</summary>
    private void WatchdogWork()
    {
        if (!_opsEnabled)
        {
            return;
        }
        ulong now = _core.Jiffies;
        _watchdogTimestamp = now;
        for (int cpu = 0; cpu < _core.NrCpus; cpu++)
        {
            if (CheckRqForTimeouts(cpu, now))
            {
                break;
            }
        }
        ArmWatchdog();
    }

    private bool CheckRqForTimeouts(int cpu, ulong now)
    {
        for (int t = _runHead[cpu]; t >= 0; t = _runNext[t])
        {
            ref var p = ref Task(t);
            if ((long)(now - (p.Scx.RunnableAt + _watchdogTimeout)) > 0)
            {
                uint ms = JiffiesToMs(now - p.Scx.RunnableAt);
                ErrorExit(ScxExitKind.ErrorStall, 0, $"{p.CommString}[{p.Pid}] failed to run for {ms / 1000}.{ms % 1000:D3}s");
                return true;
            }
        }
        return false;
    }

    /// <summary>scx_bpf_kick_cpu's queueing half: the kick runs as irq_work, at this instant after the caller returns.</summary>
    internal void QueueKick(int cpu, ScxKickFlags flags)
    {
        if ((flags & ScxKickFlags.Idle) != 0)
        {
            int curr = _core.Current(cpu);
            // can_skip_idle_kick: a busy CPU not in balance will go through a scheduling cycle anyway.
            if (curr >= 0 && (_rqFlags[cpu] & RqInBalance) == 0)
            {
                return;
            }
            _kick[cpu] |= KickIfIdle;
        }
        else
        {
            _kick[cpu] |= KickResched;
            if ((flags & ScxKickFlags.Preempt) != 0)
            {
                _kick[cpu] |= KickPreempt;
            }
        }
        if (!_kickQueued)
        {
            _kickQueued = true;
            _core.Simulator.Schedule(_core.Simulator.Now, _handler, EvKick);
        }
    }

    /// <summary>kick_cpus_irq_workfn. SCX_KICK_WAIT's busy-wait ends at this same instant: the target reschedules now.</summary>
    private void ProcessKicks()
    {
        _kickQueued = false;
        for (int cpu = 0; cpu < _kick.Length; cpu++)
        {
            byte k = _kick[cpu];
            if ((k & KickResched) == 0)
            {
                continue;
            }
            _kick[cpu] = 0;
            if (!_core.CpuOnline(cpu))
            {
                continue; // kick_one_cpu: an offline CPU is not kicked
            }
            int curr = _core.Current(cpu);
            if ((k & KickPreempt) != 0 && curr >= 0 && OnExt(Task(curr)))
            {
                Task(curr).Scx.Slice = 0;
            }
            Kicks++;
            _core.ReschedCurr(cpu);
        }
        for (int cpu = 0; cpu < _kick.Length; cpu++)
        {
            if ((_kick[cpu] & KickIfIdle) == 0)
            {
                continue;
            }
            _kick[cpu] = 0;
            if (_core.Current(cpu) < 0 && _core.CpuOnline(cpu))
            {
                Kicks++;
                _core.ReschedCurr(cpu);
            }
        }
    }

    /// <summary>CPUs kicked so far.</summary>
    public long Kicks { get; private set; }

    /// <inheritdoc/>
    public override void YieldTask(int cpu)
    {
        int curr = _core.Current(cpu);
        if (curr < 0)
        {
            return;
        }
        ref var p = ref Task(curr);
        if (_ops?.Yield is not null)
        {
            CallYield(cpu, ref p, -1);
        }
        else
        {
            p.Scx.Slice = 0;
        }
    }

    /// <inheritdoc/>
    public override void ReweightTask(int cpu, ref TaskStruct p)
    {
        p.Scx.Weight = WeightOf(p);
        if (_ops?.SetWeight is not null)
        {
            CallSetWeight(cpu, ref p, p.Scx.Weight);
        }
    }

    /// <inheritdoc/>
    public override void SetCpusAllowed(ref TaskStruct p)
    {
        if (_ops?.SetCpumask is not null)
        {
            CallSetCpumask(p.Cpu, ref p);
        }
    }

    /// <summary>sched_weight_to_cgroup(scale_load_down(se.load.weight)): 1 … 10000, nice 0 = 100.</summary>
    internal static uint WeightOf(in TaskStruct p)
    {
        ulong w = p.Se.Weight >> SchedPrio.FixedPointShift;
        if (w == 0)
        {
            w = (ulong)SchedPrio.WeightOfNice(Math.Clamp(p.StaticPrio - SchedPrio.DefaultPrio, -20, 19));
        }
        if (p.Policy == (uint)SchedPolicy.Idle)
        {
            w = 3; // WEIGHT_IDLEPRIO
        }
        return SchedPrio.WeightToCgroup(w);
    }
}
