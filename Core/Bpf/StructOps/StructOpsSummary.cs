using System.Text.Json.Serialization;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// One entry of the <c>struct_ops</c> array of the summary JSON (DESIGN §5): a map's state transitions, its peak and
/// final refcnt as lookup reports it, and whether it was freed by the end of the run.
/// </summary>
public sealed record StructOpsSummary(
    [property: JsonPropertyName("map_id")] uint MapId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("transitions")] IReadOnlyList<StructOpsTransition> Transitions,
    [property: JsonPropertyName("refcnt_max")] long RefCountMax,
    [property: JsonPropertyName("refcnt_final")] long RefCountFinal,
    [property: JsonPropertyName("freed")] bool Freed,
    [property: JsonPropertyName("timeline")] IReadOnlyList<StructOpsTimelineEntry> Timeline)
{
    /// <summary>Summarises <paramref name="map"/> as of now.</summary>
    public static StructOpsSummary From(StructOpsMap map)
    {
        var transitions = new List<StructOpsTransition>();
        foreach (var e in map.Timeline)
        {
            if (transitions.Count == 0 || transitions[^1].State != e.StateName)
            {
                transitions.Add(new StructOpsTransition(e.Seconds, e.StateName));
            }
        }
        return new StructOpsSummary(map.Id, map.Name, map.StructOpsType.Name, transitions, map.MaxReportedRefCount,
            map.IsDead ? 0 : map.ReportedRefCount, map.IsFreed, map.Timeline);
    }
}

/// <summary>A state the map entered, and when.</summary>
public sealed record StructOpsTransition(
    [property: JsonPropertyName("t_s")] double Seconds,
    [property: JsonPropertyName("state")] string State);
