using Bogus;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Tests.Scheduler.Metrics;

/// <summary>
/// The whole-run overview of the per-CPU timeline: a segment's time goes to the columns it overlaps, by overlap, in its
/// group's slot; nothing is lost or invented over random segments; thousands of CPUs or groups get fewer columns.
/// </summary>
public sealed class TimelineOverviewTests
{
    [Test]
    public void Add_SplitsASegmentOverTheColumnsItOverlaps()
    {
        var o = new TimelineOverview(2, 10_000, ["a", "b"]); // 1000 columns of 10 ns
        o.Add(1, 5, 25, 1);
        Assert.Multiple(() =>
        {
            Assert.That(o.Columns, Is.EqualTo(TimelineOverview.MaxColumns));
            Assert.That(o.ColumnNs, Is.EqualTo(10));
            Assert.That(o.Ns(1, 0, 1), Is.EqualTo(5));
            Assert.That(o.Ns(1, 1, 1), Is.EqualTo(10));
            Assert.That(o.Ns(1, 2, 1), Is.EqualTo(5));
            Assert.That(o.Ns(1, 1, 0), Is.Zero, "another group's slot");
            Assert.That(o.Ns(0, 1, 1), Is.Zero, "another CPU");
            Assert.That(o.FirstNs, Is.EqualTo(5));
            Assert.That(o.Segments, Is.EqualTo(1));
        });
    }

    [Test]
    public void Add_NoGroupOrAnUnknownOne_GoesToTheLastSlot_AndTimeOutsideTheRunIsCut()
    {
        var o = new TimelineOverview(1, 1000, ["a"]);
        o.Add(0, 0, 1, -1);
        o.Add(0, 0, 1, 7);
        o.Add(0, 995, 2000, 0); // only 995 … 1000 is in the run
        o.Add(3, 0, 10, 0); // no such CPU
        Assert.Multiple(() =>
        {
            Assert.That(o.Ns(0, 0, 1), Is.EqualTo(2));
            Assert.That(o.Ns(0, o.Columns - 1, 0), Is.EqualTo(1)); // the last 1-ns column
            Assert.That(Enumerable.Range(0, o.Columns).Sum(c => o.Ns(0, c, 0)), Is.EqualTo(5));
            Assert.That(o.Segments, Is.EqualTo(3));
        });
    }

    [Test]
    public void ManyCpusAndGroups_GetFewerColumns_WithinTheCellBudget()
    {
        var groups = Enumerable.Range(0, 99).Select(i => $"g{i}").ToList();
        var o = new TimelineOverview(4096, 1_000_000_000, groups);
        Assert.That(o.Columns, Is.EqualTo(20), "2^23 cells over 4096 CPUs × 100 slots");
        Assert.That((long)o.Columns * 4096 * o.Slots, Is.LessThanOrEqualTo(TimelineOverview.MaxCells));
    }

    [Test]
    public void RandomSegments_EveryNanosecondLandsOnce_AndNoColumnHoldsMoreThanItsWidth()
    {
        var random = new Randomizer(20261127);
        for (int round = 0; round < 50; round++)
        {
            int cpus = random.Int(1, 8), groups = random.Int(1, 5);
            long end = random.Long(1_000, 50_000_000);
            var o = new TimelineOverview(cpus, end, [.. Enumerable.Range(0, groups).Select(g => $"g{g}")]);
            var expected = new double[cpus, groups + 1];
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                // Back-to-back segments, as a CPU's are, some past the end of the run.
                long t = 0;
                while (t < end + end / 10)
                {
                    long len = random.Long(1, Math.Max(2, end / 20));
                    int g = random.Int(-1, groups - 1);
                    o.Add(cpu, t, t + len, g);
                    expected[cpu, g < 0 ? groups : g] += Math.Max(0, Math.Min(t + len, end) - t);
                    t += len;
                }
            }
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                for (int slot = 0; slot <= groups; slot++)
                {
                    double sum = Enumerable.Range(0, o.Columns).Sum(c => o.Ns(cpu, c, slot));
                    Assert.That(sum, Is.EqualTo(expected[cpu, slot]).Within(1e-5 * end + 1), $"round {round}, cpu {cpu}, slot {slot}");
                }
                for (int c = 0; c < o.Columns; c++)
                {
                    double busy = Enumerable.Range(0, o.Slots).Sum(k => o.Ns(cpu, c, k));
                    Assert.That(busy, Is.LessThanOrEqualTo(o.ColumnNs * (1 + 1e-6)), $"round {round}, cpu {cpu}, column {c}");
                }
            }
        }
    }
}
