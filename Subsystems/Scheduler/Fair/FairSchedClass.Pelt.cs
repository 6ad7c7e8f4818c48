using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

// PELT as kernel/sched/fair.c (6.12) keeps it for the fair class: update_load_avg at enqueue, dequeue, set_next,
// put_prev and the tick; attach / detach / remove_entity_load_avg as tasks arrive, leave, migrate, switch class and
// die; blocked load decayed by sched_balance_update_blocked_averages; util_est; and the readers the balancer and the
// wake-up path use (cpu_load, cpu_runnable, cpu_util, task_h_load). The kernel modelled is CONFIG_FAIR_GROUP_SCHED=y
// (distribution kernels) with every task in the root group, so task_h_load scales by the root's h_load. CPUs have
// full capacity and no frequency scaling, so rq_clock_pelt is the rq clock (plus a constant, below).
public sealed partial class FairSchedClass
{
    // The PELT clock starts 2^20 ns (one period) after simulated time 0, as the kernel's clock is never 0 at boot:
    // a last_update_time of 0 means "not attached", and an attach at time 0 would otherwise attach again later.
    private const ulong PeltClockOffset = 1UL << 20;
    private const int UtilEstWeightShift = 2;
    private const uint UtilEstMargin = 1024 / 100;

    [Flags]
    private enum LoadAvgFlags
    {
        None = 0,
        DoAttach = 0x4,
        DoDetach = 0x8,
    }

    private struct RemovedLoad
    {
        public int Nr;
        public ulong LoadAvg;
        public ulong UtilAvg;
        public ulong RunnableAvg;
    }

    private SchedAvg[] _seAvg = [];
    private SchedAvg[] _cfsAvg = [];
    private RemovedLoad[] _removed = [];
    private ulong[] _hLoad = [];
    private long[] _lastHLoadUpdate = [];
    private bool[] _hasBlockedLoad = [];
    private long[] _lastBlockedLoadUpdateTick = [];
    private bool _nohzHasBlocked;
    private long _nohzNextBlocked;

    private void InitPelt()
    {
        _cfsAvg = new SchedAvg[_nrCpus];
        _removed = new RemovedLoad[_nrCpus];
        _hLoad = new ulong[_nrCpus];
        _lastHLoadUpdate = new long[_nrCpus];
        Array.Fill(_lastHLoadUpdate, long.MinValue);
        _hasBlockedLoad = new bool[_nrCpus];
        _lastBlockedLoadUpdateTick = new long[_nrCpus];
    }

    private ulong PeltNow => (ulong)_core.NowNs + PeltClockOffset;

    /// <summary>A task's PELT signals (sched_entity.avg) as they were last updated.</summary>
    public SchedAvg TaskAvg(int taskId) => (uint)taskId < (uint)_seAvg.Length ? _seAvg[taskId] : default;

    /// <summary><paramref name="cpu"/>'s cfs_rq PELT signals (cfs_rq.avg) as they were last updated.</summary>
    public SchedAvg CfsAvg(int cpu) => _cfsAvg[cpu];

    /// <summary>cpu_load: the cfs_rq's load_avg.</summary>
    public ulong CpuLoad(int cpu) => _cfsAvg[cpu].LoadAvg;

    /// <summary>cpu_runnable: the cfs_rq's runnable_avg.</summary>
    public ulong CpuRunnable(int cpu) => _cfsAvg[cpu].RunnableAvg;

    /// <summary>cpu_util_cfs: max(util_avg, util_est) capped at the CPU's capacity.</summary>
    public ulong CpuUtilCfs(int cpu) => CpuUtil(cpu, -1, -1, boost: false);

    /// <summary>
    /// cpu_util: <paramref name="cpu"/>'s utilization if task <paramref name="p"/> (−1: none) moved to
    /// <paramref name="dstCpu"/>; with <paramref name="boost"/>, at least its runnable_avg.
    /// </summary>
    private ulong CpuUtil(int cpu, int p, int dstCpu, bool boost)
    {
        bool addTask = p >= 0 && _tasks[p].Cpu != cpu && dstCpu == cpu;
        bool subTask = p >= 0 && _tasks[p].Cpu == cpu && dstCpu != cpu;
        ref readonly var cfs = ref _cfsAvg[cpu];
        ulong util = cfs.UtilAvg;
        if (addTask)
        {
            util += _seAvg[p].UtilAvg;
        }
        else if (subTask)
        {
            util -= Math.Min(util, _seAvg[p].UtilAvg);
        }
        if (boost)
        {
            ulong runnable = cfs.RunnableAvg;
            if (addTask)
            {
                runnable += _seAvg[p].RunnableAvg;
            }
            else if (subTask)
            {
                runnable -= Math.Min(runnable, _seAvg[p].RunnableAvg);
            }
            util = Math.Max(util, runnable);
        }
        if (Features.UtilEst)
        {
            ulong utilEst = cfs.UtilEst;
            if (dstCpu == cpu)
            {
                utilEst += TaskUtilEstRaw(p);
            }
            else if (p >= 0 && (_tasks[p].OnRq == TaskStruct.OnRqQueued || _core.Current(_tasks[p].Cpu) == p))
            {
                utilEst -= Math.Min(utilEst, TaskUtilEstRaw(p));
            }
            util = Math.Max(util, utilEst);
        }
        return Math.Min(util, CapacityScale);
    }

    private ulong TaskUtilEstRaw(int p) => p < 0 ? 0 : _seAvg[p].UtilEst & ~Pelt.UtilAvgUnchanged;

    /// <summary>task_util_est: max(util_avg, util_est).</summary>
    private ulong TaskUtilEst(int p) => Math.Max(_seAvg[p].UtilAvg, TaskUtilEstRaw(p));

    /// <summary>
    /// task_h_load with group scheduling: the task's load_avg × the root cfs_rq's h_load (its load_avg, refreshed at
    /// most once a jiffy, update_cfs_rq_h_load) / (its load_avg + 1).
    /// </summary>
    private ulong TaskHLoad(int p)
    {
        int cpu = _tasks[p].Cpu;
        long jiffies = (long)_core.Jiffies;
        if (_lastHLoadUpdate[cpu] != jiffies)
        {
            _hLoad[cpu] = _cfsAvg[cpu].LoadAvg;
            _lastHLoadUpdate[cpu] = jiffies;
        }
        return _seAvg[p].LoadAvg * _hLoad[cpu] / (_cfsAvg[cpu].LoadAvg + 1);
    }

    /// <summary>init_entity_runnable_average (sched_fork): zeroed, with a task's full weight as its first load.</summary>
    private void InitEntityRunnableAverage(ref TaskStruct p)
    {
        _seAvg[p.Id] = default;
        _seAvg[p.Id].LoadAvg = FairMath.ScaleLoadDown(p.Se.Weight);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// post_init_entity_util_avg (wake_up_new_task, after select_task_rq): a fair task starts with its share of the
    /// CPU's utilization by weight, at most half the spare capacity; a task of another class only dates its average.
    /// </remarks>
    public override void PostInitTask(ref TaskStruct p, bool inClass)
    {
        EnsureTask(p.Id);
        ref var sa = ref _seAvg[p.Id];
        ref var cfs = ref _cfsAvg[p.Cpu];
        if (!inClass)
        {
            sa.LastUpdateTime = PeltNow; // cfs_rq_clock_pelt: switched_to_fair ages it from its fork
            return;
        }
        long cap = ((long)CapacityScale - (long)cfs.UtilAvg) / 2;
        if (cap > 0)
        {
            if (cfs.UtilAvg != 0)
            {
                sa.UtilAvg = cfs.UtilAvg * FairMath.ScaleLoadDown(p.Se.Weight) / (cfs.LoadAvg + 1);
                if (sa.UtilAvg > (ulong)cap)
                {
                    sa.UtilAvg = (ulong)cap;
                }
            }
            else
            {
                sa.UtilAvg = (ulong)cap;
            }
        }
        sa.RunnableAvg = sa.UtilAvg;
    }

    /// <summary>update_load_avg: the entity (unless new or migrated) and its cfs_rq brought to now; attach or detach.</summary>
    private void UpdateLoadAvg(int cpu, int id, LoadAvgFlags flags)
    {
        ulong now = PeltNow;
        ref var sa = ref _seAvg[id];
        if (sa.LastUpdateTime != 0) // SKIP_AGE_LOAD is only asked for without ATTACH_AGE_LOAD, which is on
        {
            UpdateLoadAvgSe(now, cpu, id);
        }
        UpdateCfsRqLoadAvg(now, cpu);
        if (sa.LastUpdateTime == 0 && (flags & LoadAvgFlags.DoAttach) != 0)
        {
            AttachEntityLoadAvg(cpu, id);
        }
        else if ((flags & LoadAvgFlags.DoDetach) != 0)
        {
            DetachEntityLoadAvg(cpu, id);
        }
    }

    /// <summary>__update_load_avg_se: load while on_rq, runnable unless delayed, running while cfs_rq->curr.</summary>
    private void UpdateLoadAvgSe(ulong now, int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        ref var sa = ref _seAvg[id];
        bool onRq = se.OnRq != 0;
        ulong runnable = onRq && se.SchedDelayed == 0 ? 1UL : 0UL;
        if (Pelt.UpdateLoadSum(now, ref sa, onRq ? 1UL : 0UL, runnable, _curr[cpu] == id))
        {
            Pelt.UpdateLoadAvg(ref sa, FairMath.ScaleLoadDown(se.Weight));
            if ((sa.UtilEst & Pelt.UtilAvgUnchanged) != 0)
            {
                sa.UtilEst &= ~Pelt.UtilAvgUnchanged; // cfs_se_util_change
            }
        }
    }

    /// <summary>__update_load_avg_blocked_se: a dequeued entity decays to <paramref name="now"/>.</summary>
    private void UpdateLoadAvgBlockedSe(ulong now, int id)
    {
        ref var sa = ref _seAvg[id];
        if (Pelt.UpdateLoadSum(now, ref sa, 0, 0, false))
        {
            Pelt.UpdateLoadAvg(ref sa, FairMath.ScaleLoadDown(_tasks[id].Se.Weight));
        }
    }

    /// <summary>update_cfs_rq_load_avg: subtract what left since (removed), then the cfs_rq's own update; true = decayed.</summary>
    private bool UpdateCfsRqLoadAvg(ulong now, int cpu)
    {
        ref var sa = ref _cfsAvg[cpu];
        bool decayed = false;
        ref var removed = ref _removed[cpu];
        if (removed.Nr != 0)
        {
            uint divider = Pelt.Divider(in sa);
            ulong load = removed.LoadAvg, util = removed.UtilAvg, runnable = removed.RunnableAvg;
            removed = default;
            SubPositive(ref sa.LoadAvg, load);
            SubPositive(ref sa.LoadSum, load * divider);
            sa.LoadSum = MaxU32(sa.LoadSum, sa.LoadAvg * Pelt.MinDivider);
            SubPositive(ref sa.UtilAvg, util);
            // sub_positive on the u32 util_sum takes the subtrahend as a u32 too
            sa.UtilSum = (uint)MaxU32(SubPositive(sa.UtilSum, (uint)(util * divider)), sa.UtilAvg * Pelt.MinDivider);
            SubPositive(ref sa.RunnableAvg, runnable);
            SubPositive(ref sa.RunnableSum, runnable * divider);
            sa.RunnableSum = MaxU32(sa.RunnableSum, sa.RunnableAvg * Pelt.MinDivider);
            decayed = true;
        }
        ulong runnableNr = (ulong)(_nrRunning[cpu] - _nrDelayed[cpu]);
        if (Pelt.UpdateLoadSum(now, ref sa, FairMath.ScaleLoadDown(_loadWeight[cpu]), runnableNr, _curr[cpu] >= 0))
        {
            Pelt.UpdateLoadAvg(ref sa, 1);
            decayed = true;
        }
        return decayed;
    }

    /// <summary>attach_entity_load_avg: the entity joins the cfs_rq's decay window and its sums.</summary>
    private void AttachEntityLoadAvg(int cpu, int id)
    {
        ref var cfs = ref _cfsAvg[cpu];
        ref var se = ref _seAvg[id];
        uint divider = Pelt.Divider(in cfs);
        se.LastUpdateTime = cfs.LastUpdateTime;
        se.PeriodContrib = cfs.PeriodContrib;
        se.UtilSum = (uint)(se.UtilAvg * divider);
        se.RunnableSum = se.RunnableAvg * divider;
        se.LoadSum = se.LoadAvg * divider;
        ulong w = FairMath.ScaleLoadDown(_tasks[id].Se.Weight);
        se.LoadSum = w < se.LoadSum ? se.LoadSum / w : 1;
        EnqueueLoadAvg(cpu, id);
        cfs.UtilAvg += se.UtilAvg;
        cfs.UtilSum += se.UtilSum;
        cfs.RunnableAvg += se.RunnableAvg;
        cfs.RunnableSum += se.RunnableSum;
    }

    /// <summary>detach_entity_load_avg: the entity's sums leave the cfs_rq's.</summary>
    private void DetachEntityLoadAvg(int cpu, int id)
    {
        ref var cfs = ref _cfsAvg[cpu];
        ref var se = ref _seAvg[id];
        DequeueLoadAvg(cpu, id);
        SubPositive(ref cfs.UtilAvg, se.UtilAvg);
        cfs.UtilSum = (uint)MaxU32(SubPositive(cfs.UtilSum, se.UtilSum), cfs.UtilAvg * Pelt.MinDivider);
        SubPositive(ref cfs.RunnableAvg, se.RunnableAvg);
        SubPositive(ref cfs.RunnableSum, se.RunnableSum);
        cfs.RunnableSum = MaxU32(cfs.RunnableSum, cfs.RunnableAvg * Pelt.MinDivider);
    }

    private void EnqueueLoadAvg(int cpu, int id)
    {
        ref var cfs = ref _cfsAvg[cpu];
        cfs.LoadAvg += _seAvg[id].LoadAvg;
        cfs.LoadSum += FairMath.ScaleLoadDown(_tasks[id].Se.Weight) * _seAvg[id].LoadSum;
    }

    private void DequeueLoadAvg(int cpu, int id)
    {
        ref var cfs = ref _cfsAvg[cpu];
        SubPositive(ref cfs.LoadAvg, _seAvg[id].LoadAvg);
        SubPositive(ref cfs.LoadSum, FairMath.ScaleLoadDown(_tasks[id].Se.Weight) * _seAvg[id].LoadSum);
        cfs.LoadSum = MaxU32(cfs.LoadSum, cfs.LoadAvg * Pelt.MinDivider);
    }

    // sub_positive: an unsigned subtraction that stops at 0.
    private static void SubPositive(ref ulong value, ulong sub) => value = value > sub ? value - sub : 0;

    private static ulong SubPositive(ulong value, ulong sub) => value > sub ? value - sub : 0;

    // max_t(u32, a, b): the kernel compares (and keeps) both as 32-bit values, truncating a larger sum.
    private static ulong MaxU32(ulong a, ulong b) => Math.Max((uint)a, (uint)b);

    /// <summary>sync_entity_load_avg: decay a dequeued entity to its cfs_rq's last update.</summary>
    private void SyncEntityLoadAvg(int id) => UpdateLoadAvgBlockedSe(_cfsAvg[_tasks[id].Cpu].LastUpdateTime, id);

    /// <summary>remove_entity_load_avg: catch up with the cfs_rq, then leave its sums at its next update.</summary>
    private void RemoveEntityLoadAvg(int id)
    {
        int cpu = _tasks[id].Cpu;
        SyncEntityLoadAvg(id);
        ref var removed = ref _removed[cpu];
        ref var sa = ref _seAvg[id];
        removed.Nr++;
        removed.UtilAvg += sa.UtilAvg;
        removed.LoadAvg += sa.LoadAvg;
        removed.RunnableAvg += sa.RunnableAvg;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// migrate_task_rq_fair: a waking task (not a balancer's migration, whose dequeue detached it) leaves its old
    /// cfs_rq's sums; from an idle CPU it first decays to now (migrate_se_pelt_lag, whose estimate of now is exact
    /// here: the idle rq's clock and PELT clock are one); either way it attaches again at its next enqueue.
    /// </remarks>
    public override void MigrateTaskRq(ref TaskStruct p, int newCpu)
    {
        EnsureTask(p.Id);
        if (p.OnRq != TaskStruct.OnRqMigrating)
        {
            RemoveEntityLoadAvg(p.Id);
            ref var sa = ref _seAvg[p.Id];
            bool decayed = sa.LoadSum == 0 && sa.UtilSum == 0 && sa.RunnableSum == 0;
            if (!decayed && _core.Current(p.Cpu) < 0)
            {
                UpdateLoadAvgBlockedSe(Math.Max(PeltNow, _cfsAvg[p.Cpu].LastUpdateTime), p.Id);
            }
        }
        _seAvg[p.Id].LastUpdateTime = 0;
    }

    /// <summary>detach_entity_cfs_rq (switched_from_fair): an attached task leaves with its load caught up.</summary>
    private void DetachEntityCfsRq(int id)
    {
        if (_seAvg[id].LastUpdateTime == 0)
        {
            return;
        }
        int cpu = _tasks[id].Cpu;
        UpdateLoadAvg(cpu, id, LoadAvgFlags.None);
        DetachEntityLoadAvg(cpu, id);
    }

    /// <summary>attach_entity_cfs_rq (switched_to_fair): aged to now (ATTACH_AGE_LOAD), then attached.</summary>
    private void AttachEntityCfsRq(int id)
    {
        int cpu = _tasks[id].Cpu;
        UpdateLoadAvg(cpu, id, LoadAvgFlags.None);
        AttachEntityLoadAvg(cpu, id);
    }

    /// <summary>util_est_enqueue: the task's estimate joins the root cfs_rq's.</summary>
    private void UtilEstEnqueue(int cpu, int id)
    {
        if (Features.UtilEst)
        {
            _cfsAvg[cpu].UtilEst += (uint)TaskUtilEstRaw(id);
        }
    }

    /// <summary>util_est_dequeue: the task's estimate leaves the root cfs_rq's.</summary>
    private void UtilEstDequeue(int cpu, int id)
    {
        if (Features.UtilEst)
        {
            uint enqueued = _cfsAvg[cpu].UtilEst;
            _cfsAvg[cpu].UtilEst = enqueued - Math.Min(enqueued, (uint)TaskUtilEstRaw(id));
        }
    }

    /// <summary>
    /// util_est_update: at a sleep, the estimate follows util_avg up at once and down by an EWMA of weight 1/4, skipping
    /// moves under 1 % and samples taken without idle time or while the task waited more than it ran.
    /// </summary>
    private void UtilEstUpdate(int id, bool taskSleep)
    {
        if (!Features.UtilEst || !taskSleep)
        {
            return;
        }
        ref var sa = ref _seAvg[id];
        uint ewma = sa.UtilEst;
        if ((ewma & Pelt.UtilAvgUnchanged) != 0)
        {
            return;
        }
        uint dequeued = (uint)sa.UtilAvg;
        if (ewma <= dequeued)
        {
            ewma = dequeued;
        }
        else
        {
            uint lastEwmaDiff = ewma - dequeued;
            if (lastEwmaDiff >= UtilEstMargin)
            {
                if (dequeued > CapacityScale)
                {
                    return;
                }
                if (dequeued + UtilEstMargin >= sa.RunnableAvg)
                {
                    ewma <<= UtilEstWeightShift;
                    ewma -= lastEwmaDiff;
                    ewma >>= UtilEstWeightShift;
                }
            }
        }
        sa.UtilEst = ewma | Pelt.UtilAvgUnchanged;
    }

    /// <summary>
    /// sched_balance_update_blocked_averages: an rq's cfs_rq decayed to now (blocked load of sleepers included); the
    /// rq keeps has_blocked_load while anything is left to decay.
    /// </summary>
    private void UpdateBlockedAverages(int cpu)
    {
        _lastBlockedLoadUpdateTick[cpu] = (long)_core.Jiffies;
        UpdateCfsRqLoadAvg(PeltNow, cpu);
        _hasBlockedLoad[cpu] = _cfsAvg[cpu].LoadAvg != 0 || _cfsAvg[cpu].UtilAvg != 0; // cfs_rq_has_blocked
    }

    /// <summary>
    /// nohz_balance_enter_idle's bookkeeping: a CPU going idle may hold blocked load, so the idle-load updates
    /// (NOHZ_STATS_KICK) are on again.
    /// </summary>
    private void NohzEnterIdle(int cpu)
    {
        _hasBlockedLoad[cpu] = true;
        _nohzHasBlocked = true;
    }

    /// <summary>update_nohz_stats: an idle CPU's blocked load decayed, at most once a jiffy; true while some is left.</summary>
    private bool UpdateNohzStats(int cpu)
    {
        if (!_hasBlockedLoad[cpu])
        {
            return false;
        }
        if ((long)_core.Jiffies <= _lastBlockedLoadUpdateTick[cpu])
        {
            return true;
        }
        UpdateBlockedAverages(cpu);
        return _hasBlockedLoad[cpu];
    }
}
