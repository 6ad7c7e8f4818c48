using System.Text.Json.Serialization;

namespace BpfSim.Tcp.Workloads;

/// <summary>The measurement window of a run (<c>measure_from</c> … <c>measure_to</c>, else the whole run), in seconds.</summary>
public sealed record WindowResult(
    [property: JsonPropertyName("from_s")] double FromSeconds,
    [property: JsonPropertyName("to_s")] double ToSeconds);
