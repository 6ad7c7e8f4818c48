using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Metrics;

/// <summary>
/// The steady-state window a run's comparable numbers are measured over (<c>measure_from</c> … <c>measure_to</c>),
/// as ns-3 and Pantheon studies discard a warm-up: goodput counts the bytes acknowledged inside it, rates
/// (utilization, queue mean, loss rate) are taken over it, and fairness compares the flows that ran in it.
/// </summary>
/// <param name="From">Start (inclusive).</param>
/// <param name="To">End (inclusive of events at that instant).</param>
public readonly record struct MeasureWindow(SimTime From, SimTime To)
{
    /// <summary>The window's length in seconds.</summary>
    public double Seconds => (To - From).TotalSeconds;

    /// <summary>Whether <paramref name="t"/> lies in the window.</summary>
    public bool Contains(SimTime t) => t >= From && t <= To;

    /// <summary>
    /// The part of a life from <paramref name="start"/> to <paramref name="end"/> inside the window, in seconds (0 when
    /// the two do not overlap).
    /// </summary>
    public double OverlapSeconds(SimTime start, SimTime end)
    {
        long from = Math.Max(start.Nanoseconds, From.Nanoseconds);
        long to = Math.Min(end.Nanoseconds, To.Nanoseconds);
        return to > from ? (to - from) / 1e9 : 0;
    }
}
