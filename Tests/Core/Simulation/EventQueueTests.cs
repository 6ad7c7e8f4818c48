using BpfSim.Core.Simulation;
using Bogus;

namespace BpfSim.Tests.Core.Simulation;

/// <summary>
/// The timing wheel against a reference ordered set, over random pushes and limited pops, with time spreads from a
/// few nanoseconds (one fine-wheel tick, many equal times) to tens of seconds (several levels).
/// </summary>
[Category("Core")]
public sealed class EventQueueTests
{
    [TestCase(1, 100L)]
    [TestCase(2, 100_000L)]
    [TestCase(3, 50_000_000_000L)]
    [TestCase(4, 3L)]
    [TestCase(5, 10_000L)]        // a few 4 µs ticks: dense, out-of-order buckets spread over the fine wheel
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

    [Test]
    public void PushBeforeTheBase_AfterARefusedPopMovedIt_StillPopsFirst()
    {
        var queue = new EventQueue(16);
        queue.Push(10_000, new EventPayload { Arg = 1 });
        queue.Push(9_000, new EventPayload { Arg = 2 });   // earlier than its tick's last: the tick is spread over the fine wheel
        Assert.That(queue.TryPop(8_500, out _, out _), Is.False, "nothing due by 8.5 us, though the base moved to the tick's start (8,192)");
        queue.Push(8_000, new EventPayload { Arg = 3 });   // after the last pop, before the base: the side heap
        queue.Push(9_000, new EventPayload { Arg = 4 });
        Assert.That(queue.PeekTime(), Is.EqualTo(8_000));
        var popped = new List<(long, long)>();
        while (queue.TryPop(long.MaxValue, out long t, out var p))
        {
            popped.Add((t, p.Arg));
        }
        Assert.That(popped, Is.EqualTo(new[] { (8_000L, 3L), (9_000L, 2L), (9_000L, 4L), (10_000L, 1L) }));
    }
}
