using BpfSim.Core.Simulation;
using Bogus;

namespace BpfSim.Tests.Core.Simulation;

/// <summary>
/// The timing wheel against a reference ordered set, over random pushes and limited pops, with time spreads from a
/// few nanoseconds (one tick, many equal times) to tens of seconds (several levels).
/// </summary>
[Category("Core")]
public sealed class EventQueueTests
{
    [TestCase(1, 100L)]
    [TestCase(2, 100_000L)]
    [TestCase(3, 50_000_000_000L)]
    [TestCase(4, 3L)]
    [TestCase(5, 10_000L)]        // a few 4 µs ticks: dense, out-of-order buckets sorted when reached
    [TestCase(6, 20_000_000L)]    // a TCP run's horizon: level 0 and level 1
    public void RandomPushesAndLimitedPops_MatchReferenceOrder(int seed, long spread)
    {
        var random = new Randomizer(seed);
        var queue = new EventQueue(16);
        var reference = new SortedSet<(long Time, long Seq)>();
        long seq = 0;
        long now = 0;
        for (int step = 0; step < 100_000; step++)
        {
            if (random.Bool(0.55f))
            {
                // Events are never scheduled before the clock; equal times are common with a small spread.
                long t = now + random.Long(0, spread);
                queue.Push(t, new EventPayload { Arg = seq });
                reference.Add((t, seq++));
            }
            else
            {
                long limit = random.Bool(0.2f) ? now + random.Long(0, spread) : long.MaxValue;
                bool popped = queue.TryPop(limit, out long time, out var payload);
                var expected = reference.Count > 0 ? reference.Min : default;
                bool expectPop = reference.Count > 0 && expected.Time <= limit;
                Assert.That(popped, Is.EqualTo(expectPop), $"step {step}");
                if (popped)
                {
                    Assert.That((time, payload.Arg), Is.EqualTo(expected), $"step {step}");
                    reference.Remove(expected);
                    now = time;
                }
                else if (limit != long.MaxValue && limit > now)
                {
                    now = limit; // the clock moves to the limit, as RunUntil does
                }
            }
            Assert.That(queue.Count, Is.EqualTo(reference.Count));
            if (step % 97 == 0)
            {
                Assert.That(queue.PeekTime(), Is.EqualTo(reference.Count > 0 ? reference.Min.Time : null), $"step {step}");
            }
        }
    }

    [TestCase(20)]   // insertion sort
    [TestCase(300)]  // the sort of many keys, equal times ordered by their position
    public void ManyEventsOfOneLaterTick_OutOfOrder_PopByTimeThenSchedulingOrder(int events)
    {
        var random = new Randomizer(events);
        var queue = new EventQueue(16);
        var reference = new SortedSet<(long Time, long Seq)>();
        const long tick = 1_000 * 4_096; // a tick 4 ms ahead: its bucket is not the one being popped
        for (long seq = 0; seq < events; seq++)
        {
            long t = tick + random.Long(0, 40); // few distinct times, so many ties
            queue.Push(t, new EventPayload { Arg = seq });
            reference.Add((t, seq));
        }
        // Half popped, then more of the same tick, some earlier than keys still pending: placed in order.
        for (int i = 0; i < events / 2; i++)
        {
            Assert.That(queue.TryPop(long.MaxValue, out long time, out var payload), Is.True);
            Assert.That((time, payload.Arg), Is.EqualTo(reference.Min));
            reference.Remove(reference.Min);
        }
        long now = reference.Min.Time;
        for (long seq = events; seq < events + events / 2; seq++)
        {
            long t = now + random.Long(0, 40);
            queue.Push(t, new EventPayload { Arg = seq });
            reference.Add((t, seq));
        }
        while (queue.TryPop(long.MaxValue, out long time, out var payload))
        {
            Assert.That((time, payload.Arg), Is.EqualTo(reference.Min));
            reference.Remove(reference.Min);
        }
        Assert.That(reference, Is.Empty);
    }

    [Test]
    public void PushBeforeTheBase_AfterARefusedPopMovedIt_StillPopsFirst()
    {
        var queue = new EventQueue(16);
        queue.Push(20_000_000, new EventPayload { Arg = 1 }); // 20 ms: level 1, level 0 spanning 16.8 ms from 0
        queue.Push(20_000_000, new EventPayload { Arg = 2 });
        Assert.That(queue.TryPop(17_000_000, out _, out _), Is.False,
            "nothing due by 17 ms, though cascading moved the base to the level-1 bucket's start (16.78 ms)");
        queue.Push(16_000_000, new EventPayload { Arg = 3 });  // after the last pop, before the base: the side heap
        queue.Push(18_000_000, new EventPayload { Arg = 4 });
        Assert.That(queue.PeekTime(), Is.EqualTo(16_000_000));
        var popped = new List<(long, long)>();
        while (queue.TryPop(long.MaxValue, out long t, out var p))
        {
            popped.Add((t, p.Arg));
        }
        Assert.That(popped, Is.EqualTo(new[] { (16_000_000L, 3L), (18_000_000L, 4L), (20_000_000L, 1L), (20_000_000L, 2L) }));
    }

    [Test]
    public void ATicksOnlyKey_HeldInTheBucket_KeepsOrderWhenMoreArrive()
    {
        var queue = new EventQueue(16);
        const long tick = 4_096; // the ticks are 4,096 ns: [4096, 8192) is one
        queue.Push(tick + 900, new EventPayload { Arg = 1 });   // alone in its tick: kept in the bucket
        queue.Push(3 * tick + 5, new EventPayload { Arg = 2 }); // alone in a later tick
        Assert.That(queue.PeekTime(), Is.EqualTo(tick + 900));
        Assert.That(queue.TryPop(tick + 899, out _, out _), Is.False, "not due: left where it is");
        Assert.That(queue.PeekTime(), Is.EqualTo(tick + 900));
        queue.Push(tick + 100, new EventPayload { Arg = 3 });   // a second, earlier key: sorted when reached
        queue.Push(tick + 900, new EventPayload { Arg = 4 });   // a tie with the first: after it
        var popped = new List<(long, long)>();
        Assert.That(queue.TryPop(long.MaxValue, out long t0, out var p0), Is.True);
        popped.Add((t0, p0.Arg));
        // In the tick being popped, a key placed behind the one left goes to its place in the order.
        queue.Push(tick + 500, new EventPayload { Arg = 5 });
        while (queue.TryPop(long.MaxValue, out long t, out var p))
        {
            popped.Add((t, p.Arg));
        }
        Assert.That(popped, Is.EqualTo(new[]
        {
            (tick + 100, 3L), (tick + 500, 5L), (tick + 900, 1L), (tick + 900, 4L), (3 * tick + 5, 2L),
        }));
        Assert.That(queue.Count, Is.Zero);
        Assert.That(queue.PeekTime(), Is.Null);
    }
}
