using Bogus;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// PELT (kernel/sched/pelt.c and fair.c, 6.12): the decay arithmetic against its closed forms, and the signals of
/// tasks and cfs_rqs against what the kernel's formulas give for simple histories.
/// </summary>
public sealed class PeltTests
{
    private const long Ms = 1_000_000;

    // runnable_avg_yN_inv from the kernel's generated kernel/sched/sched-pelt.h.
    private static readonly uint[] KernelYnInv =
    [
        0xffffffff, 0xfa83b2da, 0xf5257d14, 0xefe4b99a, 0xeac0c6e6, 0xe5b906e6, 0xe0ccdeeb, 0xdbfbb796,
        0xd744fcc9, 0xd2a81d91, 0xce248c14, 0xc9b9bd85, 0xc5672a10, 0xc12c4cc9, 0xbd08a39e, 0xb8fbaf46,
        0xb504f333, 0xb123f581, 0xad583ee9, 0xa9a15ab4, 0xa5fed6a9, 0xa2704302, 0x9ef5325f, 0x9b8d39b9,
        0x9837f050, 0x94f4efa8, 0x91c3d373, 0x8ea4398a, 0x8b95c1e3, 0x88980e80, 0x85aac367, 0x82cd8698,
    ];

    [Test]
    public void YInvTable_EqualsTheKernelsGeneratedTable()
    {
        for (int n = 0; n < Pelt.LoadAvgPeriod; n++)
        {
            Assert.That(Pelt.YInv(n), Is.EqualTo(KernelYnInv[n]), $"y^{n}");
        }
    }

    [Test]
    public void LoadAvgMax_IsTheFixedPointOfOnePeriodsDecayPlusAFullPeriod()
    {
        // LOAD_AVG_MAX·y + 1024 = LOAD_AVG_MAX: a sum that was always full stays full.
        Assert.That(Pelt.DecayLoad(Pelt.LoadAvgMax, 1) + 1024, Is.EqualTo(Pelt.LoadAvgMax));
        Assert.That(Pelt.DecayLoad(Pelt.LoadAvgMax + 1, 1) + 1024, Is.GreaterThan(Pelt.LoadAvgMax));
    }

    [Test]
    public void DecayLoad_IsWithinOneOfTheExactGeometricDecay_Property()
    {
        var random = new Randomizer(20261127);
        for (int i = 0; i < 2000; i++)
        {
            long v = random.Long(0, 1L << 40);
            int n = random.Int(0, 40 * 32);
            double exact = v * Math.Pow(0.5, n / 32.0);
            ulong got = Pelt.DecayLoad((ulong)v, (ulong)n);
            // whole half-lives shifted off first (dropping less than a unit), then × y^(n % 32) in 32-bit fixed point,
            // rounded down: never above the exact value, and below it by at most the table entries' 3 · 2^-32 and two units
            Assert.That((double)got, Is.InRange(exact * (1 - 4.0 / (1L << 32)) - 2, exact + 1e-3), $"decay_load({v}, {n})");
        }
    }

    [Test]
    public void Div_EqualsIntegerDivision_ForEveryPeltDivider_Property()
    {
        var random = new Randomizer(20261128);
        for (int i = 0; i < 200_000; i++)
        {
            uint divider = (uint)random.Int((int)Pelt.MinDivider, (int)Pelt.LoadAvgMax);
            ulong value = random.Int(0, 3) switch
            {
                0 => (ulong)random.Long(0, uint.MaxValue),
                1 => (ulong)random.Long(0, 1L << 52),
                2 => (ulong)random.Long(0, long.MaxValue) * 2 + (ulong)random.Int(0, 1),
                _ => (ulong)random.Long(1, 1L << 40) * divider + (ulong)random.Int(-1, 1), // next to a multiple
            };
            Assert.That(Pelt.Div(value, divider), Is.EqualTo(value / divider), $"{value} / {divider}");
        }
        Assert.That(Pelt.Div(ulong.MaxValue, Pelt.MinDivider), Is.EqualTo(ulong.MaxValue / Pelt.MinDivider));
        Assert.That(Pelt.Div((1UL << 52) - 1, Pelt.LoadAvgMax), Is.EqualTo(((1UL << 52) - 1) / Pelt.LoadAvgMax));
    }

    [Test]
    public void DecayLoad_ShiftsWholeHalfLivesFirst_AndIsZeroPastSixtyThree()
    {
        Assert.That(Pelt.DecayLoad(ulong.MaxValue, 32 * 63 + 1), Is.EqualTo(0UL));
        // (2^64 − 1) >> 60 = 15, then × y^0 = (2^32 − 1) / 2^32 rounded down: 14.
        Assert.That(Pelt.DecayLoad(ulong.MaxValue, 32 * 60), Is.EqualTo(14UL));
    }

    [Test]
    public void NewTaskOnAnIdleCpu_StartsAtHalfTheCapacity_AndApproachesFullAsOneMinusYToTheT()
    {
        var core = new FairTestCore(1);
        int hog = core.Fork("hog");
        // post_init_entity_util_avg: util = (1024 − 0) / 2 on an idle CPU; runnable follows util.
        Assert.That(core.Fair.TaskAvg(hog).UtilAvg, Is.EqualTo(512UL));
        Assert.That(core.Fair.TaskAvg(hog).RunnableAvg, Is.EqualTo(512UL));
        core.Run(64 * Ms);
        // u(t) = 1024 − (1024 − 512)·y^t, t in 1024 µs periods: 64 ms = 62.5 periods.
        double expected = 1024 - 512 * Math.Pow(0.5, 64e6 / 1024 / 1024 / 32);
        Assert.That((double)core.Fair.TaskAvg(hog).UtilAvg, Is.EqualTo(expected).Within(expected * 0.01));
    }

    [Test]
    public void AlwaysRunningTask_TendsToItsWeightAndFullUtilization()
    {
        var core = new FairTestCore(1);
        int hog = core.Fork("hog", nice: 5); // weight 335
        core.Run(1000 * Ms);
        var se = core.Fair.TaskAvg(hog);
        Assert.That(se.LoadAvg, Is.InRange(330UL, 335UL));
        Assert.That(se.UtilAvg, Is.InRange(1010UL, 1024UL));
        Assert.That(se.RunnableAvg, Is.InRange(1010UL, 1024UL));
        var cfs = core.Fair.CfsAvg(0);
        Assert.That(cfs.LoadAvg, Is.InRange(330UL, 335UL), "the cfs_rq's load is the sum of its entities'");
    }

    [Test]
    public void TwoHogsOnOneCpu_EachRunsHalf_ButBothAreRunnableAllTheTime()
    {
        var core = new FairTestCore(1);
        int a = core.Fork("a");
        int b = core.Fork("b");
        core.Run(1000 * Ms);
        foreach (int id in new[] { a, b })
        {
            var se = core.Fair.TaskAvg(id);
            Assert.That(se.UtilAvg, Is.InRange(490UL, 534UL), "running half the time");
            Assert.That(se.RunnableAvg, Is.InRange(1010UL, 1024UL), "waiting counts as runnable");
            Assert.That(se.LoadAvg, Is.InRange(1010UL, 1024UL), "load counts queued time at full weight");
        }
        var cfs = core.Fair.CfsAvg(0);
        Assert.That(cfs.RunnableAvg, Is.InRange(2020UL, 2052UL), "two runnable tasks (the integer series may pass 2048 by a unit or two)");
        Assert.That(cfs.UtilAvg, Is.InRange(1010UL, 1024UL));
    }

    [Test]
    public void Sleeper_DecaysByHalfOverThirtyTwoPeriodsOfSleep()
    {
        var core = new FairTestCore(1);
        int t = core.Fork("t");
        core.Run(300 * Ms);
        core.Sleep(t);
        ulong before = core.Fair.TaskAvg(t).UtilAvg; // updated at the dequeue
        core.RunFor(32 * 1024 * 1024L); // 32 periods
        core.Wake(t);
        ulong after = core.Fair.TaskAvg(t).UtilAvg;
        Assert.That((double)after, Is.EqualTo(before / 2.0).Within(before * 0.02));
    }

    [Test]
    public void SecondTask_StartsWithItsWeightsShareOfTheCpusUtil_CappedAtHalfTheSpare()
    {
        var core = new FairTestCore(1);
        int light = core.Fork("light", nice: 10);
        core.Run(5 * Ms);
        var cfs = core.Fair.CfsAvg(0);
        int heavy = core.Fork("heavy", nice: -5);
        ulong cap = (1024 - cfs.UtilAvg) / 2;
        ulong share = cfs.UtilAvg * 3121 / (cfs.LoadAvg + 1); // nice −5 weighs 3121
        Assert.That(share, Is.GreaterThan(cap), "the setup must reach the cap");
        Assert.That(core.Fair.TaskAvg(heavy).UtilAvg, Is.EqualTo(cap));
        Assert.That(core.Fair.TaskAvg(light).UtilAvg, Is.GreaterThan(0UL));
    }

    [Test]
    public void UtilEst_FollowsUtilUpAtOnce_AndDownByAQuarterOfTheDifference()
    {
        var core = new FairTestCore(1);
        int t = core.Fork("t");
        core.Run(200 * Ms);
        ulong utilAtSleep = core.Fair.TaskAvg(t).UtilAvg; // util_est_update reads util before the dequeue's update
        core.Sleep(t);
        uint est = core.Fair.TaskAvg(t).UtilEst & ~Pelt.UtilAvgUnchanged;
        Assert.That(est, Is.EqualTo((uint)utilAtSleep), "an increase is taken whole");
        // Sleep 40 ms, run 4 ms: util falls well below the estimate, and the task ran whenever it was runnable.
        core.RunFor(40 * Ms);
        core.Wake(t);
        core.RunFor(4 * Ms);
        var sa = core.Fair.TaskAvg(t);
        uint dequeued = (uint)sa.UtilAvg;
        Assert.That(est - dequeued, Is.GreaterThanOrEqualTo(10u));
        core.Sleep(t);
        uint expected = ((est << 2) - (est - dequeued)) >> 2;
        Assert.That(core.Fair.TaskAvg(t).UtilEst & ~Pelt.UtilAvgUnchanged, Is.EqualTo(expected));
        Assert.That(core.Fair.TaskAvg(t).UtilEst & Pelt.UtilAvgUnchanged, Is.Not.Zero, "flagged until util_avg changes");
    }

    [Test]
    public void WakeMigration_LeavesTheLoadBehindUntilTheOldCfsRqUpdates_AndAttachesOnTheNewCpu()
    {
        var core = new FairTestCore(2);
        int hog = core.Fork("hog", cpus: Cpumask.Of(0));
        int mover = core.Fork("mover", cpus: Cpumask.Of(0));
        core.Run(200 * Ms);
        core.Sleep(mover);
        ulong moverLoad = core.Fair.TaskAvg(mover).LoadAvg;
        Assert.That(moverLoad, Is.GreaterThan(300UL));
        ulong cpu0Before = core.Fair.CpuLoad(0);
        core.Allow(mover, Cpumask.Of(1));
        core.Wake(mover);
        Assert.That(core.Tasks[mover].Cpu, Is.EqualTo(1));
        Assert.That(core.Fair.CpuLoad(0), Is.EqualTo(cpu0Before), "removed load waits for CPU 0's next update");
        Assert.That(core.Fair.CpuLoad(1), Is.EqualTo(core.Fair.TaskAvg(mover).LoadAvg), "attached on CPU 1");
        core.RunFor(2 * Ms);
        Assert.That(core.Fair.CpuLoad(0), Is.InRange(core.Fair.TaskAvg(hog).LoadAvg - 2, core.Fair.TaskAvg(hog).LoadAvg + 2),
            "CPU 0 carries only the hog once its tick has updated it");
    }

    [Test]
    public void IdleCpusBlockedLoad_DecaysThroughTheNohzStatsKick()
    {
        var core = new FairTestCore(2);
        core.Fork("hog", cpus: Cpumask.Of(0));
        int sleeper = core.Fork("sleeper", cpus: Cpumask.Of(1));
        core.Run(200 * Ms);
        core.Sleep(sleeper); // CPU 1 idles with the sleeper's load blocked in its cfs_rq
        ulong blocked = core.Fair.CpuLoad(1);
        Assert.That(blocked, Is.GreaterThan(900UL));
        core.RunFor(320 * Ms); // ten half-lives; CPU 0's busy ticks kick the idle balancer's stats update
        Assert.That(core.Fair.CpuLoad(1), Is.LessThanOrEqualTo(blocked / 256));
    }
}
