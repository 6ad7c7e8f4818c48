using System.Text.Json.Serialization;

namespace BpfSim.Core.Bpf.Programs;

/// <summary>What BPF_OBJ_GET_INFO_BY_FD reports for a program, in bpftool's JSON names.</summary>
public sealed record BpfProgInfo(
    [property: JsonPropertyName("id")] uint Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("attach_btf_name")] string? StructOpsType,
    [property: JsonPropertyName("attach_member")] string? Member,
    [property: JsonPropertyName("run_cnt")] long RunCount,
    [property: JsonPropertyName("run_time_ns")] long RunTimeNs);
