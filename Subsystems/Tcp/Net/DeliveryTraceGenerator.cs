using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Makes Mahimahi delivery traces (<see cref="DeliveryTrace"/>) from a rate that changes over time: the shipped traces
/// in scenarios/traces (tools/gen-traces.sh) and tests. Everything is integer arithmetic or a seeded
/// <see cref="SimRandom"/>, so the same arguments give the same trace byte for byte.
/// </summary>
public static class DeliveryTraceGenerator
{
    /// <summary>One MTU in bits: what one line of a trace delivers.</summary>
    private const long BitsPerLine = DeliveryTrace.MtuBytes * 8;

    /// <summary>
    /// A trace whose rate is <paramref name="rateBps"/>(ms) in each millisecond 1 … <paramref name="periodMs"/>: the
    /// lines of a millisecond are as many MTUs as the rate has earned by its end (a running credit, so 6 Mbit/s is a
    /// line every other millisecond). The last millisecond always gets a line, so the trace loops after exactly
    /// <paramref name="periodMs"/> (mm-link's period is the last value).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The period is not positive, or a rate is negative.</exception>
    public static DeliveryTrace FromRate(Func<long, long> rateBps, long periodMs, string source)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periodMs);
        var ms = new List<long>();
        long credit = 0; // in bit-milliseconds per second: a millisecond at r bit/s earns r
        for (long m = 1; m <= periodMs; m++)
        {
            long r = rateBps(m - 1);
            ArgumentOutOfRangeException.ThrowIfNegative(r, nameof(rateBps));
            credit += r;
            for (; credit >= BitsPerLine * 1000; credit -= BitsPerLine * 1000)
            {
                ms.Add(m);
            }
        }
        if (ms.Count == 0 || ms[^1] != periodMs)
        {
            ms.Add(periodMs);
        }
        return DeliveryTrace.FromMilliseconds(ms, source);
    }

    /// <summary>A constant rate over a period of <paramref name="periodMs"/>.</summary>
    public static DeliveryTrace Constant(long rateBps, long periodMs, string source) => FromRate(_ => rateBps, periodMs, source);

    /// <summary>
    /// A trace in steps: each (<c>UntilMs</c>, <c>RateBps</c>) holds its rate up to its end; the last step's end is the
    /// period.
    /// </summary>
    /// <exception cref="ArgumentException">No steps, or their ends do not increase.</exception>
    public static DeliveryTrace Steps(IReadOnlyList<(long UntilMs, long RateBps)> steps, string source)
    {
        if (steps.Count == 0 || steps.Zip(steps.Skip(1)).Any(p => p.Second.UntilMs <= p.First.UntilMs) || steps[0].UntilMs <= 0)
        {
            throw new ArgumentException("steps need increasing, positive ends", nameof(steps));
        }
        return FromRate(ms => steps.First(s => ms < s.UntilMs).RateBps, steps[^1].UntilMs, source);
    }

    /// <summary>
    /// A cellular-like trace from a Markov-modulated Poisson process: the rate is one of
    /// <paramref name="stateRatesBps"/>; every <paramref name="dwellMs"/> it moves one state down or up with
    /// probability <paramref name="moveProbability"/> each (reflecting at the ends) or stays; within a millisecond the
    /// number of opportunities is Poisson with the state's mean. The model of cellular links the Sprout paper
    /// (Winstein et al., NSDI 2013) fits to Saturator traces is of this kind: a Poisson delivery process whose rate
    /// wanders; the numbers here are ours, not fitted to a network.
    /// </summary>
    /// <exception cref="ArgumentException">No states, a negative rate, or a probability outside [0, 0.5].</exception>
    public static DeliveryTrace MarkovModulated(ulong seed, string stream, IReadOnlyList<long> stateRatesBps, long dwellMs,
        double moveProbability, long periodMs, string source)
    {
        if (stateRatesBps.Count == 0 || stateRatesBps.Any(r => r < 0) || moveProbability is < 0 or > 0.5)
        {
            throw new ArgumentException("states need non-negative rates and the move probability must be in [0, 0.5]");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dwellMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periodMs);
        var random = SimRandom.For(seed, stream);
        int state = stateRatesBps.Count / 2;
        var ms = new List<long>();
        for (long m = 1; m <= periodMs; m++)
        {
            if ((m - 1) % dwellMs == 0 && m > 1)
            {
                double u = random.NextDouble();
                if (u < moveProbability)
                {
                    state = state == 0 ? 1 : state - 1;
                }
                else if (u < 2 * moveProbability)
                {
                    state = state == stateRatesBps.Count - 1 ? state - 1 : state + 1;
                }
                state = Math.Clamp(state, 0, stateRatesBps.Count - 1);
            }
            double mean = stateRatesBps[state] / (double)(BitsPerLine * 1000);
            for (int k = Poisson(random, mean); k > 0; k--)
            {
                ms.Add(m);
            }
        }
        if (ms.Count == 0 || ms[^1] != periodMs)
        {
            ms.Add(periodMs);
        }
        return DeliveryTrace.FromMilliseconds(ms, source);
    }

    /// <summary>A Poisson draw by inversion (Knuth): fine for the small means of one millisecond.</summary>
    private static int Poisson(SimRandom random, double mean)
    {
        double limit = Math.Exp(-mean), product = random.NextDouble();
        int k = 0;
        while (product > limit)
        {
            k++;
            product *= random.NextDouble();
        }
        return k;
    }
}
