using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// The fair class keeps se->sched_delayed also as a bit per task (pick_task_fair reads the bit, not the picked task's
/// entity): through random sleeps, wake-ups (of delayed tasks too) and runs, the bit always equals the entity's byte.
/// </summary>
public sealed class DelayedBitsTests
{
    private const long Ms = 1_000_000;

    [Test]
    public void RandomSleepsAndWakeups_BitAlwaysEqualsTheEntitysSchedDelayed()
    {
        var core = new FairTestCore(2);
        var ids = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            ids.Add(core.Fork($"t{i}", nice: i % 3 - 1));
        }
        var random = new Random(24);
        int delayedSeen = 0, delayedWoken = 0;
        for (int step = 0; step < 4000; step++)
        {
            if (step % 1000 == 999)
            {
                // Forks while others are delayed: ids past 63 need the bitmap's next word, which grows meanwhile.
                for (int i = 0; i < 25; i++)
                {
                    ids.Add(core.Fork($"t{ids.Count}", nice: ids.Count % 3 - 1));
                }
            }
            int action = random.Next(3);
            if (action == 0)
            {
                core.RunFor(random.Next(1, 8) * Ms / 4);
            }
            else if (action == 1)
            {
                int curr = core.Current(random.Next(2));
                if (curr >= 0)
                {
                    core.Sleep(curr);
                }
            }
            else
            {
                int id = ids[random.Next(ids.Count)];
                if (core.Tasks[id].State == (uint)TaskState.Interruptible)
                {
                    delayedWoken += core.Tasks[id].Se.SchedDelayed;
                    core.Wake(id);
                }
            }
            foreach (int id in ids)
            {
                byte delayed = core.Tasks[id].Se.SchedDelayed;
                delayedSeen += delayed;
                Assert.That(core.Fair.IsDelayed(id), Is.EqualTo(delayed != 0), $"step {step}, task {id}");
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(ids.Max(), Is.GreaterThan(64), "ids reached the bitmap's second word");
            Assert.That(delayedSeen, Is.GreaterThan(100), "DELAY_DEQUEUE kept sleepers queued");
            Assert.That(delayedWoken, Is.GreaterThan(10), "delayed tasks were woken (requeue_delayed_entity)");
        });
    }
}
