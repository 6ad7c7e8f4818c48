using Bogus;
using BpfSim.Scheduler.Fair;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// The per-CPU timeline against a sorted list: with hundreds of entities (so blocks split and merge) and many equal
/// deadlines, its first entity and its first eligible entity are the list's, in (deadline, insertion order).
/// </summary>
public sealed class CfsTimelineTests
{
    private readonly record struct Entry(int Id, ulong Deadline, ulong Vruntime, ulong Seq);

    [Test]
    public void FirstAndFirstEligible_MatchASortedList_ThroughSplitsAndMerges()
    {
        var random = new Randomizer(20261126);
        var timeline = new CfsTimeline();
        var list = new List<Entry>();
        var queued = new HashSet<int>();
        ulong seq = 0;
        ulong zero = ulong.MaxValue - 30_000; // keys on both sides of the wrap
        int checks = 0;
        for (int step = 0; step < 20_000; step++)
        {
            // Grow to ~400 entities, drain to a few, grow again: every split and merge path runs.
            int target = (step / 2_500) % 2 == 0 ? 400 : 3;
            bool insert = queued.Count == 0 || (queued.Count < target ? random.Int(0, 9) < 7 : random.Int(0, 9) < 3);
            if (insert)
            {
                int id = random.Int(0, 999);
                if (!queued.Add(id))
                {
                    continue;
                }
                // Few distinct deadlines, so ties (ordered by insertion) run across block boundaries.
                ulong deadline = zero + (ulong)(random.Int(0, 60) * 1000);
                ulong vruntime = zero + (ulong)random.Long(-50_000, 50_000);
                var e = new Entry(id, deadline, vruntime, ++seq);
                timeline.Insert(e.Id, e.Deadline, e.Vruntime);
                list.Add(e);
            }
            else
            {
                var e = list[random.Int(0, list.Count - 1)];
                timeline.Remove(e.Id, e.Deadline);
                list.Remove(e);
                queued.Remove(e.Id);
            }
            list.Sort((a, b) => a.Deadline != b.Deadline ? ((long)(a.Deadline - b.Deadline)).CompareTo(0) : a.Seq.CompareTo(b.Seq));
            Assert.That(timeline.Count, Is.EqualTo(list.Count));
            Assert.That(timeline.First, Is.EqualTo(list.Count == 0 ? -1 : list[0].Id), $"first, step {step}");
            long load = random.Int(1, 5000);
            long avg = random.Long(-60_000, 60_000) * load;
            int expected = list.FindIndex(x => avg >= (long)(x.Vruntime - zero) * load);
            Assert.That(timeline.FirstEligible(avg, load, zero, out ulong firstDeadline), Is.EqualTo(expected < 0 ? -1 : list[expected].Id), $"eligible, step {step}");
            if (expected >= 0)
            {
                Assert.That(firstDeadline, Is.EqualTo(list[expected].Deadline));
            }
            checks++;
        }
        Assert.That(checks, Is.GreaterThan(15_000));
    }

    [Test]
    public void Remove_OfAnEntityNotQueued_Throws()
    {
        var timeline = new CfsTimeline();
        timeline.Insert(1, 100, 5);
        Assert.Throws<InvalidOperationException>(() => timeline.Remove(2, 100));
    }
}
