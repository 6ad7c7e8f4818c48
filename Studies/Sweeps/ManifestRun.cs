using System.Text.Json.Serialization;

namespace BpfSim.Studies.Sweeps;

/// <summary>A run of the manifest.</summary>
public sealed record ManifestRun(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("point")] string Point,
    [property: JsonPropertyName("seed")] ulong Seed);
