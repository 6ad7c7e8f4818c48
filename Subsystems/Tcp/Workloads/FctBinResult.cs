using System.Text.Json.Serialization;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Flow completion times of every sized flow whose size falls in one bin [<c>min_bytes</c>, <c>max_bytes</c>)
/// (<c>fct_bins</c>; the last bin has no upper edge), counted as <see cref="FctResult"/> counts a group.
/// </summary>
public sealed record FctBinResult(
    [property: JsonPropertyName("bin")] string Bin,
    [property: JsonPropertyName("min_bytes")] long MinBytes,
    [property: JsonPropertyName("max_bytes")] long? MaxBytes,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("completed")] int Completed,
    [property: JsonPropertyName("mean_ms")] double MeanMs,
    [property: JsonPropertyName("p50_ms")] double P50Ms,
    [property: JsonPropertyName("p95_ms")] double P95Ms,
    [property: JsonPropertyName("p99_ms")] double P99Ms,
    [property: JsonPropertyName("slowdown_p50")] double SlowdownP50,
    [property: JsonPropertyName("slowdown_p99")] double SlowdownP99);
