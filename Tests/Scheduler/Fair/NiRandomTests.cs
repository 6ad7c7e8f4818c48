using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// NI_RANDOM (kernel/sched/fair.c and features.h of the 6.12 tree; sd_init's starting values in topology.c):
/// sched_balance_newidle throws a 1024-sided die per domain and balances it only when the die is at most
/// 1 + newidle_ratio; update_newidle_stats renews the ratio every 1024 calls from the weighted successes.
/// </summary>
public sealed class NiRandomTests
{
    [Test]
    public void NewidleStats_StartAtOneSuccessInTwo()
    {
        var s = NewidleStats.Initial;
        Assert.That((s.Call, s.Success, s.Ratio), Is.EqualTo((512u, 256u, 512u)));
    }

    [Test]
    public void NewidleStats_EachFailedHalfThousand_HalvesTheRatio()
    {
        // From sd_init's 512 calls and 256 successes, the 512th failure brings the count to 1024: the ratio becomes the
        // 256 successes and both counts halve (512, 128); 512 more failures renew it to 128, then 64.
        var s = NewidleStats.Initial;
        var ratios = new List<uint>();
        for (int i = 1; i <= 1536; i++)
        {
            s.Update(0);
            if (i % 512 == 0)
            {
                ratios.Add(s.Ratio);
            }
            if (i == 511)
            {
                Assert.That(s.Ratio, Is.EqualTo(512u), "not renewed before the 1024th call");
            }
        }
        Assert.That(ratios, Is.EqualTo(new[] { 256u, 128u, 64u }));
        Assert.That((s.Call, s.Success), Is.EqualTo((512u, 32u)));
    }

    [Test]
    public void NewidleStats_RatioIsTheWeightedSuccesses()
    {
        // At ratio 512 the die lets a balance run with odds 514/1024, and a pull counts (1024 + 513/2) / 513 = 2.
        var s = NewidleStats.Initial;
        for (int i = 0; i < 512; i++)
        {
            s.Update((1024 + 513 / 2) / 513);
        }
        Assert.That((s.Call, s.Success, s.Ratio), Is.EqualTo((512u, 640u, 1280u)));
    }

    /// <summary>Task s on CPU 0 runs 1 ms and sleeps 1 ms; CPU 1 holds two hogs pinned there, so the root domain stays overloaded and no newidle balance can pull.</summary>
    private static FairSchedClass RunSleeperBesidePinnedHogs(bool niRandom, ulong seed, int ms)
    {
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var features = FairFeatures.Default with { NiRandom = niRandom };
        var kernel = new SchedKernel(sim, new CpuTopology(2), 1000, core => fair = new FairSchedClass(core, features, seed));
        kernel.Fork("h1", 0, Cpumask.Of(1), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        kernel.Fork("h2", 0, Cpumask.Of(1), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        int s = kernel.Fork("s", 0, Cpumask.Of(0), SchedPolicy.Normal, 1_000_000, new LogLinearHistogram());
        OneSleeperDriver.Start(kernel, sim, s);
        sim.RunUntil(SimTime.FromMilliseconds(ms));
        return fair!;
    }

    [Test]
    public void WithoutNiRandom_EveryNewidleBalanceBalancesTheDomain()
    {
        var fair = RunSleeperBesidePinnedHogs(niRandom: false, seed: 1, ms: 2000);
        Assert.That(fair.NewidleBalances, Is.GreaterThan(900), "premise: CPU 0 idles about once per 2 ms");
        Assert.That(fair.NewidleDomainBalances, Is.EqualTo(fair.NewidleBalances));
    }

    [TestCase(1UL)]
    [TestCase(7UL)]
    [TestCase(2026UL)]
    public void DomainThatNeverPulls_IsBalancedAsOftenAsItsFallingRatioAllows(ulong seed)
    {
        // Every newidle balance of CPU 0 counts one failed call at its domain, whether the die skipped it or it ran and
        // found only pinned tasks, so the statistics follow from the number of balances alone; how many ran follows
        // the die: each at odds (ratio + 2) / 1024 under the ratio of its time.
        var fair = RunSleeperBesidePinnedHogs(niRandom: true, seed, ms: 4000);
        long calls = fair.NewidleBalances;
        Assert.That(calls, Is.GreaterThan(1800), "premise: CPU 0 idles about once per 2 ms");

        double expected = 0, variance = 0;
        uint ratio = 512;
        for (long i = 1; i <= calls; i++)
        {
            double p = Math.Min(1.0, (ratio + 2) / 1024.0);
            expected += p;
            variance += p * (1 - p);
            if (i % 512 == 0)
            {
                ratio = 256u >> (int)(i / 512 - 1); // 256 successes halved at each renewal
            }
        }
        var stats = fair.NewidleStatsOf(0, 0);
        Assert.Multiple(() =>
        {
            Assert.That(stats.Ratio, Is.EqualTo(ratio));
            Assert.That(fair.NewidleDomainBalances, Is.EqualTo(expected).Within(5 * Math.Sqrt(variance)),
                $"{calls} newidle balances: the die let {fair.NewidleDomainBalances} run, {expected:0} expected");
            Assert.That(fair.NewidleDomainBalances, Is.LessThan(calls / 2), "far fewer than without the die");
        });
    }

    [Test]
    public void SameSeed_SameDice_OtherSeed_OtherDice()
    {
        long a = RunSleeperBesidePinnedHogs(niRandom: true, seed: 5, ms: 1000).NewidleDomainBalances;
        long b = RunSleeperBesidePinnedHogs(niRandom: true, seed: 5, ms: 1000).NewidleDomainBalances;
        var others = new[] { 6UL, 7UL, 8UL }.Select(seed => RunSleeperBesidePinnedHogs(niRandom: true, seed, ms: 1000).NewidleDomainBalances);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(others, Has.Some.Not.EqualTo(a));
    }
}
