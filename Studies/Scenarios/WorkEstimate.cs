using System.Globalization;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// What a run of a scenario will cost, estimated from the scenario alone before anything is built: flows, events,
/// samples, memory and wall time. <c>run</c> refuses a scenario whose memory estimate exceeds <see cref="BudgetBytes"/>
/// (exit 2, with the estimate) instead of failing with an OutOfMemoryException hours in, and shows progress when the
/// wall-time estimate is long; <c>validate</c> prints it (docs/scenarios.md, "Limits").
/// </summary>
/// <remarks>
/// The constants are measurements (docs/performance.md): ~10 KB per flow at peak (7.1 KB per idle flow plus what
/// an active one holds, and a few hundred bytes for its one-way-delay histogram), 4 bytes per sampled value (of the
/// sampled flows only: <see cref="TcpScenarioSpec.TimeSeriesFlows"/>), about 6 events per data packet, and a bottleneck cannot carry
/// more than its rate in 1500-byte packets. They aim to be right within a factor of two, erring high.
/// </remarks>
public sealed record WorkEstimate(double Flows, double Events, double Samples, double MemoryBytes, double WallSeconds) : IRunEstimate
{
    public const double BytesPerFlow = 15_000;
    public const double BytesBase = 64 << 20;
    public const double BytesPerQueuedPacket = 72;
    public const double EventsPerPacket = 8;
    public const double EventsPerFlow = 40;
    public const double PacketBits = 1500 * 8;
    /// <summary>
    /// Events per wall second with few flows: 9.5 M measured at 10 flows (docs/performance.md, "Many flows"), taken
    /// at about half for slower machines and busy ones.
    /// </summary>
    public const double EventsPerWallSecond = 5e6;

    /// <summary>
    /// Events per wall second once the flows' state has outgrown the caches (10,000 flows and more: each event then
    /// waits on a few cache misses; 3.7–4 M measured at 10,000 and 100,000 flows, docs/performance.md, "Many flows"),
    /// taken at about half as above. Between, the rate is interpolated.
    /// </summary>
    public const double ManyFlowsEventsPerWallSecond = 2.5e6;
    public const double FlowsPerWallSecond = 50_000;

    /// <summary>
    /// The memory a run may use: three quarters of what the runtime reports available to this process (which
    /// honours container limits), leaving room for the runtime and for writing the outputs.
    /// </summary>
    public static double BudgetBytes { get; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * BudgetFraction;

    /// <summary>The share of the memory available to the process a run may use.</summary>
    public const double BudgetFraction = 0.75;

    /// <summary>A run's estimate wall time above which <c>run</c> reports progress when not on a terminal.</summary>
    public const double ProgressAfterSeconds = 10;

    public bool Fits => MemoryBytes <= BudgetBytes;

    /// <summary>Estimates a run of <paramref name="spec"/> to its duration.</summary>
    public static WorkEstimate For(TcpScenarioSpec spec)
    {
        double duration = spec.Duration.TotalSeconds;
        double flows = 0, writes = 0;
        foreach (var f in spec.Flows)
        {
            double end = Math.Min((f.Stop ?? spec.Duration).TotalSeconds, duration);
            double active = Math.Max(0, end - f.Start.TotalSeconds);
            double n = f.Arrivals == ArrivalKind.Poisson ? f.Rate * active : f.Count;
            flows += n;
            if (f.Writes is { } w)
            {
                writes += n * active / w.Interval.TotalSeconds; // one application write per interval
            }
        }
        var net = spec.Network;
        int bottlenecks = net.Topology == TopologyKind.ParkingLot ? net.Hops : 1;
        // Data packets: no more than the bottlenecks carry at their rate in full-size packets (ACKs and the access
        // links are in the events per packet).
        // A trace-driven bottleneck carries its trace's mean rate; changes may raise the rate for part of the run.
        double rate = Math.Max(net.Mahimahi?.MeanRateBps ?? net.BottleneckRateBps, net.Changes.Select(c => (double)(c.RateBps ?? 0)).DefaultIfEmpty(0).Max());
        double packets = bottlenecks * (rate / PacketBits) * duration;
        double samples = Math.Floor(duration / spec.SampleInterval.TotalSeconds) + 1;
        int links = bottlenecks;
        double sampledValues = samples * (Math.Min(flows, spec.TimeSeriesFlows) * TcpSampler.FlowMetrics.Length + links * TcpSampler.LinkMetrics.Length);
        double queueLimit = net.Queue.Limit > 0 ? net.Queue.Limit : net.Queue.LimitBytes / 1500.0;
        double events = packets * EventsPerPacket + flows * EventsPerFlow + writes * 2 + samples;
        double memory = BytesBase + flows * BytesPerFlow + sampledValues * sizeof(float) + bottlenecks * queueLimit * BytesPerQueuedPacket;
        double eventRate = Math.Max(ManyFlowsEventsPerWallSecond, EventsPerWallSecond / (1 + flows / 10_000));
        double wall = events / eventRate + flows / FlowsPerWallSecond + sampledValues / 1e8;
        return new WorkEstimate(flows, events, samples, memory, wall);
    }

    /// <summary>One line: <c>~100,000 flows, ~616 K events, 21 samples, ~1.2 GB of memory (budget 18 GB), ~3 s</c>.</summary>
    public override string ToString() =>
        $"~{Count(Flows)} flows, ~{Count(Events)} events, {Count(Samples)} samples, ~{Bytes(MemoryBytes)} of memory " +
        $"(budget {Bytes(BudgetBytes)}), ~{Seconds(WallSeconds)} of wall time";

    internal static string Count(double n) => n switch
    {
        >= 1e12 => n.ToString("0.##e0", CultureInfo.InvariantCulture),
        >= 1e9 => $"{n / 1e9:0.#} G",
        >= 1e6 => $"{n / 1e6:0.#} M",
        >= 1e4 => $"{n / 1e3:0} K",
        _ => n.ToString("0", CultureInfo.InvariantCulture),
    };

    internal static string Bytes(double b) => b switch
    {
        >= 1e15 => $"{b / 1e15:0.#} PB",
        >= 1e12 => $"{b / 1e12:0.#} TB",
        >= 1e9 => $"{b / 1e9:0.#} GB",
        _ => $"{b / 1e6:0} MB",
    };

    internal static string Seconds(double s) => s switch
    {
        >= 86_400 * 365 => $"{s / (86_400 * 365):0.#} years",
        >= 86_400 => $"{s / 86_400:0.#} days",
        >= 3600 => $"{s / 3600:0.#} h",
        >= 60 => $"{s / 60:0.#} min",
        _ => $"{s:0.#} s",
    };
}
