using Bogus;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>select_task_rq_fair's idle-CPU choice, newidle / periodic / nohz balancing and affinity.</summary>
public sealed class FairBalanceTests
{
    private const long Ms = 1_000_000;

    [Test]
    public void Wakeup_GoesToAnIdleCpuOfTheNode_WhenPrevIsBusy()
    {
        var core = new FairTestCore(4);
        int hog = core.Fork("hog", cpus: Cpumask.Of(0));
        int t = core.Fork("t", cpus: Cpumask.Of(0, 2));
        core.ScheduleAll();
        ref var p = ref core.Tasks[t];
        Assert.That(p.Cpu, Is.EqualTo(2), "fork: CPU 0 has the hog, so the idlest allowed CPU");
        core.RunFor(Ms);
        core.Sleep(t);
        // prev (2) idle: the wakeup stays there.
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 2, WakeFlags.Ttwu), Is.EqualTo(2));
        // prev busy (0): an idle CPU of the node that the mask allows (2), never 1 or 3.
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 0, WakeFlags.Ttwu), Is.EqualTo(2));
        Assert.That(hog, Is.Not.EqualTo(t));
    }

    [Test]
    public void Wakeup_PrefersAnIdleSmtSiblingOfPrev()
    {
        var core = new FairTestCore(4, smt: true);
        core.Fork("hog0", cpus: Cpumask.Of(0));
        core.Fork("hog2", cpus: Cpumask.Of(2));
        core.ScheduleAll();
        int t = core.Fork("t", cpus: Cpumask.Of(0, 1, 2, 3));
        core.ScheduleAll();
        int cpu = core.Tasks[t].Cpu;
        Assert.That(cpu, Is.EqualTo(1).Or.EqualTo(3));
        core.RunFor(Ms);
        core.Sleep(t);
        // prev 0 is busy: its sibling 1 is idle (select_idle_smt before the LLC scan).
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 0, WakeFlags.Ttwu), Is.EqualTo(1));
    }

    /// <summary>
    /// select_idle_sibling (fair.c) tries select_idle_smt(prev) only when the LLC has no idle core (has_idle_cores);
    /// with core {2, 3} fully idle it goes to select_idle_cpu's idle-core scan, which returns 2 — not prev's idle
    /// sibling 1.
    /// </summary>
    [Test]
    public void SelectIdleSibling_PrefersIdleCoreOverPrevSibling()
    {
        var core = new FairTestCore(4, smt: true);
        core.Fork("hog0", cpus: Cpumask.Of(0));
        int t = core.Fork("t", cpus: Cpumask.Of(1));
        core.ScheduleAll();
        core.RunFor(Ms);
        core.Sleep(t);
        core.Allow(t, core.Topology.Possible);
        Assert.That(core.Current(1), Is.EqualTo(-1));
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 0, WakeFlags.Ttwu), Is.EqualTo(2));
    }

    /// <summary>
    /// wake_affine_weight (fair.c) with WA_BIAS on 2 CPUs (MC domain, imbalance_pct 117): the waker's CPU only if
    /// (its load + the wakee's) × 100 &lt; prev's load × 108. Waker CPU 0 runs a nice-0 hog (1024), prev CPU 1 runs
    /// nice 0 + nice 3 (1024 + 526): 2048 × 100 = 204 800 against 1550 × 108 = 167 400, so prev. With three nice-0
    /// hogs on prev (3072 × 108 = 331 776) the waker's CPU wins.
    /// </summary>
    [TestCase(3, 1)]
    [TestCase(0, 0)]
    public void WakeAffineWeight_BiasedTowardPrev_CountsTheWakeesLoad(int secondHogNice, int expected)
    {
        var core = new FairTestCore(2);
        int t = core.Fork("t", cpus: Cpumask.Of(1));
        core.RunFor(Ms);
        core.Sleep(t);
        core.Fork("w", cpus: Cpumask.Of(0));
        core.Fork("p0", cpus: Cpumask.Of(1));
        core.Fork("p1", nice: secondHogNice, cpus: Cpumask.Of(1));
        if (secondHogNice == 0)
        {
            core.Fork("p2", cpus: Cpumask.Of(1));
        }
        core.ScheduleAll();
        core.Allow(t, Cpumask.Of(0, 1));
        core.ThisCpu = 0;
        int got = core.Fair.SelectTaskRq(ref core.Tasks[t], 1, WakeFlags.Ttwu);
        core.ThisCpu = -1;
        Assert.That(got, Is.EqualTo(expected));
    }

    [Test]
    public void SyncWakeup_MovesTheWakeeToTheWakersCpu_WhenTheWakerIsAloneThere()
    {
        var core = new FairTestCore(2);
        int waker = core.Fork("waker", cpus: Cpumask.Of(0));
        int other = core.Fork("other", cpus: Cpumask.Of(1));
        int t = core.Fork("t");
        core.ScheduleAll();
        core.RunFor(Ms);
        if (core.Current(core.Tasks[t].Cpu) == t)
        {
            core.Sleep(t);
        }
        Assert.That(core.Current(0), Is.EqualTo(waker));
        Assert.That(core.Current(1), Is.EqualTo(other));
        core.ThisCpu = 0;
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 1, WakeFlags.Ttwu | WakeFlags.Sync), Is.EqualTo(0),
            "wake_affine_idle: WF_SYNC and the waker alone on its rq");
        core.ThisCpu = -1;
    }

    [Test]
    public void NewidleBalance_PullsAWaitingHog_WhenACpuGoesIdle()
    {
        var core = new FairTestCore(2);
        int a = core.Fork("a", cpus: Cpumask.Of(0));
        int b = core.Fork("b", cpus: Cpumask.Of(0));
        int s = core.Fork("s", cpus: Cpumask.Of(1));
        core.RunFor(5 * Ms);
        // Widen b's affinity while it waits on CPU 0; CPU 1 goes idle when s sleeps and pulls it.
        core.Allow(b, Cpumask.Of(0, 1));
        core.Allow(a, Cpumask.Of(0, 1));
        long before = core.Fair.Migrations;
        core.Sleep(s);
        Assert.That(core.Fair.Migrations, Is.EqualTo(before + 1));
        Assert.That(core.Current(1), Is.EqualTo(a).Or.EqualTo(b));
        Assert.That(core.Current(0), Is.EqualTo(a).Or.EqualTo(b));
    }

    [Test]
    public void NohzBalance_FromABusyTick_MovesAHogToAnIdleCpu()
    {
        var core = new FairTestCore(4);
        // All forked pinned to CPU 0, then allowed everywhere: nothing but balancing can spread them.
        var ids = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add(core.Fork($"hog{i}", cpus: Cpumask.Of(0)));
        }
        foreach (int id in ids)
        {
            core.Allow(id, core.Topology.Possible);
        }
        core.RunFor(50 * Ms);
        var cpus = ids.Select(id => core.Tasks[id].Cpu).Distinct().Count();
        Assert.That(cpus, Is.EqualTo(3), "three hogs on three CPUs");
        long t0 = core.NowNs;
        long[] before = ids.Select(id => (long)core.Tasks[id].Se.SumExecRuntime).ToArray();
        core.RunFor(100 * Ms);
        for (int i = 0; i < ids.Count; i++)
        {
            Assert.That(core.Tasks[ids[i]].Se.SumExecRuntime - (ulong)before[i], Is.EqualTo((ulong)(core.NowNs - t0)).Within((ulong)Ms),
                "each hog has a CPU to itself");
        }
    }

    [Test]
    public void Balancing_AcrossNodes_MovesAHogToTheOtherNode()
    {
        var core = new FairTestCore(4, nodes: 2);
        int a = core.Fork("a", cpus: Cpumask.Of(0));
        int b = core.Fork("b", cpus: Cpumask.Of(0));
        int c = core.Fork("c", cpus: Cpumask.Of(1));
        foreach (int id in new[] { a, b })
        {
            core.Allow(id, Cpumask.Of(0, 1, 2));
        }
        core.RunFor(200 * Ms);
        Assert.That(new[] { core.Tasks[a].Cpu, core.Tasks[b].Cpu }, Does.Contain(2), "node 1's idle CPU 2 got a hog");
        Assert.That(core.Tasks[c].Cpu, Is.EqualTo(1));
    }

    /// <summary>
    /// Both CPUs overloaded (fair.c, calculate_imbalance's migrate_load): CPU 0 holds nice −5 (3121) + nice 0 (1024),
    /// CPU 1 two nice 5 (335 each). From CPU 1 the imbalance is min(4145 − 2407, 2407 − 670) = 1737 (2407 is the
    /// domain's average): the nice-0 task fits; the nice −5 one fits only once a failed balance halves its load
    /// (shr_bound by nr_balance_failed). Either way the runs settle as {nice −5} against {nice 0, nice 5, nice 5}
    /// (3121 against 1694), where no balance finds an imbalance: the light CPU is overloaded and the heavy one only
    /// fully busy.
    /// </summary>
    /// <summary>
    /// Across NUMA nodes (fair.c calculate_imbalance, sibling_imbalance, adjust_numa_imbalance): with 1 hog on node 0
    /// and 3 on node 1 (4 CPUs each) node 0's idle CPU, kicked by node 1's busy ticks (nr_busy_cpus &gt; 1), finds an
    /// imbalance of 3 − 1 = 2 tasks. imb_numa_nr is max(1, 4 CPUs per node &gt;&gt; 3) = 1 (build_sched_domains works it
    /// out on the PKG domain, one LLC wide), node 0 would run 2 &gt; 1 tasks, so the allowance does not apply and half of
    /// it, one hog, moves: 2 and 2.
    /// </summary>
    [Test]
    public void AcrossNodes_ThreeAgainstOne_OneHogMoves()
    {
        var core = new FairTestCore(8, nodes: 2);
        var ids = new[] { core.Fork("a", cpus: Cpumask.Of(0)), core.Fork("b", cpus: Cpumask.Of(4)),
            core.Fork("c", cpus: Cpumask.Of(5)), core.Fork("d", cpus: Cpumask.Of(6)) };
        core.RunFor(5 * Ms);
        foreach (int id in ids)
        {
            core.Allow(id, core.Topology.Possible);
        }
        core.RunFor(300 * Ms);
        int onNode0 = ids.Count(id => core.Tasks[id].Cpu < 4);
        Assert.That(onNode0, Is.EqualTo(2));
        Assert.That(ids.Select(id => core.Tasks[id].Cpu).Distinct().Count(), Is.EqualTo(4), "each hog has a CPU");
    }

    /// <summary>
    /// find_new_ilb (fair.c) takes an idle housekeeping CPU (HK_TYPE_MISC) other than the kicker to run the nohz idle
    /// balance, and nohz_full= removes its CPUs from that set. With CPU 0 busy and CPUs 1 and 2 nohz_full, CPU 1's two
    /// hogs find no idle balancer and CPU 2 stays idle; without nohz_full CPU 2 takes one.
    /// </summary>
    [TestCase(true, -1)]
    [TestCase(false, 1)]
    public void NohzKick_NeedsAnIdleHousekeepingCpu(bool nohzFull, int expectedOnCpu2)
    {
        var core = new FairTestCore(3);
        if (nohzFull)
        {
            core.NohzFull = Cpumask.Of(1, 2);
        }
        core.Fork("h0", cpus: Cpumask.Of(0));
        int a = core.Fork("a", cpus: Cpumask.Of(1));
        int b = core.Fork("b", cpus: Cpumask.Of(1));
        core.RunFor(5 * Ms);
        foreach (int id in new[] { a, b })
        {
            core.Allow(id, Cpumask.Of(1, 2));
        }
        core.RunFor(200 * Ms);
        Assert.That(core.Current(2) >= 0 ? 1 : -1, Is.EqualTo(expectedOnCpu2));
    }

    [Test]
    public void PeriodicBalance_ByLoad_LeavesTheHeavyTaskAlone()
    {
        var core = new FairTestCore(2);
        int heavy = core.Fork("heavy", -5, Cpumask.Of(0));
        int mid = core.Fork("mid", 0, Cpumask.Of(0));
        int l1 = core.Fork("light1", 5, Cpumask.Of(1));
        int l2 = core.Fork("light2", 5, Cpumask.Of(1));
        foreach (int id in new[] { heavy, mid, l1, l2 })
        {
            core.Allow(id, Cpumask.Of(0, 1));
        }
        core.RunFor(500 * Ms);
        long settled = core.Fair.Migrations;
        core.RunFor(500 * Ms);
        int heavyCpu = core.Tasks[heavy].Cpu;
        Assert.Multiple(() =>
        {
            Assert.That(core.Tasks[mid].Cpu, Is.Not.EqualTo(heavyCpu));
            Assert.That(core.Tasks[l1].Cpu, Is.Not.EqualTo(heavyCpu));
            Assert.That(core.Tasks[l2].Cpu, Is.Not.EqualTo(heavyCpu));
            Assert.That(core.Fair.Migrations, Is.EqualTo(settled), "balanced: nothing moves any more");
        });
    }

    /// <summary>
    /// Three nice-0 and three nice-5 hogs on four CPUs: balancing by load (avg_load against the domain's average) puts
    /// each nice-0 hog alone on a CPU and the three nice-5 hogs together (1005 against an average of 1019), and then
    /// nothing moves: the CPUs with one hog are fully busy and at or above the average, the other is overloaded but the
    /// lightest. So each nice-0 hog gets a CPU and each nice-5 hog a third of one, 3:1. Counting tasks instead (2-2-1-1)
    /// migrates hogs back and forth for ever.
    /// </summary>
    [Test]
    public void ThreeAndThreeHogs_OnFourCpus_SettleByLoad_AndStop()
    {
        var core = new FairTestCore(4);
        var n0 = Enumerable.Range(0, 3).Select(i => core.Fork($"n0_{i}", 0)).ToArray();
        var n5 = Enumerable.Range(0, 3).Select(i => core.Fork($"n5_{i}", 5)).ToArray();
        core.RunFor(1000 * Ms);
        long settled = core.Fair.Migrations;
        ulong[] before = n0.Concat(n5).Select(id => core.Tasks[id].Se.SumExecRuntime).ToArray();
        core.RunFor(3000 * Ms);
        double[] got = n0.Concat(n5).Select((id, i) => (double)(core.Tasks[id].Se.SumExecRuntime - before[i]) / (3000 * Ms)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(core.Fair.Migrations, Is.EqualTo(settled), "no migration once settled");
            for (int i = 0; i < 3; i++)
            {
                Assert.That(got[i], Is.EqualTo(1.0).Within(0.01), $"nice 0 hog {i} has a CPU");
                Assert.That(got[3 + i], Is.EqualTo(1.0 / 3).Within(0.01), $"nice 5 hog {i} has a third of one");
            }
        });
    }

    /// <summary>
    /// Five hogs on four CPUs: the pair's CPU is overloaded (2048) and the others fully busy (1024) under the domain's
    /// average (1280), so the imbalance is 256, less than a hog's 1024. Each failed periodic balance halves the load
    /// detach_tasks compares (shr_bound by nr_balance_failed), and the second lets a hog move: the pair moves around
    /// and over four seconds every hog gets about four fifths of a CPU, where a balancer that never moves a task
    /// heavier than the imbalance leaves two hogs at one half for ever.
    /// </summary>
    [Test]
    public void FiveHogs_OnFourCpus_EachGetsAboutFourFifths()
    {
        var core = new FairTestCore(4);
        var ids = Enumerable.Range(0, 5).Select(i => core.Fork($"hog{i}")).ToArray();
        core.RunFor(4000 * Ms);
        foreach (int id in ids)
        {
            Assert.That((double)core.Tasks[id].Se.SumExecRuntime / (4000 * Ms), Is.EqualTo(0.8).Within(0.06), $"hog {id}");
        }
    }

    /// <summary>
    /// Three hogs on two CPUs, checked against this VM's Linux 6.18 (three `sh` busy loops, 20 s: 13.0–13.6 s of CPU
    /// each): the pair's CPU is overloaded (2048), the other fully busy (1024) under the average (1536), so 512 of load
    /// should move, less than a hog (PELT's task_h_load, about 1022); the second failed balance halves it to 511 and it
    /// moves. The hogs take turns and each gets about two thirds of a CPU. Which hog is left alone at each move depends
    /// on which of the pair runs at that tick, a phase bpfsim's exact clocks keep where Linux's noise blurs it, so over
    /// Linux's 20 s window the shares spread a little more than Linux's (0.63–0.69 against 0.65–0.68).
    /// </summary>
    [Test]
    public void ThreeHogs_OnTwoCpus_EachGetsTwoThirds()
    {
        var core = new FairTestCore(2);
        var ids = Enumerable.Range(0, 3).Select(i => core.Fork($"hog{i}")).ToArray();
        core.RunFor(20_000 * Ms);
        foreach (int id in ids)
        {
            Assert.That((double)core.Tasks[id].Se.SumExecRuntime / (20_000 * Ms), Is.EqualTo(2.0 / 3).Within(0.05), $"hog {id}");
        }
    }

    /// <summary>
    /// task_hot (fair.c): a task that ran on its CPU less than sysctl_sched_migration_cost (500 µs) ago is cache hot, and
    /// a newidle balance — which never counts failures, so never overrides it through cache_nice_tries — leaves it. CPU
    /// 1 goes idle the instant CPU 0 switched its hogs: the one waiting has just run, so it stays; a millisecond later
    /// it is cold and CPU 1's next balance (the nohz kick from CPU 0's tick) takes it.
    /// </summary>
    [Test]
    public void NewidleBalance_LeavesACacheHotTask_ThenTakesItWhenCold()
    {
        var core = new FairTestCore(2);
        int a = core.Fork("a", cpus: Cpumask.Of(0));
        int b = core.Fork("b", cpus: Cpumask.Of(0));
        int s = core.Fork("s", cpus: Cpumask.Of(1));
        core.RunFor(2 * Ms);
        foreach (int id in new[] { a, b })
        {
            core.Allow(id, Cpumask.Of(0, 1));
        }
        int was = core.Current(0);
        for (int i = 0; i < 100 && core.Current(0) == was; i++)
        {
            core.RunFor(Ms);
        }
        Assert.That(core.Current(0), Is.Not.EqualTo(was), "CPU 0 switched at this tick");
        long before = core.Fair.Migrations;
        core.Sleep(s);
        Assert.That(core.Fair.Migrations, Is.EqualTo(before), "the waiting hog ran 0 ns ago: cache hot");
        Assert.That(core.Current(1), Is.EqualTo(-1));
        core.RunFor(10 * Ms);
        Assert.That(core.Fair.Migrations, Is.EqualTo(before + 1));
        Assert.That(core.Tasks[was].Cpu, Is.EqualTo(1));
    }

    [Test]
    public void Affinity_IsNeverViolated_UnderRandomWakeupsAndBalancing()
    {
        var random = new Randomizer(4242);
        var core = new FairTestCore(8, smt: true, nodes: 2);
        var ids = new List<int>();
        for (int i = 0; i < 14; i++)
        {
            var mask = new Cpumask();
            int bits = random.Int(1, 4);
            for (int k = 0; k < bits; k++)
            {
                mask.Set(random.Int(0, 7));
            }
            ids.Add(core.Fork($"t{i}", random.Int(-5, 5), mask));
        }
        for (int step = 0; step < 400; step++)
        {
            core.RunFor(random.Long(100_000, 4 * Ms));
            int id = random.ListItem(ids);
            ref var p = ref core.Tasks[id];
            if (p.State == (uint)TaskState.Running && core.Current(p.Cpu) == id)
            {
                core.Sleep(id);
            }
            else if (p.State != (uint)TaskState.Running)
            {
                core.ThisCpu = random.Int(0, 7);
                core.Wake(id, random.Bool() ? WakeFlags.Sync : WakeFlags.None);
                core.ThisCpu = -1;
                core.ScheduleAll();
            }
        }
        foreach (var (cpu, task) in core.TickLog)
        {
            Assert.That(core.Tasks[task].CpusMask.Test(cpu), Is.True, $"task {task} ran on CPU {cpu}");
        }
        Assert.That(core.Fair.Migrations, Is.GreaterThan(0));
        Assert.That(core.TickLog, Is.Not.Empty);
    }
    [Test]
    public void ForkPlacement_TakesTheFirstIdleCpuFromPrev_WrappingAround()
    {
        // sched_balance_find_dst_cpu's stand-in: idle CPUs of prev's node, scanned from prev and wrapping past the last.
        var core = new FairTestCore(4);
        core.Fork("hog2", cpus: Cpumask.Of(2));
        core.Fork("hog3", cpus: Cpumask.Of(3));
        int t = core.Fork("t", cpus: Cpumask.Of(0, 1, 2, 3));
        core.ScheduleAll();
        core.RunFor(Ms);
        core.Sleep(t); // CPUs 0 and 1 idle, 2 and 3 busy
        Assert.Multiple(() =>
        {
            Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 2, WakeFlags.Fork), Is.EqualTo(0), "from 2: 2, 3, then 0");
            Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 3, WakeFlags.Fork), Is.EqualTo(0), "from 3: 3, then 0");
            Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 1, WakeFlags.Fork), Is.EqualTo(1), "from 1: 1");
        });
    }

    [Test]
    public void ForkPlacement_GoesToTheOtherNode_OnlyWhenPrevsNodeHasNoIdleCpu()
    {
        var core = new FairTestCore(4, nodes: 2); // node 0: CPUs 0, 1; node 1: CPUs 2, 3
        core.Fork("hog0", cpus: Cpumask.Of(0));
        core.Fork("hog1", cpus: Cpumask.Of(1));
        core.Fork("hog2", cpus: Cpumask.Of(2));
        core.ScheduleAll();
        var all = Cpumask.Of(0, 1, 2, 3);
        int t = core.Fork("t", cpus: all);
        core.ScheduleAll();
        Assert.That(core.Tasks[t].Cpu, Is.EqualTo(3), "node 1's idle CPU");
        core.Sleep(t);
        core.Fork("hog3", cpus: Cpumask.Of(3));
        core.Fork("hog0b", cpus: Cpumask.Of(0));
        core.ScheduleAll();
        // No CPU idle: the fewest runnable tasks, prev's node first (1 has one task where 0 has two).
        Assert.That(core.Fair.SelectTaskRq(ref core.Tasks[t], 0, WakeFlags.Fork), Is.EqualTo(1));
    }
}
