using BpfSim.Core.Simulation;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Metrics;

/// <summary>The window arithmetic and FCT statistics, against values worked out by hand.</summary>
[Category("Tcp")]
public sealed class MeasureWindowTests
{
    private static readonly MeasureWindow Window = new(SimTime.FromSeconds(5), SimTime.FromSeconds(25));

    [TestCase(0, 30, 20.0, TestName = "Overlap_LifeCoversTheWindow_IsTheWindow")]
    [TestCase(10, 15, 5.0, TestName = "Overlap_LifeInsideTheWindow_IsTheLife")]
    [TestCase(0, 8, 3.0, TestName = "Overlap_LifeEndsInTheWindow_IsItsPartInside")]
    [TestCase(20, 40, 5.0, TestName = "Overlap_LifeStartsInTheWindow_IsItsPartInside")]
    [TestCase(0, 5, 0.0, TestName = "Overlap_LifeEndsAtTheStart_IsZero")]
    [TestCase(26, 30, 0.0, TestName = "Overlap_LifeAfterTheWindow_IsZero")]
    public void OverlapSeconds_IsTheLifesPartInsideTheWindow(long start, long end, double expected)
    {
        Assert.That(Window.OverlapSeconds(SimTime.FromSeconds(start), SimTime.FromSeconds(end)), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void Window_FromScenarioKeys_IsClippedToTheRun()
    {
        var spec = new TcpScenarioSpec { Duration = SimTime.FromSeconds(10), MeasureFrom = SimTime.FromSeconds(2), MeasureTo = SimTime.FromSeconds(30) };
        Assert.That(spec.Window, Is.EqualTo(new MeasureWindow(SimTime.FromSeconds(2), SimTime.FromSeconds(10))));
        Assert.That(new TcpScenarioSpec { Duration = SimTime.FromSeconds(10) }.Window, Is.EqualTo(new MeasureWindow(SimTime.Zero, SimTime.FromSeconds(10))),
            "no keys: the whole run");
    }

    /// <summary>Nearest rank: the ⌈q·n⌉-th smallest; for 1..100 that is q·100 itself.</summary>
    [TestCase(0.50, 50)]
    [TestCase(0.95, 95)]
    [TestCase(0.99, 99)]
    [TestCase(1.00, 100)]
    public void Rank_OneToHundred_IsTheNearestRank(double q, double expected)
    {
        Assert.That(FctStats.Rank([.. Enumerable.Range(1, 100).Select(i => (double)i)], q), Is.EqualTo(expected));
    }

    [Test]
    public void Rank_FewValues_TakesTheCeilingRank()
    {
        double[] three = [10, 20, 30];
        Assert.That(FctStats.Rank(three, 0.5), Is.EqualTo(20), "⌈1.5⌉ = 2nd");
        Assert.That(FctStats.Rank(three, 0.95), Is.EqualTo(30), "⌈2.85⌉ = 3rd");
        Assert.That(FctStats.Rank([], 0.5), Is.Zero);
    }

    [Test]
    public void Of_CountsEveryFlow_ButTakesStatisticsOverTheCompletedOnes()
    {
        FctSample[] samples =
        [
            new(1, 1, "reno", 100_000, 0, 20, 10),
            new(2, 1, "reno", 100_000, 0, 40, 10),
            new(3, 1, "reno", 100_000, 0, null, 10),
        ];
        var st = FctStats.Of(samples);
        Assert.That((st.Count, st.Completed), Is.EqualTo((3, 2)));
        Assert.That(st.MeanMs, Is.EqualTo(30));
        Assert.That((st.P50Ms, st.P99Ms), Is.EqualTo((20.0, 40.0)));
        Assert.That((st.SlowdownP50, st.SlowdownP99), Is.EqualTo((2.0, 4.0)));
    }

    /// <summary>Property (fixed seed): every sample lands in exactly one bin, and its bin's edges hold its size.</summary>
    [Test]
    public void FctBins_RandomSizes_EachFlowInTheOneBinWhoseEdgesHoldIt()
    {
        var random = new Bogus.Randomizer(1414);
        long[] edges = [100_000, 1_000_000];
        for (int trial = 0; trial < 50; trial++)
        {
            var samples = Enumerable.Range(1, random.Int(1, 40))
                .Select(i => new FctSample(i, 1, "cubic", random.Long(1, 5_000_000), 0, random.Double(1, 100), 1)).ToList();
            var bins = TcpScenarioRunner.FctBins(samples, edges);
            Assert.That(bins.Sum(b => b.Count), Is.EqualTo(samples.Count), $"trial {trial}");
            foreach (var b in bins)
            {
                Assert.That(b.Count, Is.EqualTo(samples.Count(s => s.SizeBytes >= b.MinBytes && (b.MaxBytes is null || s.SizeBytes < b.MaxBytes))));
            }
            Assert.That(bins.Select(b => b.Bin), Is.SubsetOf(new[] { "<100KB", "100KB-1MB", ">=1MB" }));
        }
    }

    [Test]
    public void FctBins_NoEdges_OneBinOfEveryFlow()
    {
        // Not from a file (the parser refuses an empty fct_bins), but a caller's spec may have none.
        List<FctSample> samples = [new(1, 1, "cubic", 10_000, 0, 5, 1), new(2, 1, "cubic", 5_000_000, 0, 50, 1)];
        var bins = TcpScenarioRunner.FctBins(samples, []);
        Assert.That(bins.Select(b => (b.Bin, b.MinBytes, b.MaxBytes, b.Count)), Is.EqualTo(new[] { ("all", 0L, (long?)null, 2L) }));
    }
}
