using System.Text.Json.Serialization;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>What one design measured on one scenario (the <c>designs</c> entries of <c>bpfsim experiment xdp-chain --json</c>).</summary>
public sealed record XdpChainResult
{
    [JsonPropertyName("design")] public required string Design { get; init; }
    [JsonPropertyName("packets")] public required long Packets { get; init; }
    /// <summary>Violations of every kind, summed over packets (a packet can have several).</summary>
    [JsonPropertyName("violations")] public required long Violations { get; init; }
    [JsonPropertyName("violated_packets")] public required long ViolatedPackets { get; init; }
    [JsonPropertyName("skipped")] public required long Skipped { get; init; }
    [JsonPropertyName("duplicate")] public required long Duplicate { get; init; }
    [JsonPropertyName("out_of_order")] public required long OutOfOrder { get; init; }
    [JsonPropertyName("stale")] public required long Stale { get; init; }
    /// <summary>Mean simulated CPU time of the chain per packet (<see cref="ChainCostModel"/>).</summary>
    [JsonPropertyName("ns_per_packet")] public required double NsPerPacket { get; init; }
    /// <summary>Mean program runs per packet (dispatcher included).</summary>
    [JsonPropertyName("runs_per_packet")] public required double RunsPerPacket { get; init; }
    /// <summary>Actions (start, replace, stop) that completed.</summary>
    [JsonPropertyName("updates")] public required int Updates { get; init; }
    [JsonPropertyName("failed_updates")] public required int FailedUpdates { get; init; }
    [JsonPropertyName("update_ms_mean")] public required double UpdateMsMean { get; init; }
    [JsonPropertyName("update_ms_p50")] public required double UpdateMsP50 { get; init; }
    [JsonPropertyName("update_ms_p99")] public required double UpdateMsP99 { get; init; }
    [JsonPropertyName("retries")] public required int Retries { get; init; }
    [JsonPropertyName("syscalls")] public required long Syscalls { get; init; }
    /// <summary>The first violations in full.</summary>
    [JsonPropertyName("listed")] public required IReadOnlyList<ChainViolation> Listed { get; init; }
    /// <summary>Actions that gave up, with when and why.</summary>
    [JsonPropertyName("failures")] public IReadOnlyList<string> Failures { get; init; } = [];
    /// <summary>Wall-clock time of the hook runs per packet on this machine: measured, never fed into the simulation.</summary>
    [JsonPropertyName("wall_ns_per_packet")] public required double WallNsPerPacket { get; init; }

    /// <summary>Violations per time bucket of <see cref="BucketMs"/> (for plots).</summary>
    [JsonIgnore] public IReadOnlyList<long> ViolationsOverTime { get; init; } = [];
    [JsonIgnore] public double BucketMs { get; init; }
    /// <summary>Every completed action's latency in ms, in completion order (for plots).</summary>
    [JsonIgnore] public IReadOnlyList<double> UpdateLatenciesMs { get; init; } = [];
}
