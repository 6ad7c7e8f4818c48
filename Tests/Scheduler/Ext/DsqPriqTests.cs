using Bogus;
using BpfSim.Scheduler.Ext;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>
/// A DSQ's vtime queue against a sorted list: with hundreds of tasks (so blocks split and merge) and many equal
/// vtimes, an insert returns the list's predecessor of the new vtime (the last task whose vtime is not after it, in
/// (vtime, insertion order): its rb_prev).
/// </summary>
public sealed class DsqPriqTests
{
    private readonly record struct Entry(int Id, ulong Key, ulong Order);

    [Test]
    public void Insert_ReturnsTheSortedListsPredecessor_ThroughSplitsAndMerges()
    {
        var random = new Randomizer(20261126);
        var queue = new DsqPriq();
        var list = new List<Entry>();
        var queued = new HashSet<int>();
        ulong order = 0;
        ulong zero = ulong.MaxValue - 30_000; // vtimes across the wrap: time_before64 compares signed differences
        for (int step = 0; step < 20_000; step++)
        {
            int target = (step / 2_500) % 2 == 0 ? 600 : 3;
            bool insert = queued.Count == 0 || (queued.Count < target ? random.Int(0, 9) < 7 : random.Int(0, 9) < 3);
            ulong vtime = zero + (ulong)(random.Int(0, 80) * 1000);
            var sorted = list.OrderBy(x => (long)(x.Key - zero)).ThenBy(x => x.Order).ToList();
            int expected = sorted.FindLastIndex(x => (long)(vtime - x.Key) >= 0);
            int predecessor = expected < 0 ? -1 : sorted[expected].Id;
            if (insert)
            {
                int id = random.Int(0, 1999);
                if (!queued.Add(id))
                {
                    continue;
                }
                var e = new Entry(id, vtime, ++order);
                Assert.That(queue.Insert(e.Id, e.Key), Is.EqualTo(predecessor), $"step {step}: the insert's rb_prev");
                list.Add(e);
            }
            else
            {
                var e = list[random.Int(0, list.Count - 1)];
                queue.Remove(e.Id, e.Key);
                list.Remove(e);
                queued.Remove(e.Id);
            }
            Assert.That(queue.Count, Is.EqualTo(list.Count));
        }
    }

    [Test]
    public void Remove_OfATaskNotQueued_Throws()
    {
        var queue = new DsqPriq();
        queue.Insert(1, 100);
        Assert.Throws<InvalidOperationException>(() => queue.Remove(2, 100));
    }
}
