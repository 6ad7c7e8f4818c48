using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

// CPU hotplug (kernel/cpu.c: cpu_down_maps_locked, _cpu_down, _cpu_up; kernel/sched/core.c 6.12:
// sched_cpu_deactivate, balance_push, __balance_push_cpu_stop, select_fallback_rq, sched_cpu_dying,
// sched_cpu_activate). A hotplug operation is one instant here; within it the kernel's order is kept:
//
// going offline: the hotplug thread (cpuhp/N) takes the CPU from its current task; set_cpu_active(false);
//   set_rq_offline (each class's rq_offline: sched_ext moves this rq's tasks to its local DSQ); scx_rq_deactivate
//   (handle_hotplug: scx_hotplug_seq++, ops.cpu_offline or the scheduler's exit); balance_push pushes every task
//   left on the rq, in pick order, to select_fallback_rq's CPU (move_queued_task); then the CPU dies
//   (cpu_online cleared) and runs nothing until it comes back.
// coming online: set_cpu_online(true) (bringup); sched_cpu_activate: set_cpu_active(true), scx_rq_activate
//   (scx_hotplug_seq++, ops.cpu_online or the exit), set_rq_online; the CPU then schedules from idle.
public sealed partial class SchedKernel
{
    private Cpumask _offlineCpus;
    private Cpumask _inactiveCpus;
    private bool _anyInactive;
    private long[]? _offlineSince;
    private long[]? _offlineNs;
    private long _hotplugCount;
    private int _eventAffinityBroken;
    private readonly List<CpuHotplugEvent> _hotplugEvents = [];
    private readonly List<(long TimeNs, string Text)> _hotplugLog = [];
    private readonly List<(int Cpu, long FromNs, long ToNs)> _offlineSpans = [];

    /// <summary>cpu_online(<paramref name="cpu"/>).</summary>
    public bool CpuOnline(int cpu) => !_offlineCpus.Test(cpu);

    /// <summary>cpu_active(<paramref name="cpu"/>): false from the start of its offlining until it is online again.</summary>
    public bool CpuActive(int cpu) => !_anyInactive || !_inactiveCpus.Test(cpu);

    /// <summary>num_online_cpus().</summary>
    public int NumOnlineCpus => NrCpus - _offlineCpus.Weight;

    /// <summary>Every hotplug operation carried out, in order.</summary>
    public IReadOnlyList<CpuHotplugEvent> HotplugEvents => _hotplugEvents;

    /// <summary>Kernel messages of hotplug (select_fallback_rq's "process … no longer affine to cpuN"), as (time ns, text).</summary>
    public IReadOnlyList<(long TimeNs, string Text)> HotplugLog => _hotplugLog;

    /// <summary>The spans each CPU was offline, closed at the end of the run by <see cref="Finish"/> (an open span ends then).</summary>
    public IReadOnlyList<(int Cpu, long FromNs, long ToNs)> OfflineSpans => _offlineSpans;

    /// <summary>Tasks pushed off outgoing CPUs so far (balance_push).</summary>
    public long HotplugMigrations { get; private set; }

    /// <summary>Times select_fallback_rq found no allowed active CPU and widened a task's affinity to every CPU.</summary>
    public long AffinityBroken { get; private set; }

    /// <summary>The time <paramref name="cpu"/> has been offline so far, in ns.</summary>
    public long OfflineNs(int cpu)
    {
        if (_offlineNs is null)
        {
            return 0;
        }
        long ns = _offlineNs[cpu];
        if (_offlineCpus.Test(cpu))
        {
            ns += NowNs - _offlineSince![cpu];
        }
        return ns;
    }

    /// <summary>
    /// Takes <paramref name="cpu"/> offline (<paramref name="online"/> false: cpu_down) or brings it online (cpu_up),
    /// now. Changing a CPU to the state it is in does nothing and returns 0, as writing the same value to
    /// /sys/devices/system/cpu/cpuN/online does.
    /// </summary>
    /// <returns>0; −EINVAL (−22) for a CPU that does not exist; −EBUSY (−16) for the last online CPU (cpu_down_maps_locked:
    /// num_online_cpus() == 1) and, with nohz_full CPUs, for CPU 0, which keeps the timekeeping for them
    /// (tick_nohz_cpu_down, kernel/time/tick-sched.c).</returns>
    public int SetCpuOnline(int cpu, bool online)
    {
        if ((uint)cpu >= (uint)NrCpus)
        {
            return -22;
        }
        if (online == CpuOnline(cpu))
        {
            return 0;
        }
        if (!online && (NumOnlineCpus == 1 || (cpu == 0 && !_nohzFull.IsEmpty)))
        {
            return -16;
        }
        _offlineSince ??= new long[NrCpus];
        _offlineNs ??= new long[NrCpus];
        if (online)
        {
            CpuUp(cpu);
        }
        else
        {
            CpuDown(cpu);
        }
        return 0;
    }

    private long HandleHotplug(int cpu, bool online)
    {
        _hotplugCount++;
        return _ext is ISchedExtHotplug h ? h.HandleHotplug(cpu, online) : _hotplugCount;
    }

    private void CpuDown(int cpu)
    {
        DropStopWork(cpu);
        RemoteTickStop(cpu);
        long now = NowNs;
        _thisCpu = cpu; // cpuhp/N runs the teardown on the outgoing CPU
        int curr = _curr[cpu];
        if (curr >= 0)
        {
            // The hotplug thread preempts the current task: it goes back on this rq, runnable.
            UpdateCurrCore(cpu);
            PutPrevSetNext(cpu, curr, -1);
            ContextSwitch(cpu, curr, -1, voluntary: false);
        }
        _inactiveCpus.Set(cpu);
        _anyInactive = true;
        for (int c = FairClass; c < IdleClass; c++)
        {
            if (c == FairClass || _ext != null)
            {
                _classes[c].RqOffline(cpu);
            }
        }
        long seq = HandleHotplug(cpu, online: false);
        _eventAffinityBroken = 0;
        int pushed = PushTasksOff(cpu);
        _thisCpu = cpu;
        _offlineCpus.Set(cpu);
        _needResched[cpu] = false;
        UpdateTick(cpu);
        Simulator.Cancel(_burstTimer[cpu]);
        _offlineSince![cpu] = now;
        _hotplugEvents.Add(new CpuHotplugEvent(now, cpu, false, seq, pushed, _eventAffinityBroken));
    }

    private void CpuUp(int cpu)
    {
        long now = NowNs;
        _thisCpu = cpu;
        _offlineCpus.Clear(cpu);
        RemoteTickStart(cpu);
        _offlineNs![cpu] += now - _offlineSince![cpu];
        _offlineSpans.Add((cpu, _offlineSince[cpu], now));
        _accountedAt[cpu] = now;
        _inactiveCpus.Clear(cpu);
        _anyInactive = !_inactiveCpus.IsEmpty;
        long seq = HandleHotplug(cpu, online: true);
        for (int c = FairClass; c < IdleClass; c++)
        {
            if (c == FairClass || _ext != null)
            {
                _classes[c].RqOnline(cpu);
            }
        }
        _hotplugEvents.Add(new CpuHotplugEvent(now, cpu, true, seq, 0, 0));
        // The new CPU enters its idle loop and schedules: a newidle balance or ops.dispatch may give it work.
        ReschedCurr(cpu);
    }

    /// <summary>
    /// balance_push + __balance_push_cpu_stop: every task still queued on the outgoing CPU, in the order __schedule
    /// would pick them (fair, then sched_ext's local DSQ), moves to select_fallback_rq's CPU (move_queued_task).
    /// </summary>
    private int PushTasksOff(int cpu)
    {
        int pushed = 0;
        for (int c = FairClass; c < IdleClass; c++)
        {
            if (c == ExtClass && _ext == null)
            {
                continue;
            }
            var cls = _classes[c];
            for (int guard = Tasks.Count; guard >= 0 && cls.HasRunnable(cpu); guard--)
            {
                int t = cls.PickTask(cpu);
                if (t < 0)
                {
                    break;
                }
                ref var p = ref Tasks[t];
                int dest = SelectFallbackRq(cpu, ref p);
                DeactivateTask(cpu, ref p, DequeueFlags.NoClock | DequeueFlags.Migrating);
                SetTaskCpu(ref p, dest);
                ActivateTask(dest, ref p, EnqueueFlags.NoClock | EnqueueFlags.Migrating | EnqueueFlags.Migrated);
                WakeupPreempt(dest, ref p, WakeFlags.None);
                pushed++;
                HotplugMigrations++;
            }
        }
        return pushed;
    }

    /// <summary>is_cpu_allowed for a user task: in its cpus_mask and active.</summary>
    private bool IsCpuAllowed(in TaskStruct p, int cpu) => p.CpusMask.Test(cpu) && CpuActive(cpu);

    /// <summary>
    /// select_fallback_rq (core.c): an allowed active CPU of <paramref name="cpu"/>'s node, else any allowed active
    /// CPU; with none, the affinity is widened to every CPU (cpuset_cpus_allowed_fallback: the root cpuset's CPUs;
    /// do_set_cpus_allowed, so the class hears of it) and printk says "process %d (%s) no longer affine to cpu%d".
    /// </summary>
    private int SelectFallbackRq(int cpu, ref TaskStruct p)
    {
        if ((uint)cpu < (uint)NrCpus)
        {
            ref readonly Cpumask node = ref Topology.NodeMask(Topology.NodeOf(cpu));
            for (int c = node.First; c >= 0; c = node.NextFrom(c + 1))
            {
                if (IsCpuAllowed(p, c))
                {
                    return c;
                }
            }
        }
        for (int c = p.CpusMask.First; c >= 0; c = p.CpusMask.NextFrom(c + 1))
        {
            if (IsCpuAllowed(p, c))
            {
                return c;
            }
        }
        p.CpusMask = Topology.Possible;
        p.NrCpusAllowed = p.CpusMask.Weight;
        _classes[_pt[p.Id].Class].SetCpusAllowed(ref p);
        AffinityBroken++;
        _eventAffinityBroken++;
        _hotplugLog.Add((NowNs, $"process {p.Pid} ({p.CommString}) no longer affine to cpu{cpu}"));
        for (int c = p.CpusMask.First; c >= 0; c = p.CpusMask.NextFrom(c + 1))
        {
            if (IsCpuAllowed(p, c))
            {
                return c;
            }
        }
        throw new InvalidOperationException("select_fallback_rq: no CPU is active"); // BUG() in the kernel
    }

    /// <summary>The CPU a sleeping task's timer fires on: its own, or after hrtimers_cpu_dying moved it, the first active CPU.</summary>
    /// <summary>The first active CPU of <paramref name="cpus"/>, else the first active CPU (<see cref="TimerCpu"/>).</summary>
    private int FirstActive(in Cpumask cpus, int cpu)
    {
        for (int c = cpus.First; c >= 0; c = cpus.NextFrom(c + 1))
        {
            if (CpuActive(c))
            {
                return c;
            }
        }
        return TimerCpu(cpu);
    }

    private int TimerCpu(int cpu)
    {
        if (CpuActive(cpu))
        {
            return cpu;
        }
        for (int c = 0; c < NrCpus; c++)
        {
            if (CpuActive(c))
            {
                return c;
            }
        }
        return cpu;
    }

    /// <summary><paramref name="mask"/> and cpu_active_mask.</summary>
    private Cpumask ActiveAnd(in Cpumask mask)
    {
        var m = mask;
        for (int c = _inactiveCpus.First; c >= 0; c = _inactiveCpus.NextFrom(c + 1))
        {
            m.Clear(c);
        }
        return m;
    }

    /// <summary>Closes the offline spans still open at the end of the run.</summary>
    private void FinishHotplug()
    {
        if (_offlineSince is null)
        {
            return;
        }
        long now = NowNs;
        for (int cpu = 0; cpu < NrCpus; cpu++)
        {
            if (_offlineCpus.Test(cpu))
            {
                _offlineSpans.Add((cpu, _offlineSince[cpu], now));
            }
        }
    }
}
