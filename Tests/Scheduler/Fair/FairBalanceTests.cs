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
        ref var p = ref core.Tasks[t];
        p.CpusMask = core.Topology.Possible;
        p.NrCpusAllowed = 4;
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
        ref var p = ref core.Tasks[t];
        p.CpusMask = Cpumask.Of(0, 1);
        p.NrCpusAllowed = 2;
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
        ref var pb = ref core.Tasks[b];
        pb.CpusMask = Cpumask.Of(0, 1);
        pb.NrCpusAllowed = 2;
        ref var pa = ref core.Tasks[a];
        pa.CpusMask = Cpumask.Of(0, 1);
        pa.NrCpusAllowed = 2;
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
            ref var p = ref core.Tasks[id];
            p.CpusMask = core.Topology.Possible;
            p.NrCpusAllowed = 4;
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
            ref var p = ref core.Tasks[id];
            p.CpusMask = Cpumask.Of(0, 1, 2);
            p.NrCpusAllowed = 3;
        }
        core.RunFor(200 * Ms);
        Assert.That(new[] { core.Tasks[a].Cpu, core.Tasks[b].Cpu }, Does.Contain(2), "node 1's idle CPU 2 got a hog");
        Assert.That(core.Tasks[c].Cpu, Is.EqualTo(1));
    }

    [Test]
    public void PeriodicBalance_WithEvenCounts_MovesLoadFromTheHeavierCpu()
    {
        // CPU 0: nice −5 (3121) + nice 0 (1024); CPU 1: two nice 5 (335 each). Two tasks each, so only the load
        // differs: 4145 > 117 % of 670, half the difference is 1737, so the nice-0 task (1024) moves and the nice −5
        // one (3121, heavier than that) stays.
        var core = new FairTestCore(2);
        int heavy = core.Fork("heavy", -5, Cpumask.Of(0));
        int mid = core.Fork("mid", 0, Cpumask.Of(0));
        int l1 = core.Fork("light1", 5, Cpumask.Of(1));
        int l2 = core.Fork("light2", 5, Cpumask.Of(1));
        foreach (int id in new[] { heavy, mid, l1, l2 })
        {
            ref var p = ref core.Tasks[id];
            p.CpusMask = Cpumask.Of(0, 1);
            p.NrCpusAllowed = 2;
        }
        core.RunFor(500 * Ms);
        Assert.Multiple(() =>
        {
            Assert.That(core.Tasks[mid].Cpu, Is.EqualTo(1));
            Assert.That(core.Tasks[heavy].Cpu, Is.EqualTo(0));
            Assert.That(core.Tasks[l1].Cpu + core.Tasks[l2].Cpu, Is.EqualTo(2), "the light ones stay on CPU 1");
        });
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
