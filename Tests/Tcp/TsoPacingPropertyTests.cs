using Bogus;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>Properties of TSO sizing and pacing over randomized inputs (fixed seeds).</summary>
[Category("Tcp")]
public sealed class TsoPacingPropertyTests
{
    [Test]
    public void TsoAutosize_AlwaysWithinMinTsoSegsAndTheGsoLimits()
    {
        // tcp_tso_segs = min(max(min(rate >> 10 + allowance, gso_max_size) / mss, min_tso), gso_max_segs): at least
        // min_tso (as far as gso_max_segs allows), never above gso_max_segs, nor above gso_max_size / mss unless
        // min_tso asks for more; and never smaller at a higher rate.
        var random = new Randomizer(20261126);
        for (int i = 0; i < 20_000; i++)
        {
            ulong rate = random.Number(0, 3) switch
            {
                0 => ulong.MaxValue,
                1 => random.ULong(0, 10_000_000),
                _ => random.ULong(),
            };
            uint minRtt = random.Bool() ? ~0u : random.UInt(0, 40_000);
            uint mss = random.UInt(88, 9000);
            uint minTso = random.UInt(0, 70);
            uint gsoMaxSegs = random.Bool() ? TcpStack.GsoMaxSegs : random.UInt(1, 64);
            uint segs = Math.Min(TcpStack.TsoAutosize(rate, minRtt, mss, minTso), gsoMaxSegs);
            string input = $"rate {rate}, min_rtt {minRtt}, mss {mss}, min_tso {minTso}, gso_max_segs {gsoMaxSegs}";
            Assert.That(segs, Is.InRange(Math.Min(minTso, gsoMaxSegs), gsoMaxSegs), input);
            Assert.That(segs, Is.LessThanOrEqualTo(Math.Max(TcpStack.GsoMaxSize / mss, minTso)), input);
            if (rate < ulong.MaxValue)
            {
                Assert.That(TcpStack.TsoAutosize(rate + 1, minRtt, mss, minTso), Is.GreaterThanOrEqualTo(TcpStack.TsoAutosize(rate, minRtt, mss, minTso)), input);
            }
        }
    }

    [Test]
    public void PacedFlow_PayloadByAnyDepartureWithinRateTimesTime()
    {
        // A flow that is never short of window leaves each skb exactly at tcp_wstamp_ns, so the payload that has left
        // by any departure t is rate × (t − t0) give or take: never more than rate·T plus the unpaced first ten
        // segments, the skb leaving at t and the one credit there is (the first paced skb's: tcp_wstamp_ns was last
        // set by the handshake, so up to half an skb's delay is taken off); never less than rate·T minus an skb.
        var random = new Randomizer(7);
        for (int run = 0; run < 12; run++)
        {
            ulong rate = random.ULong(200_000, 50_000_000);
            bool tso = random.Bool();
            var (sc, path, flow) = FixedRatePacer.Start(rate, tso);
            sc.RunFor(random.Double(0.2, 0.6));
            var d = path.Data;
            Assert.That(d, Has.Count.GreaterThan(20));
            long maxSkb = (long)sc.Stack.Sock(flow.Id).TsoSegs * 1448;
            long t0 = d[0].TimeNs;
            long sent = 0;
            string input = $"rate {rate} B/s, tso {tso}";
            foreach (var x in d)
            {
                sent += x.Payload;
                double allowed = rate * ((x.TimeNs - t0) / 1e9);
                Assert.That(sent, Is.LessThanOrEqualTo(allowed + 10 * 1448 + maxSkb + maxSkb / 2), input);
                Assert.That(sent, Is.GreaterThanOrEqualTo(allowed - maxSkb), input);
            }
        }
    }
}
