using System.Text.Json.Serialization;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>One change of a struct_ops map's state or reported refcnt, in simulated time.</summary>
public sealed record StructOpsTimelineEntry(
    [property: JsonIgnore] SimTime Time,
    [property: JsonIgnore] StructOpsState State,
    [property: JsonPropertyName("refcnt")] long RefCount,
    [property: JsonPropertyName("event")] string Event)
{
    [JsonPropertyName("t_s")]
    public double Seconds => Time.TotalSeconds;

    [JsonPropertyName("state")]
    public string StateName => State.ShortName();
}
