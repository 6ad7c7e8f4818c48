using BpfSim.Core.Simulation;
using Bogus;

namespace BpfSim.Tests.Core.Simulation;

[Category("Core")]
public sealed class SimulatorTests
{
    private sealed class Recorder : IEventHandler
    {
        public readonly List<(long T, int Kind, long Arg)> Seen = [];
        public Simulator? Sim;

        public void OnEvent(int kind, long arg) => Seen.Add((Sim!.Now.Nanoseconds, kind, arg));
    }

    private static (Simulator, Recorder, HandlerId) Make()
    {
        var sim = new Simulator(4);
        var rec = new Recorder { Sim = sim };
        return (sim, rec, sim.Register(rec));
    }

    [Test]
    public void RunUntil_DispatchesInTimeOrder()
    {
        var (sim, rec, h) = Make();
        sim.Schedule(new SimTime(30), h, 3);
        sim.Schedule(new SimTime(10), h, 1);
        sim.Schedule(new SimTime(20), h, 2);
        sim.RunUntil(new SimTime(100));
        Assert.That(rec.Seen.Select(e => e.Kind), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(sim.Now, Is.EqualTo(new SimTime(100)));
    }

    [Test]
    public void SameTime_EventsRunInSchedulingOrder()
    {
        var (sim, rec, h) = Make();
        for (int i = 0; i < 50; i++)
        {
            sim.Schedule(new SimTime(5), h, 0, i);
        }
        sim.RunUntil(new SimTime(5));
        Assert.That(rec.Seen.Select(e => e.Arg), Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)));
    }

    [Test]
    public void RunUntil_LeavesLaterEventsQueued()
    {
        var (sim, rec, h) = Make();
        sim.Schedule(new SimTime(10), h, 1);
        sim.Schedule(new SimTime(50), h, 2);
        Assert.That(sim.RunUntil(new SimTime(20)), Is.EqualTo(1));
        Assert.That(sim.Pending, Is.EqualTo(1));
        sim.RunUntil(new SimTime(50));
        Assert.That(rec.Seen.Select(e => e.Kind), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void CancelledTimer_DoesNotFire()
    {
        var (sim, rec, h) = Make();
        var timer = sim.CreateTimer(h, 7);
        sim.Arm(timer, new SimTime(10));
        sim.Cancel(timer);
        sim.RunUntil(new SimTime(100));
        Assert.That(rec.Seen, Is.Empty);
        Assert.That(sim.IsArmed(timer), Is.False);
    }

    [Test]
    public void RearmedTimer_FiresOnceAtLatestTime()
    {
        var (sim, rec, h) = Make();
        var timer = sim.CreateTimer(h, 7);
        sim.Arm(timer, new SimTime(10), 1);
        sim.Arm(timer, new SimTime(40), 2);
        sim.Arm(timer, new SimTime(25), 3);
        sim.RunUntil(new SimTime(100));
        Assert.That(rec.Seen, Is.EqualTo(new[] { (25L, 7, 3L) }));
        Assert.That(sim.EventsDispatched, Is.EqualTo(1), "stale timer entries are not dispatched");
    }

    [Test]
    public void TimerRearmedLater_KeepsOneQueueEntryAndFiresAtLastTimeWithLastArg()
    {
        var (sim, rec, h) = Make();
        var timer = sim.CreateTimer(h, 7);
        for (int i = 1; i <= 100; i++)
        {
            sim.Arm(timer, new SimTime(10 * i), i);
            sim.Cancel(timer);
            sim.Arm(timer, new SimTime(10 * i), i);
        }
        Assert.That(sim.Pending, Is.EqualTo(1), "re-arming later keeps the one live entry");
        sim.RunUntil(new SimTime(5000));
        Assert.That(rec.Seen, Is.EqualTo(new[] { (1000L, 7, 100L) }));
        Assert.That(sim.IsArmed(timer), Is.False);
        Assert.That(sim.Pending, Is.Zero);
    }

    [Test]
    public void TimerRearmedLater_RunsAmongSameTimeEventsFromWhenItRequeued()
    {
        var (sim, rec, h) = Make();
        var timer = sim.CreateTimer(h, 7);
        sim.Arm(timer, new SimTime(10), 1);
        sim.Arm(timer, new SimTime(20), 2);          // keeps the entry at 10, which re-queues itself for 20 at 10
        sim.Schedule(new SimTime(20), h, 1);          // scheduled before that: runs first
        sim.Schedule(new SimTime(5), h, 0);
        sim.RunUntil(new SimTime(7));
        sim.Schedule(new SimTime(20), h, 2);          // scheduled at 7, before the re-queue at 10: runs before the timer
        sim.RunUntil(new SimTime(15));
        sim.Schedule(new SimTime(20), h, 3);          // scheduled after the re-queue: runs after the timer
        sim.RunUntil(new SimTime(100));
        Assert.That(rec.Seen.Select(e => (e.T, e.Kind)), Is.EqualTo(new[] { (5L, 0), (20L, 1), (20L, 2), (20L, 7), (20L, 3) }));
    }

    [Test]
    public void RandomTimerOperations_FireAsAReferenceModelSays()
    {
        var faker = new Faker { Random = new Randomizer(20261122) };
        var (sim, rec, h) = Make();
        const int timers = 5;
        var ids = Enumerable.Range(0, timers).Select(k => sim.CreateTimer(h, k)).ToArray();
        var armed = new (long Due, long Arg)?[timers];
        var expected = new List<(long T, int Kind, long Arg)>();
        long now = 0;
        for (int step = 0; step < 5000; step++)
        {
            int k = faker.Random.Int(0, timers - 1);
            switch (faker.Random.Int(0, 3))
            {
                case 0:
                case 1:
                    long due = now + faker.Random.Long(0, 200);
                    sim.Arm(ids[k], new SimTime(due), step);
                    armed[k] = (due, step);
                    break;
                case 2:
                    sim.Cancel(ids[k]);
                    armed[k] = null;
                    break;
                default:
                    now += faker.Random.Long(0, 100);
                    for (int j = 0; j < timers; j++)
                    {
                        if (armed[j] is { } a && a.Due <= now)
                        {
                            expected.Add((a.Due, j, a.Arg));
                            armed[j] = null;
                        }
                    }
                    sim.RunUntil(new SimTime(now));
                    break;
            }
            for (int j = 0; j < timers; j++)
            {
                Assert.That(sim.IsArmed(ids[j]), Is.EqualTo(armed[j] is not null), $"step {step}, timer {j}");
            }
        }
        Assert.That(rec.Seen.OrderBy(e => e.T).ThenBy(e => e.Kind), Is.EqualTo(expected.OrderBy(e => e.T).ThenBy(e => e.Kind)));
        Assert.That(rec.Seen.Select(e => e.T), Is.Ordered, "timers fire in time order");
    }

    [Test]
    public void Schedule_InThePast_Throws()
    {
        var (sim, _, h) = Make();
        sim.RunUntil(new SimTime(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Schedule(new SimTime(50), h, 0));
    }

    [Test]
    public void Stop_ReturnsAfterCurrentEvent()
    {
        var sim = new Simulator();
        int ran = 0;
        sim.Schedule(new SimTime(1), () => { ran++; sim.Stop(); });
        sim.Schedule(new SimTime(2), () => ran++);
        sim.RunUntil(new SimTime(10));
        Assert.That(ran, Is.EqualTo(1));
        Assert.That(sim.Now, Is.EqualTo(new SimTime(1)));
    }

    [Test]
    public void RunWhile_TimesOutAtDeadlineAndAdvancesClock()
    {
        var sim = new Simulator();
        bool done = false;
        sim.Schedule(new SimTime(500), () => done = true);
        Assert.That(sim.RunWhile(() => !done, new SimTime(100)), Is.False);
        Assert.That(sim.Now, Is.EqualTo(new SimTime(100)));
        Assert.That(sim.RunWhile(() => !done, new SimTime(1000)), Is.True);
        Assert.That(sim.Now, Is.EqualTo(new SimTime(500)));
    }

    [Test]
    public void RandomSchedules_DispatchSortedByTimeThenSequence()
    {
        var random = new Randomizer(7);
        var (sim, rec, h) = Make();
        var expected = new List<(long, long)>();
        for (int i = 0; i < 20_000; i++)
        {
            long t = random.Long(0, 1000);
            sim.Schedule(new SimTime(t), h, 0, i);
            expected.Add((t, i));
        }
        sim.RunUntil(new SimTime(1000));
        var ordered = expected.OrderBy(e => e.Item1).ThenBy(e => e.Item2).Select(e => e.Item2);
        Assert.That(rec.Seen.Select(e => e.Arg), Is.EqualTo(ordered));
    }

    [Test]
    public void InterleavedScheduleAndDispatch_MatchesReferenceQueue()
    {
        // Events scheduled from handlers (the normal case) still come out in (time, sequence) order.
        var random = new Randomizer(11);
        var sim = new Simulator(4);
        var times = new List<long>();
        long last = 0;
        void Fire()
        {
            Assert.That(sim.Now.Nanoseconds, Is.GreaterThanOrEqualTo(last));
            last = sim.Now.Nanoseconds;
            times.Add(last);
            if (times.Count < 5000)
            {
                int n = random.Int(0, 3);
                for (int i = 0; i < n; i++)
                {
                    sim.Schedule(sim.Now + new SimTime(random.Long(0, 100)), Fire);
                }
            }
        }
        sim.Schedule(SimTime.Zero, Fire);
        sim.RunUntil(SimTime.MaxValue);
        Assert.That(times, Is.Ordered);
    }

    private sealed class PrefetchRecorder : IEventHandler, IEventPrefetcher
    {
        public readonly List<string> Log = [];

        public void OnEvent(int kind, long arg) => Log.Add($"run {arg}");

        public void Prefetch(int kind, long arg, int distance) => Log.Add($"prefetch {arg} at {distance}");
    }

    [Test]
    public void Prefetcher_IsAskedAboutTheNextEventsOfTheTick_AtEachDistance_BeforeTheCurrentRuns_WithoutChangingTheOrder()
    {
        var sim = new Simulator { PrefetchHints = true };
        var handler = new PrefetchRecorder();
        var id = sim.Register(handler);
        // Five events within one 4.096 µs tick, scheduled out of order, and one in a later tick.
        foreach (long t in new long[] { 300, 100, 500, 200, 400 })
        {
            sim.Schedule(new SimTime(t), id, 0, t / 100);
        }
        sim.Schedule(new SimTime(50_000), id, 0, 6);
        sim.RunUntil(SimTime.MaxValue);
        Assert.That(handler.Log, Is.EqualTo(new[]
        {
            // Before 1 runs: 2, 3 and 4 are the next three, nearest first; then each moves one step nearer.
            "prefetch 2 at 1", "prefetch 3 at 2", "prefetch 4 at 3", "run 1",
            "prefetch 3 at 1", "prefetch 4 at 2", "prefetch 5 at 3", "run 2",
            "prefetch 4 at 1", "prefetch 5 at 2", "run 3",
            "prefetch 5 at 1", "run 4",
            "run 5", "run 6",
        }));
    }

    [Test]
    public void Prefetcher_IsNotAsked_WhileHintsAreOff()
    {
        var sim = new Simulator();
        var handler = new PrefetchRecorder();
        var id = sim.Register(handler);
        foreach (long t in new long[] { 300, 100, 200 })
        {
            sim.Schedule(new SimTime(t), id, 0, t / 100);
        }
        sim.RunUntil(SimTime.MaxValue);
        Assert.That(handler.Log, Is.EqualTo(new[] { "run 1", "run 2", "run 3" }));
    }
}
