using System.Text.Json.Serialization;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Flow completion times of one sized-flow group (a <c>flows:</c> entry with <c>size:</c>, fixed or Poisson): over its
/// flows that started inside the measurement window, how many there were, how many completed (every byte
/// acknowledged) before the run ended, and the completed ones' FCT (ms; nearest-rank percentiles) and slowdown
/// (FCT / ideal FCT, <see cref="FctSample.IdealMs"/>). Flows still running at the end count in <c>count</c> only.
/// </summary>
public sealed record FctResult(
    [property: JsonPropertyName("group")] int Group,
    [property: JsonPropertyName("cc")] string Cc,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("completed")] int Completed,
    [property: JsonPropertyName("mean_ms")] double MeanMs,
    [property: JsonPropertyName("p50_ms")] double P50Ms,
    [property: JsonPropertyName("p95_ms")] double P95Ms,
    [property: JsonPropertyName("p99_ms")] double P99Ms,
    [property: JsonPropertyName("slowdown_p50")] double SlowdownP50,
    [property: JsonPropertyName("slowdown_p99")] double SlowdownP99);
