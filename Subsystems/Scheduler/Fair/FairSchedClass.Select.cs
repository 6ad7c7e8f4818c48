using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

// select_task_rq_fair (kernel/sched/fair.c), simplified. What is kept: WF_CURRENT_CPU; wake-affine toward the waker's
// CPU (wake_affine_idle: an idle waker CPU sharing the node, or a WF_SYNC waker alone on its rq; then
// wake_affine_weight with WA_BIAS on instantaneous loads); select_idle_sibling's order — target idle, prev idle in the
// same LLC, an idle SMT sibling of prev when the LLC has no idle core, an idle core then an idle CPU in target's LLC,
// else target; for WF_FORK / WF_EXEC the slow path's idlest CPU (idle first, prev's node first, else the least loaded).
// What is left out, and why: energy-aware placement (no asymmetric capacities), wake_wide (no wakee-flip history),
// recent_used_cpu and SIS_UTIL's scan limit (the scan is O(CPUs in the node) anyway). Loads are PELT's. The LLC is
// the NUMA node: bpfsim's topology has no separate cache domain. Affinity always holds.
public sealed partial class FairSchedClass
{
    /// <summary>select_task_rq_fair (simplified; see the comment at the top of this file and docs/scheduler.md).</summary>
    public override int SelectTaskRq(ref TaskStruct p, int prevCpu, WakeFlags flags)
    {
        ref readonly Cpumask allowed = ref p.CpusMask;
        if ((uint)prevCpu >= (uint)_nrCpus)
        {
            prevCpu = Math.Max(allowed.First, 0);
        }
        if ((flags & (WakeFlags.Fork | WakeFlags.Exec)) != 0)
        {
            return FindIdlestCpu(in allowed, prevCpu);
        }
        int thisCpu = _core.ThisCpu;
        bool thisOk = (uint)thisCpu < (uint)_nrCpus && allowed.Test(thisCpu);
        if ((flags & WakeFlags.Ttwu) != 0 && (flags & WakeFlags.CurrentCpu) != 0 && thisOk)
        {
            return thisCpu;
        }
        int target = prevCpu;
        if (thisOk && thisCpu != prevCpu)
        {
            target = WakeAffine(thisCpu, prevCpu, p.Id, (flags & WakeFlags.Sync) != 0);
        }
        int cpu = SelectIdleSibling(in allowed, prevCpu, target);
        return allowed.Test(cpu) ? cpu : FindIdlestCpu(in allowed, cpu);
    }

    /// <summary>
    /// available_idle_cpu: the idle task runs and nothing is queued. An inactive (offline) CPU is outside every sched
    /// domain's span, so it is never counted idle here (see FairSchedClass.Hotplug.cs).
    /// </summary>
    private bool IdleCpu(int cpu) => _core.Current(cpu) < 0 && _core.NrRunning(cpu) == 0 && _core.CpuActive(cpu);

    /// <summary>rq->nr_running − cfs_h_nr_delayed(rq): the rq's tasks that are really runnable.</summary>
    private int RqRunnable(int cpu) => _core.NrRunning(cpu) - _nrDelayed[cpu];

    private bool SameLlc(int a, int b) => _core.Topology.NodeOf(a) == _core.Topology.NodeOf(b);

    /// <summary>wake_affine (fair.c): wake_affine_idle, then wake_affine_weight.</summary>
    private int WakeAffine(int thisCpu, int prevCpu, int p, bool sync)
    {
        if (IdleCpu(thisCpu) && SameLlc(thisCpu, prevCpu))
        {
            return IdleCpu(prevCpu) ? prevCpu : thisCpu;
        }
        if (sync && RqRunnable(thisCpu) == 1)
        {
            return thisCpu;
        }
        if (IdleCpu(prevCpu))
        {
            return prevCpu;
        }
        return WakeAffineWeight(thisCpu, prevCpu, p, sync);
    }

    /// <summary>
    /// wake_affine_weight (fair.c) with WA_BIAS: this CPU only if its load with the wakee added, × 100, is below
    /// prev's × (100 + (imbalance_pct − 100) / 2) — 105 when the two are SMT siblings (the SMT domain's 110), else
    /// 108 (117 for the MC and NUMA domains, sd_init in topology.c).
    /// </summary>
    /// <remarks>
    /// PELT's loads as the kernel reads them: cpu_load of both CPUs and task_h_load of the wakee (its load_avg as last
    /// updated, still counted in prev's blocked load) and of the sync waker. capacity_of is equal on every CPU (no
    /// asymmetric capacities, no RT/IRQ pressure), so both capacity factors cancel.
    /// </remarks>
    private int WakeAffineWeight(int thisCpu, int prevCpu, int p, bool sync)
    {
        long thisEff = (long)CpuLoad(thisCpu);
        int waker = _core.Current(thisCpu);
        if (sync && waker >= 0)
        {
            long currentLoad = (long)TaskHLoad(waker); // the sync waker (current) is about to sleep
            if (currentLoad > thisEff)
            {
                return thisCpu;
            }
            thisEff -= currentLoad;
        }
        long taskLoad = (long)TaskHLoad(p);
        var topo = _core.Topology;
        long imbalancePct = topo.Smt && topo.SmtMask(thisCpu).Test(prevCpu) ? 110L : (long)ImbalancePct;
        thisEff = (thisEff + taskLoad) * 100;
        long prevEff = ((long)CpuLoad(prevCpu) - taskLoad) * (100 + (imbalancePct - 100) / 2);
        if (sync)
        {
            prevEff += 1; // an even tie lets select_idle_sibling stack the wakee on the waker
        }
        return thisEff < prevEff ? thisCpu : prevCpu;
    }

    /// <summary>select_idle_sibling, simplified (no recent_used_cpu, no capacity fitting, no scan limit).</summary>
    private int SelectIdleSibling(in Cpumask allowed, int prev, int target)
    {
        if (IdleCpu(target) && allowed.Test(target))
        {
            return target;
        }
        if (prev != target && SameLlc(prev, target) && IdleCpu(prev) && allowed.Test(prev))
        {
            return prev;
        }
        var topo = _core.Topology;
        if (topo.Smt && SameLlc(prev, target) && !HasIdleCore(target))
        {
            // select_idle_smt: an idle sibling of prev, tried only when the LLC has no fully idle core
            // (select_idle_sibling's !has_idle_core test, fair.c); otherwise the scan below finds that core.
            ref readonly Cpumask smt = ref topo.SmtMask(prev);
            for (int c = smt.First; c >= 0; c = smt.NextFrom(c + 1))
            {
                if (c != prev && allowed.Test(c) && IdleCpu(c))
                {
                    return c;
                }
            }
        }
        int found = SelectIdleCpu(in allowed, target);
        return found >= 0 ? found : target;
    }

    /// <summary>select_idle_cpu over target's LLC from target + 1, wrapping: a fully idle core first, then any idle CPU.</summary>
    private int SelectIdleCpu(in Cpumask allowed, int target)
    {
        var topo = _core.Topology;
        ref readonly Cpumask llc = ref topo.NodeMask(topo.NodeOf(target));
        if (_core.CpusWithoutCurrent.And(llc).And(allowed).IsEmpty)
        {
            return -1; // every CPU the scan would accept runs a task (the usual case under load): it would find none
        }
        int idleCpu = -1;
        // target + 1 … nr_cpus − 1, then 0 … target (for_each_cpu_wrap's order) without a division per CPU: with every
        // CPU busy the scan visits all of them at each wake-up. A busy CPU is rejected first (the usual case).
        int c = target;
        for (int i = 0; i < _nrCpus; i++)
        {
            if (++c == _nrCpus)
            {
                c = 0;
            }
            if (!IdleCpu(c) || !llc.Test(c) || !allowed.Test(c))
            {
                continue;
            }
            if (!topo.Smt || CoreIdle(c))
            {
                return c;
            }
            if (idleCpu < 0)
            {
                idleCpu = c;
            }
        }
        return idleCpu;
    }

    /// <summary>
    /// test_idle_cores (fair.c) for <paramref name="target"/>'s LLC: whether some core there has every sibling idle.
    /// The kernel keeps this as a hint (set when a CPU idles with idle siblings, cleared when a scan finds no idle
    /// core); bpfsim computes it exactly, over the whole LLC as the hint is, not only the task's allowed CPUs.
    /// </summary>
    private bool HasIdleCore(int target)
    {
        var topo = _core.Topology;
        Cpumask idle = _core.CpusWithoutCurrent.And(in topo.NodeMask(topo.NodeOf(target)));
        for (int c = idle.First; c >= 0; c = idle.NextFrom(c + 1))
        {
            if (CoreIdle(c))
            {
                return true;
            }
        }
        return false;
    }

    private bool CoreIdle(int cpu)
    {
        ref readonly Cpumask smt = ref _core.Topology.SmtMask(cpu);
        for (int c = smt.First; c >= 0; c = smt.NextFrom(c + 1))
        {
            if (!IdleCpu(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// sched_balance_find_dst_cpu (WF_FORK / WF_EXEC, and the affinity fallback), simplified: an idle allowed CPU, prev's
    /// node first, from prev on; otherwise the allowed CPU with the fewest runnable tasks, then the least load.
    /// </summary>
    private int FindIdlestCpu(in Cpumask allowed, int prev)
    {
        var topo = _core.Topology;
        int prevNode = (uint)prev < (uint)_nrCpus ? topo.NodeOf(prev) : 0;
        int start = (uint)prev < (uint)_nrCpus ? prev : 0;
        int best = -1, bestNr = int.MaxValue;
        ulong bestLoad = ulong.MaxValue;
        // One pass when every CPU is in prev's node (the second would find none); each from prev, wrapping, stepped
        // rather than by a division per CPU (a fork of 100,000 tasks on 64 CPUs scans 6.4 M of them).
        int passes = topo.NodeCount > 1 ? 2 : 1;
        for (int pass = 0; pass < passes; pass++)
        {
            for (int i = 0, c = start; i < _nrCpus; i++, c = c + 1 == _nrCpus ? 0 : c + 1)
            {
                if (!allowed.Test(c) || (topo.NodeOf(c) == prevNode) != (pass == 0) || !_core.CpuActive(c))
                {
                    continue;
                }
                if (IdleCpu(c))
                {
                    return c;
                }
                int nr = RqRunnable(c);
                ulong load = CpuLoad(c); // find_idlest_group_cpu compares cpu_load
                if (nr < bestNr || (nr == bestNr && load < bestLoad))
                {
                    best = c;
                    bestNr = nr;
                    bestLoad = load;
                }
            }
        }
        if (best < 0 && !allowed.IsEmpty)
        {
            return start; // every allowed CPU is offline: the core's select_fallback_rq decides
        }
        if (best < 0)
        {
            throw new InvalidOperationException("fair: a task's cpus_mask has no CPU of this machine");
        }
        return best;
    }
}
