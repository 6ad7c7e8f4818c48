using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Fair;

// Load balancing (kernel/sched/fair.c: balance_fair, sched_balance_newidle, sched_balance_trigger,
// sched_balance_domains, nohz_balancer_kick / _nohz_idle_balance), over two domain levels: the CPU's node (the LLC / MC
// domain) and, with more than one node, the machine. The three triggers: a CPU about to go idle pulls (newidle), a busy
// CPU balances at its domain intervals (balance_interval ms — the domain's CPU count, doubled up to twice that while
// balanced — × busy_factor 16, less one jiffy), and a busy CPU's tick kicks the idle CPUs that are due (nohz idle
// balance) so runnable tasks never wait behind a busy CPU while another idles. Each balance is sched_balance_rq
// (FairSchedClass.BalanceRq.cs). Cost: O(CPUs) per balance.
public sealed partial class FairSchedClass
{
    private const int SchedNrMigrate = 32;
    private const int BusyFactor = 16;
    private const ulong ImbalancePct = 117;

    private int _levels;
    private long[] _nextBalance = [];
    private long[] _lastBalance = []; // sd->last_balance, [level * nrCpus + cpu]
    private long _maxInterval;
    private long _nohzNextBalance;

    // NI_RANDOM's statistics of each CPU's domain at each level, [level * nrCpus + cpu], and each CPU's sched_rng
    // stream. Kept across hotplug, as the domains' other balancing state is here.
    private NewidleStats[] _newidle = [];
    private SimRandom[] _schedRng = [];

    /// <summary>Tasks moved by load balancing so far (newidle, periodic and nohz pulls).</summary>
    public long Migrations { get; private set; }

    private void InitBalance(ulong seed)
    {
        _levels = _core.Topology.NodeCount > 1 ? 2 : 1;
        _nextBalance = new long[_nrCpus];
        _lastBalance = new long[_levels * _nrCpus];
        _nrBalanceFailed = new int[_levels * _nrCpus];
        _groupImbalance = new bool[_core.Topology.NodeCount];
        _balanceIntervalMs = new long[_levels * _nrCpus];
        for (int level = 0; level < _levels; level++)
        {
            Array.Fill(_balanceIntervalMs, SpanWeight(level), level * _nrCpus, _nrCpus); // sd->min_interval
        }
        _maxInterval = Math.Max(1, (long)Hz * _nrCpus / 10); // max_load_balance_interval
        // sd_init (kernel/sched/topology.c): every domain starts at a success rate of one in two.
        _newidle = new NewidleStats[_levels * _nrCpus];
        Array.Fill(_newidle, NewidleStats.Initial);
        _schedRng = new SimRandom[_nrCpus];
        for (int cpu = 0; cpu < _nrCpus; cpu++)
        {
            _schedRng[cpu] = SimRandom.For(seed, $"sched:sched_rng:{cpu}");
        }
    }

    private int Hz => _core.Hz > 0 ? _core.Hz : 1000;

    /// <summary>
    /// pick_next_task_fair (fair.c), the path without sched_ext: pick first — which finishes the dequeue of every
    /// delayed entity it meets — and only when nothing is left, sched_balance_newidle and pick again. A CPU holding
    /// only delayed sleepers therefore pulls, with the pulled task placed against a V they no longer weigh on.
    /// </summary>
    public override int PickNextTask(int cpu, int prev)
    {
        int next = PickTask(cpu);
        if (next < 0 && NewidleBalance(cpu) > 0)
        {
            next = PickTask(cpu);
        }
        if (next < 0)
        {
            NohzEnterIdle(cpu);
        }
        return next;
    }

    /// <summary>
    /// balance_fair, called by prev_balance only with sched_ext enabled: runnable already (cfs.nr_running counts
    /// delayed entities, so a CPU holding only those does not pull here, as in the kernel), or a newidle pull found work.
    /// </summary>
    public override bool Balance(int cpu, int prev)
    {
        if (_nrRunning[cpu] > 0)
        {
            return true;
        }
        return NewidleBalance(cpu) > 0;
    }

    /// <summary>Newidle balances that went past the overload gate (a schedstat, for tests).</summary>
    internal long NewidleBalances { get; private set; }

    /// <summary>Domains a newidle balance balanced (NI_RANDOM's die let it), over all CPUs and levels (for tests).</summary>
    internal long NewidleDomainBalances { get; private set; }

    /// <summary>
    /// sched_balance_newidle: balance the node, then the machine, as CPU_NEWLY_IDLE; stop at the first pull. Each level
    /// moves next_balance towards its next periodic balance first, with the interval as it was before this balance.
    /// With NI_RANDOM a level is balanced only when a 1024-sided die falls at or below 1 + its newidle_ratio, a success
    /// then counting as many calls as the die's odds against it, so the ratio estimates the domain's pull rate over
    /// its last thousand or so calls. The kernel's cost gates (avg_idle against max_newidle_lb_cost, the real time the
    /// balancing code took) never close here, where that code takes no simulated time; its statistics are kept as the
    /// kernel keeps them for a balance that took some time, as every real one does.
    /// </summary>
    private int NewidleBalance(int cpu)
    {
        if (!_core.CpuActive(cpu))
        {
            return 0; // "do not pull tasks towards !active CPUs"
        }
        if (!_core.RdOverloaded)
        {
            // No runqueue had two tasks since the last root-level balance said so: nothing to pull, no blocked-load
            // update; only next_balance moves towards the lowest domain's periodic balance.
            _nextBalance[cpu] = Math.Min(_nextBalance[cpu], _lastBalance[cpu] + Interval(0, cpu, busy: false));
            return 0;
        }
        NewidleBalances++;
        UpdateBlockedAverages(cpu);
        bool continueBalancing = true;
        for (int level = 0; level < _levels && continueBalancing; level++)
        {
            int sd = level * _nrCpus + cpu;
            _nextBalance[cpu] = Math.Min(_nextBalance[cpu], _lastBalance[sd] + Interval(level, cpu, busy: false));
            uint weight = 1;
            if (Features.NiRandom)
            {
                uint d1k = (uint)_schedRng[cpu].NextUInt64() % 1024;
                weight = 1 + _newidle[sd].Ratio;
                if (d1k > weight)
                {
                    _newidle[sd].Update(0);
                    continue;
                }
                weight = (1024 + weight / 2) / weight;
            }
            NewidleDomainBalances++;
            int pulled = BalanceRq(cpu, level, idle: true, newidle: true, ref continueBalancing);
            _newidle[sd].Update(pulled > 0 ? weight : 0); // update_newidle_cost, for a balance that took time
            if (pulled > 0)
            {
                return pulled;
            }
        }
        return 0;
    }

    /// <summary>The NI_RANDOM statistics of <paramref name="cpu"/>'s domain at <paramref name="level"/> (0: its node), for tests.</summary>
    internal NewidleStats NewidleStatsOf(int level, int cpu) => _newidle[level * _nrCpus + cpu];

    /// <summary>
    /// sched_balance_trigger from <paramref name="cpu"/>'s tick: its own periodic balance when due, then the nohz kick
    /// that has due idle CPUs pull.
    /// </summary>
    private void BalanceTrigger(int cpu)
    {
        long jiffies = (long)_core.Jiffies;
        if (jiffies >= _nextBalance[cpu])
        {
            UpdateBlockedAverages(cpu); // sched_balance_softirq
            BalanceDomains(cpu, jiffies, idle: RqRunnable(cpu) == 0);
        }
        // nohz_balancer_kick: idle CPUs' blocked load is decayed every LOAD_AVG_PERIOD ms while some may be left
        // (NOHZ_STATS_KICK); from nohz.next_balance on, a CPU with two runnable tasks, or one in an LLC with more than
        // one busy CPU (sds->nr_busy_cpus: its tasks might spread to another node), has the idle CPUs balance too.
        bool stats = _nohzHasBlocked && jiffies > _nohzNextBlocked;
        bool balance = jiffies >= _nohzNextBalance && (RqRunnable(cpu) >= 2 || LlcHasTwoBusyCpus(cpu));
        if (stats || balance)
        {
            NohzKick(jiffies, balance);
        }
    }

    private bool LlcHasTwoBusyCpus(int cpu)
    {
        ref readonly var node = ref _core.Topology.NodeMask(_core.Topology.NodeOf(cpu));
        int busy = 0;
        for (int c = node.NextFrom(0); c >= 0; c = node.NextFrom(c + 1))
        {
            if (!IdleCpu(c) && _core.CpuActive(c) && ++busy > 1)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// sched_balance_domains: each level whose interval has passed balances towards <paramref name="cpu"/>, as CPU_IDLE
    /// or CPU_NOT_IDLE; the intervals are the busy ones unless the CPU is idle or runs only SCHED_IDLE tasks.
    /// </summary>
    private void BalanceDomains(int cpu, long jiffies, bool idle)
    {
        bool busy = !idle && !SchedIdleCpu(cpu);
        long next = jiffies + 60L * Hz;
        bool continueBalancing = true;
        for (int level = 0; level < _levels && continueBalancing; level++)
        {
            ref long last = ref _lastBalance[level * _nrCpus + cpu];
            long interval = Interval(level, cpu, busy);
            if (jiffies >= last + interval)
            {
                if (BalanceRq(cpu, level, idle, newidle: false, ref continueBalancing) > 0)
                {
                    // LBF_DST_PINNED may have sent what moved to another CPU of the node: look again, as the kernel does.
                    idle = IdleCpu(cpu);
                    busy = !idle && !SchedIdleCpu(cpu);
                }
                last = jiffies;
                interval = Interval(level, cpu, busy);
            }
            next = Math.Min(next, last + interval);
        }
        _nextBalance[cpu] = next;
    }

    /// <summary>sched_idle_cpu: the CPU has runnable tasks and every one is a SCHED_IDLE fair task.</summary>
    private bool SchedIdleCpu(int cpu)
    {
        int fair = _nrRunning[cpu] - _nrDelayed[cpu];
        if (fair == 0 || fair != RqRunnable(cpu))
        {
            return false;
        }
        for (int id = _tasksHead[cpu]; id >= 0; id = _ft[id].ListNext)
        {
            ref var p = ref _tasks[id];
            if (p.Se.SchedDelayed == 0 && p.Policy != (uint)Tasks.SchedPolicy.Idle)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// kick_ilb + _nohz_idle_balance: every idle CPU has its blocked load decayed (NOHZ_STATS_KICK, always part of a
    /// kick) and, with <paramref name="balance"/> (NOHZ_BALANCE_KICK), balances as CPU_IDLE when due; nohz.next_balance
    /// becomes the earliest next balance of the idle CPUs (a CPU that idles later is looked at within one node
    /// interval), nohz.next_blocked LOAD_AVG_PERIOD ms on.
    /// </summary>
    private void NohzKick(long jiffies, bool balance)
    {
        if (balance)
        {
            // kick_ilb (fair.c) moves nohz.next_balance to the next jiffy before find_new_ilb, found or not: the other
            // busy CPUs' ticks of this jiffy do not look again.
            _nohzNextBalance = jiffies + 1;
        }
        if (!HasIdleBalancer())
        {
            return;
        }
        _nohzHasBlocked = false;
        bool hasBlocked = false;
        long next = jiffies + Interval(0, -1, busy: false);
        for (int c = 0; c < _nrCpus; c++)
        {
            if (!IdleCpu(c))
            {
                continue;
            }
            hasBlocked |= UpdateNohzStats(c);
            if (balance && jiffies >= _nextBalance[c])
            {
                BalanceDomains(c, jiffies, idle: true);
            }
            next = Math.Min(next, _nextBalance[c]);
        }
        _nohzNextBalance = Math.Max(next, jiffies + 1);
        _nohzNextBlocked = jiffies + (Pelt.LoadAvgPeriod * (long)Hz + 999) / 1000; // msecs_to_jiffies(LOAD_AVG_PERIOD)
        _nohzHasBlocked |= hasBlocked;
    }

    /// <summary>
    /// find_new_ilb: the kick needs an idle housekeeping CPU (HK_TYPE_MISC, which nohz_full= takes away) other than the
    /// kicker to run the idle balance; without one there is no nohz balancing.
    /// </summary>
    private bool HasIdleBalancer()
    {
        var nohzFull = _core.NohzFull;
        if (nohzFull.IsEmpty)
        {
            return true; // the kicker is busy, so any idle CPU is another CPU
        }
        for (int c = 0; c < _nrCpus; c++)
        {
            if (!nohzFull.Test(c) && IdleCpu(c))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// get_sd_balance_interval in jiffies: the domain's balance_interval ms (its min_interval, the CPU count, for
    /// <paramref name="cpu"/> −1), × busy_factor − 1 when busy, clamped.
    /// </summary>
    private long Interval(int level, int cpu, bool busy)
    {
        long ms = cpu < 0 ? SpanWeight(level) : _balanceIntervalMs[level * _nrCpus + cpu];
        if (busy)
        {
            ms *= BusyFactor;
        }
        long j = (ms * Hz + 999) / 1000; // msecs_to_jiffies rounds up
        if (busy)
        {
            j -= 1;
        }
        return Math.Clamp(j, 1, _maxInterval);
    }

    private int SpanWeight(int level) => level == 0 ? _core.Topology.NodeMask(0).Weight : _nrCpus;
}
