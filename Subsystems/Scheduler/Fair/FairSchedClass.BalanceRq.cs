using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

// sched_balance_rq (kernel/sched/fair.c, 6.12) for one of bpfsim's two domain levels: the node (an LLC / MC domain whose
// groups are its CPUs) and, with several nodes, the machine (a NUMA domain whose groups are the nodes). As the kernel:
// should_we_balance; update_sd_lb_stats with group_classify (has_spare / fully_busy / overloaded) and
// update_sd_pick_busiest; sched_balance_find_src_group's decision matrix and calculate_imbalance (migrate_task by
// sibling_imbalance or idle CPUs, migrate_util across nodes, migrate_load by avg_load); sched_balance_find_src_rq;
// detach_tasks from the cold end of cfs_tasks with shr_bound by nr_balance_failed, task_hot against cache_nice_tries,
// skipped tasks moved to the list's head, CONFIG_PREEMPTION's one task per newidle pull; the redo without an
// all-pinned busiest CPU; LBF_DST_PINNED (across nodes, a periodic balance sends tasks pinned away from the balancing
// CPU to the first CPU of its node they may run on); nr_balance_failed and the balance_interval doubling; active
// balancing of the imbalanced kind (the busiest CPU's stopper pushes a task, the running one included, after
// cache_nice_tries + 2 failures to move tasks). Loads, utilizations and runnable figures are PELT's
// (FairSchedClass.Pelt.cs): cpu_load, cpu_util_cfs, cpu_runnable, task_h_load and task_util_est, as stale as the
// kernel's between their updates. group_imbalanced: a node-level balance left imbalanced by affinity
// (LBF_SOME_PINNED) flags its node for the machine level, which then moves one task (force_balance). Not modelled:
// SMT cores as MC groups, misfit and asym groups and their active balances.
public sealed partial class FairSchedClass
{
    private const ulong CapacityScale = 1024; // SCHED_CAPACITY_SCALE
    private const int NumaImbalanceMin = 2;
    private const long MigrationCostNs = 500_000; // sysctl_sched_migration_cost
    private const long MaxPinnedInterval = 512;

    private int[] _nrBalanceFailed = []; // sd->nr_balance_failed, [level * nrCpus + cpu]
    private long[] _balanceIntervalMs = []; // sd->balance_interval

    // sgc->imbalance of each node's group at the machine level: a balance inside the node left imbalance behind because
    // tasks were pinned away from the CPU that pulled (LBF_SOME_PINNED); the machine level then sees the node as
    // group_imbalanced and moves one of its tasks elsewhere.
    private bool[] _groupImbalance = [];

    /// <summary>
    /// sched_balance_rq: pull towards <paramref name="dst"/> at <paramref name="level"/>; returns the tasks moved.
    /// <paramref name="continueBalancing"/> turns false when this CPU is not the one to balance its group.
    /// </summary>
    private int BalanceRq(int dst, int level, bool idle, bool newidle, ref bool continueBalancing)
    {
        int sd = level * _nrCpus + dst;
        if (!ShouldWeBalance(dst, level, newidle))
        {
            continueBalancing = false;
            return Balanced(dst, level, newidle, allPinned: false);
        }
        Cpumask span = DomainCpus(dst, level);
        Cpumask cpus = span;
        bool pinned = false; // LBF_ALL_PINNED survives a redo
        bool somePinned = false; // and so does LBF_SOME_PINNED
        while (true)
        {
            if (!FindSrcGroup(dst, level, idle, in span, in cpus, out var busiest, out long imbalance, out var type))
            {
                return Balanced(dst, level, newidle, pinned);
            }
            int src = FindSrcRq(level, busiest.Id, in cpus, type, imbalance);
            if (src < 0)
            {
                return Balanced(dst, level, newidle, pinned);
            }
            int moved = 0;
            if (_core.NrRunning(src) > 1)
            {
                pinned = true;
                int loopMax = Math.Min(SchedNrMigrate, _core.NrRunning(src));
                int target = dst;
                while (true)
                {
                    moved += DetachAttach(src, target, sd, level, idle, newidle, type, loopMax, in cpus, ref imbalance,
                        ref pinned, ref somePinned, out int newDst);
                    if (newDst < 0 || imbalance <= 0)
                    {
                        break;
                    }
                    // LBF_DST_PINNED: the same source again, towards the CPU of dst's group the pinned tasks may run
                    // on, with dst out of the domain's CPUs so that it is not chosen again.
                    cpus.Clear(target);
                    target = newDst;
                }
                if (level == 0 && _levels > 1 && somePinned && imbalance > 0)
                {
                    _groupImbalance[_core.Topology.NodeOf(dst)] = true; // "we failed to reach balance because of affinity"
                }
                if (pinned)
                {
                    // Every task there is pinned away from dst: try the domain without that CPU, unless only dst's
                    // group would be left.
                    cpus.Clear(src);
                    Cpumask others = cpus;
                    others.Clear(dst);
                    if (level == 1)
                    {
                        ref readonly var localNode = ref _core.Topology.NodeMask(_core.Topology.NodeOf(dst));
                        for (int c = localNode.NextFrom(0); c >= 0; c = localNode.NextFrom(c + 1))
                        {
                            others.Clear(c);
                        }
                    }
                    if (!others.IsEmpty)
                    {
                        continue;
                    }
                    return Balanced(dst, level, newidle, allPinned: true);
                }
            }
            if (moved == 0)
            {
                if (!newidle)
                {
                    _nrBalanceFailed[sd]++;
                }
                // need_active_balance (imbalanced_active_balance): tasks are to move, but none could be detached more
                // than cache_nice_tries + 2 times: the stopper of src pushes one, the running one included, to dst.
                if (type == LbMigrationType.Task && _nrBalanceFailed[sd] > CacheNiceTries(level) + 2)
                {
                    int curr = _core.Current(src);
                    if (curr < 0 || !_tasks[curr].CpusMask.Test(dst))
                    {
                        // out_one_pinned; LBF_ALL_PINNED is still set when no task was looked at or all were pinned.
                        return Balanced(dst, level, newidle, allPinned: pinned || _core.NrRunning(src) <= 1, resetFailed: false);
                    }
                    _core.StopOneCpu(src, this, dst);
                }
            }
            else
            {
                _nrBalanceFailed[sd] = 0;
            }
            _balanceIntervalMs[sd] = SpanWeight(level); // unbalanced: back to min_interval
            return moved;
        }
    }

    /// <summary>
    /// out_balanced / out_all_pinned (the failures forgotten) and out_one_pinned: a periodic balance backs off (× 2 up to
    /// max_interval, or to 512 ms when everything was pinned). Balance reached at the node level with some task free to
    /// move (out_balanced without LBF_ALL_PINNED) clears the node's group_imbalanced flag.
    /// </summary>
    private int Balanced(int dst, int level, bool newidle, bool allPinned, bool resetFailed = true)
    {
        int sd = level * _nrCpus + dst;
        if (resetFailed)
        {
            _nrBalanceFailed[sd] = 0;
            if (level == 0 && _levels > 1 && !allPinned)
            {
                _groupImbalance[_core.Topology.NodeOf(dst)] = false;
            }
        }
        if (newidle)
        {
            return 0;
        }
        ref long interval = ref _balanceIntervalMs[sd];
        if ((allPinned && interval < MaxPinnedInterval) || interval < 2L * SpanWeight(level))
        {
            interval *= 2;
        }
        return 0;
    }

    /// <summary>The domain's active CPUs: dst's node, or the machine.</summary>
    private Cpumask DomainCpus(int dst, int level)
    {
        var cpus = new Cpumask();
        var topo = _core.Topology;
        for (int c = 0; c < _nrCpus; c++)
        {
            if (_core.CpuActive(c) && (level == 1 || topo.NodeOf(c) == topo.NodeOf(dst)))
            {
                cpus.Set(c);
            }
        }
        return cpus;
    }

    /// <summary>
    /// should_we_balance: a newidle pull always (unless work arrived); at the node level each CPU is its own group;
    /// at the machine level only the node's first idle CPU — on an idle core first, with SMT — else its first CPU.
    /// </summary>
    private bool ShouldWeBalance(int dst, int level, bool newidle)
    {
        if (!_core.CpuActive(dst))
        {
            return false;
        }
        if (newidle)
        {
            return RqRunnable(dst) == 0;
        }
        if (level == 0)
        {
            return true;
        }
        var topo = _core.Topology;
        ref readonly var node = ref topo.NodeMask(topo.NodeOf(dst));
        int idleSmt = -1, first = -1;
        for (int c = node.NextFrom(0); c >= 0; c = node.NextFrom(c + 1))
        {
            if (!_core.CpuActive(c))
            {
                continue;
            }
            first = first < 0 ? c : first;
            if (!IdleCpu(c))
            {
                continue;
            }
            if (topo.Smt && !CoreIdle(c))
            {
                idleSmt = idleSmt < 0 ? c : idleSmt;
                continue;
            }
            return c == dst;
        }
        return idleSmt >= 0 ? idleSmt == dst : first == dst;
    }

    /// <summary>
    /// sched_balance_find_src_group: the groups' statistics from dst's group around (update_sd_lb_stats), the busiest
    /// group, the decision matrix and the imbalance. False when the domain is balanced for dst.
    /// </summary>
    private bool FindSrcGroup(int dst, int level, bool idle, in Cpumask span, in Cpumask cpus, out LbGroupStats busiest,
        out long imbalance, out LbMigrationType type)
    {
        var topo = _core.Topology;
        int groups = level == 0 ? _nrCpus : topo.NodeCount;
        int localId = level == 0 ? dst : topo.NodeOf(dst);
        LbGroupStats local = default;
        busiest = new LbGroupStats { Id = -1, Type = LbGroupType.HasSpare, IdleCpus = int.MaxValue };
        ulong totalLoad = 0, totalCapacity = 0;
        bool overloaded = false;
        for (int i = 0; i < groups; i++)
        {
            int g = localId + i < groups ? localId + i : localId + i - groups;
            if (level == 0 && !span.Test(g))
            {
                continue;
            }
            var s = GroupStats(level, g, in span, in cpus);
            if (s.Weight == 0)
            {
                continue;
            }
            if (g == localId)
            {
                local = s;
            }
            else if (PickBusiest(in s, in busiest))
            {
                busiest = s;
            }
            totalLoad += s.Load;
            totalCapacity += s.Capacity;
            overloaded |= s.RqOverloaded;
        }
        if (level == _levels - 1)
        {
            _core.RdOverloaded = overloaded; // update_sd_lb_stats at the root domain
        }
        imbalance = 0;
        type = LbMigrationType.Task;
        if (busiest.Id < 0 || local.Weight == 0)
        {
            return false;
        }
        if (busiest.Type == LbGroupType.Imbalanced)
        {
            // Its own balance failed for affinity, so its averages say nothing: move any one task; the next balance
            // evens out again (force_balance, calculate_imbalance's group_imbalanced case).
            imbalance = 1;
            return true;
        }
        if (local.Type > busiest.Type)
        {
            return false;
        }
        ulong sdsAvgLoad = totalLoad * CapacityScale / totalCapacity;
        if (local.Type == LbGroupType.Overloaded
            && (local.AvgLoad >= busiest.AvgLoad || local.AvgLoad >= sdsAvgLoad
                || 100 * busiest.AvgLoad <= ImbalancePct * local.AvgLoad))
        {
            return false;
        }
        bool preferSibling = level == 1; // the groups' child domain is the node's MC domain, with SD_PREFER_SIBLING
        bool force = preferSibling && local.Type == LbGroupType.HasSpare && SiblingImbalance(idle, in busiest, in local) > 1;
        if (!force && busiest.Type != LbGroupType.Overloaded)
        {
            if (!idle || (busiest.Weight > 1 && local.IdleCpus <= busiest.IdleCpus + 1) || busiest.HNrRunning == 1)
            {
                return false;
            }
        }
        imbalance = CalculateImbalance(level, idle, preferSibling, ref local, in busiest, sdsAvgLoad, out type);
        return imbalance != 0;
    }

    /// <summary>
    /// update_sg_lb_stats + group_classify for one group: its shape (CPUs, capacity, cores) from the domain's span, its
    /// sums from the CPUs still in the balance (a redo leaves out an all-pinned CPU).
    /// </summary>
    private LbGroupStats GroupStats(int level, int g, in Cpumask span, in Cpumask cpus)
    {
        var s = new LbGroupStats { Id = g };
        var topo = _core.Topology;
        if (level == 0)
        {
            s.Weight = s.Cores = 1;
            if (cpus.Test(g))
            {
                AddCpu(ref s, g);
            }
        }
        else
        {
            ref readonly var node = ref topo.NodeMask(g);
            for (int c = node.NextFrom(0); c >= 0; c = node.NextFrom(c + 1))
            {
                if (!span.Test(c))
                {
                    continue;
                }
                s.Weight++;
                if (!topo.Smt || topo.SmtMask(c).First == c)
                {
                    s.Cores++;
                }
                if (cpus.Test(c))
                {
                    AddCpu(ref s, c);
                }
            }
        }
        s.Capacity = (ulong)s.Weight * CapacityScale;
        s.Type = Classify(in s);
        if (level == 1 && s.Type != LbGroupType.Overloaded && _groupImbalance[g])
        {
            s.Type = LbGroupType.Imbalanced; // group_classify: sg_imbalanced ranks below overloaded only
        }
        if (s.Type == LbGroupType.Overloaded)
        {
            s.AvgLoad = s.Load * CapacityScale / s.Capacity;
        }
        return s;
    }

    private void AddCpu(ref LbGroupStats s, int c)
    {
        int h = _nrRunning[c] - _nrDelayed[c];
        int nr = RqRunnable(c);
        s.Load += CpuLoad(c);
        s.Util += CpuUtilCfs(c);
        s.Runnable += CpuRunnable(c);
        s.HNrRunning += h;
        s.NrRunning += nr;
        s.RqOverloaded |= _core.NrRunning(c) > 1; // rq->nr_running: every class, delayed sleepers included
        if (nr == 0 && IdleCpu(c))
        {
            s.IdleCpus++;
        }
    }

    /// <summary>group_is_overloaded / group_has_capacity with imbalance_pct 117.</summary>
    private static LbGroupType Classify(in LbGroupStats s)
    {
        if (s.NrRunning > s.Weight
            && (s.Capacity * 100 < s.Util * ImbalancePct || s.Capacity * ImbalancePct < s.Runnable * 100))
        {
            return LbGroupType.Overloaded;
        }
        if (s.NrRunning < s.Weight)
        {
            return LbGroupType.HasSpare;
        }
        if (s.Capacity * ImbalancePct < s.Runnable * 100)
        {
            return LbGroupType.FullyBusy;
        }
        return s.Capacity * 100 > s.Util * ImbalancePct ? LbGroupType.HasSpare : LbGroupType.FullyBusy;
    }

    /// <summary>
    /// update_sd_pick_busiest: a group with fair tasks; the busier type; among overloaded ones the highest avg_load;
    /// among fully busy ones the last (their avg_load is not computed); among those with spare capacity the fewest
    /// idle CPUs, then the most tasks.
    /// </summary>
    private static bool PickBusiest(in LbGroupStats s, in LbGroupStats busiest)
    {
        if (s.HNrRunning == 0)
        {
            return false;
        }
        if (s.Type != busiest.Type)
        {
            return s.Type > busiest.Type;
        }
        return s.Type switch
        {
            LbGroupType.Overloaded => s.AvgLoad > busiest.AvgLoad,
            LbGroupType.Imbalanced => false, // the first one
            LbGroupType.FullyBusy => true,
            _ => s.IdleCpus < busiest.IdleCpus || (s.IdleCpus == busiest.IdleCpus && s.NrRunning > busiest.NrRunning),
        };
    }

    /// <summary>sibling_imbalance: even out tasks per core between the two groups (only for an idle dst).</summary>
    private static long SiblingImbalance(bool idle, in LbGroupStats busiest, in LbGroupStats local)
    {
        if (!idle || busiest.NrRunning == 0)
        {
            return 0;
        }
        if (busiest.Cores == local.Cores)
        {
            return Math.Max(0, busiest.NrRunning - local.NrRunning);
        }
        long imbalance = Math.Max(0L, (long)local.Cores * busiest.NrRunning - (long)busiest.Cores * local.NrRunning);
        imbalance = (2 * imbalance + local.Cores + busiest.Cores) / (local.Cores + busiest.Cores);
        if (imbalance <= 1 && local.NrRunning == 0 && busiest.NrRunning > 1)
        {
            imbalance = 2;
        }
        return imbalance;
    }

    /// <summary>calculate_imbalance for the has_spare / fully_busy / overloaded cases.</summary>
    private long CalculateImbalance(int level, bool idle, bool preferSibling, ref LbGroupStats local, in LbGroupStats busiest,
        ulong sdsAvgLoad, out LbMigrationType type)
    {
        if (local.Type == LbGroupType.HasSpare)
        {
            if (busiest.Type > LbGroupType.FullyBusy && level == 1) // not an SD_SHARE_LLC domain
            {
                type = LbMigrationType.Util;
                long spare = (long)(Math.Max(local.Capacity, local.Util) - local.Util);
                if (idle && spare == 0)
                {
                    type = LbMigrationType.Task;
                    return 1;
                }
                return spare;
            }
            type = LbMigrationType.Task;
            long imbalance = busiest.Weight == 1 || preferSibling
                ? SiblingImbalance(idle, in busiest, in local)
                : Math.Max(0, local.IdleCpus - busiest.IdleCpus);
            if (level == 1)
            {
                imbalance = AdjustNumaImbalance(imbalance, local.NrRunning + 1, ImbNumaNr);
            }
            return imbalance >> 1;
        }
        type = LbMigrationType.Load;
        if (local.Type < LbGroupType.Overloaded)
        {
            local.AvgLoad = local.Load * CapacityScale / local.Capacity;
            if (local.AvgLoad >= busiest.AvgLoad || local.AvgLoad >= sdsAvgLoad)
            {
                return 0;
            }
        }
        // Unsigned as in the kernel: a busiest group below the domain's average wraps and the min takes the other side.
        ulong fromBusiest = unchecked((busiest.AvgLoad - sdsAvgLoad) * busiest.Capacity);
        ulong toLocal = unchecked((sdsAvgLoad - local.AvgLoad) * local.Capacity);
        return (long)(Math.Min(fromBusiest, toLocal) / CapacityScale);
    }

    /// <summary>
    /// sd->imb_numa_nr of the machine level (build_sched_domains, topology.c): worked out on the PKG domain between MC
    /// and NUMA, whose span is the node, so one LLC per PKG: an eighth of the node's CPUs, at least 1.
    /// </summary>
    private int ImbNumaNr => Math.Max(1, _core.Topology.NodeMask(0).Weight >> 3);

    /// <summary>adjust_numa_imbalance: a small imbalance is allowed while dst's node runs no more than imb_numa_nr tasks.</summary>
    private static long AdjustNumaImbalance(long imbalance, int dstRunning, int imbNumaNr)
    {
        if (dstRunning > imbNumaNr)
        {
            return imbalance;
        }
        return imbalance <= NumaImbalanceMin ? 0 : imbalance;
    }

    /// <summary>sched_balance_find_src_rq: the busiest group's CPU to pull from (at the node level the group is the CPU).</summary>
    private int FindSrcRq(int level, int group, in Cpumask cpus, LbMigrationType type, long imbalance)
    {
        int busiest = -1;
        ulong busiestLoad = 0;
        int busiestNr = 0;
        ulong busiestUtil = 0;
        if (level == 0)
        {
            return SrcRqCandidate(group, type, imbalance) ? group : -1;
        }
        ref readonly var node = ref _core.Topology.NodeMask(group);
        for (int c = node.NextFrom(0); c >= 0; c = node.NextFrom(c + 1))
        {
            if (!cpus.Test(c) || !SrcRqCandidate(c, type, imbalance))
            {
                continue;
            }
            int h = _nrRunning[c] - _nrDelayed[c];
            switch (type)
            {
                case LbMigrationType.Load:
                    ulong load = CpuLoad(c);
                    if (load > busiestLoad)
                    {
                        busiestLoad = load;
                        busiest = c;
                    }
                    break;
                case LbMigrationType.Util:
                    ulong util = CpuUtil(c, -1, -1, boost: true); // cpu_util_cfs_boost
                    if (busiestUtil < util)
                    {
                        busiestUtil = util;
                        busiest = c;
                    }
                    break;
                default:
                    if (busiestNr < h)
                    {
                        busiestNr = h;
                        busiest = c;
                    }
                    break;
            }
        }
        return busiest;
    }

    private bool SrcRqCandidate(int c, LbMigrationType type, long imbalance)
    {
        int h = _nrRunning[c] - _nrDelayed[c];
        return h != 0 && type switch
        {
            LbMigrationType.Load => h != 1 || (long)CpuLoad(c) <= imbalance,
            LbMigrationType.Util => h > 1,
            _ => true,
        };
    }

    /// <summary>
    /// detach_tasks + attach_tasks: take the tail of <paramref name="src"/>'s cfs_tasks, at most min(32, nr_running)
    /// looked at, until the imbalance is met; a task that may not move goes to the list's head. Moved tasks are attached
    /// to <paramref name="dst"/> in the kernel's order (the last detached first).
    /// </summary>
    private int DetachAttach(int src, int dst, int sd, int level, bool idle, bool newidle, LbMigrationType type,
        int loopMax, in Cpumask cpus, ref long imbalance, ref bool allPinned, ref bool somePinned, out int newDst)
    {
        newDst = -1;
        int failed = _nrBalanceFailed[sd];
        Span<int> detached = stackalloc int[SchedNrMigrate];
        int moved = 0;
        for (int loop = 1; loop <= loopMax && imbalance > 0; loop++)
        {
            if (idle && RqRunnable(src) <= 1)
            {
                break; // leave the source something to run
            }
            int id = _listTail[src];
            if (id < 0)
            {
                break;
            }
            bool take = CanMigrate(src, dst, id, level, failed, ref allPinned);
            if (!take && !_tasks[id].CpusMask.Test(dst))
            {
                somePinned = true; // LBF_SOME_PINNED
                if (newDst < 0 && !newidle && level == 1)
                {
                    newDst = OtherDstInGroup(dst, id, in cpus);
                }
            }
            if (take)
            {
                long cost = type switch
                {
                    LbMigrationType.Load => Math.Max(1L, (long)TaskHLoad(id)),
                    LbMigrationType.Util => (long)TaskUtilEst(id),
                    _ => 1,
                };
                take = type == LbMigrationType.Task || ShrBound(cost, failed) <= imbalance;
                imbalance -= take ? cost : 0;
            }
            if (!take)
            {
                ListDel(id);
                ListAdd(src, id);
                continue;
            }
            ref var p = ref _tasks[id];
            _core.DeactivateTask(src, ref p, DequeueFlags.Migrating);
            _core.SetTaskCpu(ref p, dst);
            detached[moved++] = id;
            if (newidle)
            {
                break; // CONFIG_PREEMPTION: a newidle pull stops at its first task
            }
        }
        for (int i = moved - 1; i >= 0; i--)
        {
            ref var p = ref _tasks[detached[i]];
            _core.ActivateTask(dst, ref p, EnqueueFlags.Migrating | EnqueueFlags.Migrated);
            if (!newidle)
            {
                PreemptAfterAttach(dst, ref p); // a newidle pull is picked by the schedule() that asked
            }
        }
        Migrations += moved;
        return moved;
    }

    private static long ShrBound(long value, int shift) => value >> Math.Min(shift, 63);

    /// <summary>
    /// can_migrate_task's new_dst_cpu: the first CPU of dst's group (at the machine level, dst's node) still among the
    /// balance's CPUs that task <paramref name="id"/> may run on, or −1. The node level's groups are single CPUs, so
    /// there it has none.
    /// </summary>
    private int OtherDstInGroup(int dst, int id, in Cpumask cpus)
    {
        ref readonly var node = ref _core.Topology.NodeMask(_core.Topology.NodeOf(dst));
        ref readonly var allowed = ref _tasks[id].CpusMask;
        for (int c = node.NextFrom(0); c >= 0; c = node.NextFrom(c + 1))
        {
            if (cpus.Test(c) && allowed.Test(c))
            {
                return c;
            }
        }
        return -1;
    }

    /// <summary>
    /// can_migrate_task: allowed on dst (else pinned), not running, not delayed (bpfsim's rule), and not cache hot
    /// unless the domain has failed more than cache_nice_tries times (1 for the node, 2 across nodes).
    /// </summary>
    private bool CanMigrate(int src, int dst, int id, int level, int failed, ref bool allPinned)
    {
        ref var p = ref _tasks[id];
        if (!p.CpusMask.Test(dst))
        {
            return false;
        }
        allPinned = false;
        if (_curr[src] == id || _core.Current(src) == id || p.Se.SchedDelayed != 0)
        {
            return false;
        }
        return !TaskHot(ref p) || failed > CacheNiceTries(level);
    }

    /// <summary>sd->cache_nice_tries: 1 for an LLC domain, 2 for a NUMA one (sd_init, topology.c).</summary>
    private static int CacheNiceTries(int level) => level == 0 ? 1 : 2;

    /// <summary>
    /// active_load_balance_cpu_stop, run by <paramref name="busiest"/>'s stopper: with the preempted task back on the
    /// runqueue, detach_one_task moves the first task from the cold end that may run on <paramref name="target"/>
    /// (LBF_ACTIVE_LB: cache-hot tasks too; delayed ones stay, bpfsim's rule) and resets the domain's failures.
    /// </summary>
    public override void CpuStopWork(int busiest, int target)
    {
        if (!_core.CpuActive(busiest) || !_core.CpuActive(target) || RqRunnable(busiest) < 1)
        {
            return; // the stopper itself counts in rq->nr_running: nothing but it there
        }
        int level = SameLlc(busiest, target) ? 0 : 1;
        if (level >= _levels)
        {
            return;
        }
        for (int id = _listTail[busiest]; id >= 0; id = _ft[id].ListPrev)
        {
            ref var p = ref _tasks[id];
            if (!p.CpusMask.Test(target) || _core.Current(busiest) == id || p.Se.SchedDelayed != 0)
            {
                continue;
            }
            _core.DeactivateTask(busiest, ref p, DequeueFlags.Migrating);
            _core.SetTaskCpu(ref p, target);
            _core.ActivateTask(target, ref p, EnqueueFlags.Migrating | EnqueueFlags.Migrated);
            PreemptAfterAttach(target, ref p);
            Migrations++;
            _nrBalanceFailed[level * _nrCpus + target] = 0;
            return;
        }
    }

    /// <summary>
    /// task_hot: it ran on its CPU within sysctl_sched_migration_cost (500 µs); SCHED_IDLE tasks never are. An
    /// exec_start of 0 (never ran, or just migrated) is cold: the kernel's clock is far past 500 µs by then, where the
    /// simulation's starts at 0.
    /// </summary>
    private bool TaskHot(ref TaskStruct p)
    {
        if (p.Policy == (uint)SchedPolicy.Idle || p.Se.ExecStart == 0)
        {
            return false;
        }
        return _core.NowNs - (long)p.Se.ExecStart < MigrationCostNs;
    }

    /// <summary>attach_task's wakeup_preempt: an idle destination wakes; fair over fair by EEVDF; fair preempts a lower class.</summary>
    private void PreemptAfterAttach(int dst, ref TaskStruct p)
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
