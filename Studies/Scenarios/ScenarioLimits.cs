namespace BpfSim.Studies.Scenarios;

/// <summary>
/// The bounds a scenario file is checked against before anything is built (docs/scenarios.md, "Limits"). Each one
/// keeps a hostile or mistyped file from crashing the reader or the simulator instead of being reported.
/// </summary>
public static class ScenarioLimits
{
    /// <summary>File size: a scenario is a page of YAML; 1 MiB is thousands of flow groups.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Nesting of YAML collections: a scenario needs 4; deep nesting only serves to exhaust the reader's stack.</summary>
    public const int MaxDepth = 64;

    /// <summary>Nodes of the document with every alias expanded: stops alias bombs (billion laughs).</summary>
    public const long MaxExpandedNodes = 100_000;

    /// <summary>
    /// Any time (duration, at, start, delays, intervals): 10^6 s, about 11.6 days. Simulated time is a 64-bit count
    /// of nanoseconds (about 292 years); the bound leaves room for sums of times (start + delays + backed-off RTOs)
    /// never to overflow, and is far beyond what a packet-level run can simulate anyway.
    /// </summary>
    public const long MaxSeconds = 1_000_000;

    /// <summary>
    /// Link rates: 1 Tbit/s. A 1500-byte packet takes 12 ns there; much faster links round serialisation to
    /// nothing, and the events per simulated second grow with the rate.
    /// </summary>
    public const long MaxRateBps = 1_000_000_000_000;

    /// <summary>Flows in one group (<c>count</c>): the memory estimate bounds the total; this catches typos early.</summary>
    public const int MaxCount = 1_000_000;

    /// <summary>Poisson arrivals per second: one per microsecond.</summary>
    public const double MaxArrivalRate = 1_000_000;

    /// <summary>Parking-lot hops: each is a router, a link and its queue.</summary>
    public const int MaxHops = 1024;

    /// <summary>
    /// Queue limit: 10^6 packets (or 1.5 GB with limit_bytes), 12 s of a 1 Gbit/s link. A full queue holds every
    /// packet in memory.
    /// </summary>
    public const int MaxQueuePackets = 1_000_000;

    /// <summary>Smallest sample interval: 1 ms (every sample stores a row per flow; the estimate bounds the total).</summary>
    public const long MinSampleIntervalNs = 1_000_000;

    /// <summary>Smallest on/off interval: 1 µs (each interval is an event per flow; the estimate counts them).</summary>
    public const long MinWriteIntervalNs = 1_000;

    /// <summary>FCT size-bin edges (<c>fct_bins</c>): 32, more bins than any table or plot of them can show.</summary>
    public const int MaxFctBins = 32;
}
