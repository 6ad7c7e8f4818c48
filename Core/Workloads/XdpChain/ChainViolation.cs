using System.Text.Json.Serialization;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>One listed violation: when, which packet, what kind, which component, and what the packet saw.</summary>
public sealed record ChainViolation(
    [property: JsonPropertyName("time_ms")] double TimeMs,
    [property: JsonPropertyName("packet")] long Packet,
    [property: JsonPropertyName("kind")] ViolationKind Kind,
    [property: JsonPropertyName("component")] string Component,
    [property: JsonPropertyName("seen")] string Seen);
