using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Fair;

// Load balancing (kernel/sched/fair.c: balance_fair, sched_balance_newidle, sched_balance_trigger,
// sched_balance_domains, nohz_balancer_kick / _nohz_idle_balance, sched_balance_rq, detach_tasks / attach_task),
// simplified to two domain levels: the CPU's node (the LLC / MC domain) and, with more than one node, the machine.
// Kept: the three triggers — a CPU about to go idle pulls (newidle), a busy CPU balances at its domain intervals
// (sd_weight ms × busy_factor 16, less one jiffy), and a busy CPU's tick kicks the idle CPUs that are due (nohz idle
// balance at sd_weight ms) so runnable tasks never wait behind a busy CPU while another idles; the busiest rq of a
// level gives up tasks from the cold end of its cfs_tasks list, at most sched_nr_migrate (32) looked at, only tasks
// that are not running, not delayed and allowed on the destination (not delayed is bpfsim's rule: 6.12 counts delayed
// tasks in the balancer's nr_running / h_nr_queued and can_migrate_task may move one, task_hot usually refusing; with no
// task_hot here, moving them would over-migrate; see docs/scheduler.md). Simplified: CPUs, not sched groups, are compared;
// the imbalance is in runnable tasks (migrate_task) or, when those are even, in instantaneous load weight standing in
// for PELT's load_avg (migrate_load); there is no cache-hot refusal (task_hot), no active balance of a running task
// and no misfit / asym handling. Cost: O(CPUs) per balance.
public sealed partial class FairSchedClass
{
    private const int SchedNrMigrate = 32;
    private const int BusyFactor = 16;
    private const ulong ImbalancePct = 117;

    private int _levels;
    private long[] _nextBalance = [];
    private long[] _lastBalance = []; // [level * nrCpus + cpu]
    private long _maxInterval;
    private long _nohzNextBalance;

    /// <summary>Tasks moved by load balancing so far (newidle, periodic and nohz pulls).</summary>
    public long Migrations { get; private set; }

    private void InitBalance()
    {
        _levels = _core.Topology.NodeCount > 1 ? 2 : 1;
        _nextBalance = new long[_nrCpus];
        _lastBalance = new long[_levels * _nrCpus];
        _maxInterval = Math.Max(1, (long)Hz * _nrCpus / 10); // max_load_balance_interval
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

    /// <summary>sched_balance_newidle: pull from the busiest rq of the node, then of the machine; stop at the first pull.</summary>
    private int NewidleBalance(int cpu)
    {
        long jiffies = (long)_core.Jiffies;
        for (int level = 0; level < _levels; level++)
        {
            int pulled = BalanceLevel(cpu, level, idle: true, newidle: true);
            if (pulled > 0)
            {
                _nextBalance[cpu] = Math.Min(_nextBalance[cpu], jiffies + Interval(level, busy: false));
                return pulled;
            }
        }
        return 0;
    }

    /// <summary>
    /// sched_balance_trigger from <paramref name="cpu"/>'s tick: its own periodic balance when due, then the nohz kick
    /// that has due idle CPUs pull.
    /// </summary>
    private void BalanceTrigger(int cpu)
    {
        long jiffies = (long)_core.Jiffies;
        if (jiffies >= _nextBalance[cpu])
        {
            BalanceDomains(cpu, jiffies, busy: RqRunnable(cpu) > 0);
        }
        if (RqRunnable(cpu) >= 2)
        {
            NohzKick(jiffies);
        }
    }

    /// <summary>sched_balance_domains: each level whose interval has passed balances towards <paramref name="cpu"/>.</summary>
    private void BalanceDomains(int cpu, long jiffies, bool busy)
    {
        long next = jiffies + 60L * Hz;
        for (int level = 0; level < _levels; level++)
        {
            ref long last = ref _lastBalance[level * _nrCpus + cpu];
            long interval = Interval(level, busy);
            if (jiffies >= last + interval)
            {
                if (BalanceLevel(cpu, level, idle: !busy, newidle: false) > 0)
                {
                    busy = true; // CPU_NOT_IDLE from here on
                }
                last = jiffies;
                interval = Interval(level, busy);
            }
            next = Math.Min(next, last + interval);
        }
        _nextBalance[cpu] = next;
    }

    /// <summary>
    /// nohz_balancer_kick + _nohz_idle_balance: once nohz.next_balance has come, every idle CPU that is due balances as
    /// CPU_IDLE; nohz.next_balance becomes the earliest next balance of the idle CPUs (a CPU that idles later is
    /// looked at within one node interval).
    /// </summary>
    private void NohzKick(long jiffies)
    {
        if (jiffies < _nohzNextBalance)
        {
            return;
        }
        long next = jiffies + Interval(0, busy: false);
        for (int c = 0; c < _nrCpus; c++)
        {
            if (!IdleCpu(c))
            {
                continue;
            }
            if (jiffies >= _nextBalance[c])
            {
                BalanceDomains(c, jiffies, busy: false);
            }
            next = Math.Min(next, _nextBalance[c]);
        }
        _nohzNextBalance = Math.Max(next, jiffies + 1);
    }

    /// <summary>get_sd_balance_interval in jiffies: sd_weight ms, × busy_factor − 1 when busy, clamped.</summary>
    private long Interval(int level, bool busy)
    {
        long ms = SpanWeight(level);
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

    private bool InSpan(int level, int dst, int c) => level == 1 || SameLlc(dst, c);

    /// <summary>
    /// sched_balance_rq for one level. First the runnable counts (group_has_spare / migrate_task): the rq with the most
    /// runnable fair tasks gives up half the difference — at least one to an idle CPU. When the counts are even, the
    /// load (group_overloaded / migrate_load): the heaviest rq, when it exceeds this one by imbalance_pct (117 %),
    /// gives up tasks no heavier than what is left of half the load difference.
    /// </summary>
    private int BalanceLevel(int dst, int level, bool idle, bool newidle)
    {
        int busiest = -1, busiestNr = 0, heaviest = -1;
        ulong busiestLoad = 0, heaviestLoad = 0;
        for (int c = 0; c < _nrCpus; c++)
        {
            if (c == dst || !InSpan(level, dst, c))
            {
                continue;
            }
            int nr = _nrRunning[c] - _nrDelayed[c];
            if (nr > busiestNr || (nr == busiestNr && nr > 0 && _loadWeight[c] > busiestLoad))
            {
                busiest = c;
                busiestNr = nr;
                busiestLoad = _loadWeight[c];
            }
            if (RqRunnable(c) >= 2 && _loadWeight[c] > heaviestLoad)
            {
                heaviest = c;
                heaviestLoad = _loadWeight[c];
            }
        }
        if (busiest < 0)
        {
            return 0;
        }
        int local = RqRunnable(dst);
        int waiting = RqRunnable(busiest) - 1; // tasks of busiest that are not running
        int imbalance = idle && local == 0 ? Math.Max(1, (RqRunnable(busiest) - local) / 2) : (RqRunnable(busiest) - local) / 2;
        if (waiting > 0 && imbalance > 0)
        {
            return DetachAttach(busiest, dst, imbalance, byLoad: false, newidle);
        }
        ulong localLoad = _loadWeight[dst];
        if (heaviest < 0 || local == 0 || 100 * heaviestLoad <= ImbalancePct * localLoad)
        {
            return 0;
        }
        long loadImbalance = (long)((heaviestLoad - localLoad) / 2);
        return DetachAttach(heaviest, dst, loadImbalance, byLoad: true, newidle);
    }

    /// <summary>
    /// detach_tasks + attach_tasks: from the cold end of <paramref name="src"/>'s cfs_tasks, at most 32 looked at,
    /// until <paramref name="imbalance"/> tasks (or, <paramref name="byLoad"/>, that much weight) have moved; by load,
    /// a task heavier than what is left of the imbalance stays.
    /// </summary>
    private int DetachAttach(int src, int dst, long imbalance, bool byLoad, bool newidle)
    {
        int moved = 0;
        int id = _listTail[src];
        for (int loop = 0; id >= 0 && loop < SchedNrMigrate && imbalance > 0; loop++)
        {
            int prevInList = _ft[id].ListPrev;
            long load = (long)_tasks[id].Se.Weight;
            if (CanMigrate(src, dst, id) && (!byLoad || load <= imbalance))
            {
                ref var p = ref _tasks[id];
                _core.DeactivateTask(src, ref p, DequeueFlags.Migrating);
                _core.SetTaskCpu(ref p, dst);
                _core.ActivateTask(dst, ref p, EnqueueFlags.Migrating | EnqueueFlags.Migrated);
                moved++;
                Migrations++;
                imbalance -= byLoad ? load : 1;
                if (!newidle)
                {
                    PreemptAfterAttach(dst, ref p); // a newidle pull is picked by the schedule() that asked
                }
            }
            id = prevInList;
        }
        return moved;
    }

    /// <summary>can_migrate_task, simplified: allowed on dst, not running, not delayed.</summary>
    private bool CanMigrate(int src, int dst, int id)
    {
        ref var p = ref _tasks[id];
        return p.CpusMask.Test(dst) && _curr[src] != id && _core.Current(src) != id && p.Se.SchedDelayed == 0;
    }

    /// <summary>attach_task's wakeup_preempt: an idle destination wakes; fair over fair by EEVDF; fair preempts a lower class.</summary>
    private void PreemptAfterAttach(int dst, ref Tasks.TaskStruct p)
    {
        int curr = _core.Current(dst);
        if (curr < 0)
        {
            _core.ReschedCurr(dst);
        }
        else if (ReferenceEquals(_core.ClassOf(_tasks[curr]), this))
        {
            WakeupPreempt(dst, ref p, WakeFlags.None);
        }
        else
        {
            _core.ReschedCurr(dst);
        }
    }
}
