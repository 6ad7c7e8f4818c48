using System.Text.Json.Serialization;

namespace BpfSim.Studies.Sweeps;

/// <summary>A point of the manifest: its id and the value of each grid key.</summary>
public sealed record ManifestPoint(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("values")] IReadOnlyList<string> Values);
