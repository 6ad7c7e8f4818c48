using System.Text.Json.Serialization;
using BpfSim.Core.Bpf;

namespace BpfSim.Core.Workloads;

/// <summary>What one run of <see cref="InnerMapSwapExperiment"/> measured.</summary>
public sealed record InnerMapSwapResult
{
    [JsonPropertyName("wait")] public required InnerMapReplaceWait Wait { get; init; }
    [JsonPropertyName("swaps")] public required int Swaps { get; init; }
    [JsonPropertyName("grace_periods")] public required long GracePeriods { get; init; }
    /// <summary>Simulated time from the first swap call to the moment user space may reuse every old map.</summary>
    [JsonPropertyName("swap_time_ms")] public required double SwapTimeMs { get; init; }
    [JsonPropertyName("blocked_ms")] public required double BlockedMs { get; init; }
    /// <summary>Old inner maps a program still held when user space was told they were unused.</summary>
    [JsonPropertyName("unsafe_returns")] public required int UnsafeReturns { get; init; }
    [JsonPropertyName("bound_expirations")] public required long BoundExpirations { get; init; }
    [JsonPropertyName("program_runs")] public required long ProgramRuns { get; init; }
    [JsonPropertyName("events")] public required long Events { get; init; }
    /// <summary>Inner maps freed by the end; every swapped-out map and, after tear-down, the last one.</summary>
    [JsonPropertyName("maps_freed")] public required long MapsFreed { get; init; }
    [JsonPropertyName("maps_leaked")] public required int MapsLeaked { get; init; }
}
