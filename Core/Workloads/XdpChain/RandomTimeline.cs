using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A seeded random timeline for a component: start, then replace or stop (and start again after a stop) at
/// exponentially distributed gaps, so components change at arbitrary and often overlapping moments.
/// </summary>
public static class RandomTimeline
{
    /// <summary>
    /// <paramref name="actions"/> actions from <paramref name="from"/> on, with gaps of mean <paramref name="meanGap"/>;
    /// a running component replaces with probability 2/3 and stops otherwise, a stopped one starts. Versions are
    /// drawn among <paramref name="versions"/>, never the running one.
    /// </summary>
    public static IReadOnlyList<ComponentActionSpec> Generate(SimRandom random, int versions, int actions, SimTime from, SimTime meanGap)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(versions);
        ArgumentOutOfRangeException.ThrowIfNegative(actions);
        var list = new List<ComponentActionSpec>(actions);
        var at = from;
        int current = -1;
        for (int i = 0; i < actions; i++)
        {
            at += new SimTime(1 + (long)random.NextExponential(meanGap.Nanoseconds));
            if (current < 0)
            {
                current = random.Next(versions);
                list.Add(new ComponentActionSpec(at, ComponentActionKind.Start, current));
            }
            else if (versions > 1 && random.Next(3) < 2)
            {
                int next = (current + 1 + random.Next(versions - 1)) % versions;
                list.Add(new ComponentActionSpec(at, ComponentActionKind.Replace, next));
                current = next;
            }
            else
            {
                list.Add(new ComponentActionSpec(at, ComponentActionKind.Stop));
                current = -1;
            }
        }
        return list;
    }
}
