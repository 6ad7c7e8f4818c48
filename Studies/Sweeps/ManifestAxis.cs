using System.Text.Json.Serialization;

namespace BpfSim.Studies.Sweeps;

/// <summary>A grid key of the manifest: its name, column type (string, integer, double) and values.</summary>
public sealed record ManifestAxis(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("values")] IReadOnlyList<string> Values);
