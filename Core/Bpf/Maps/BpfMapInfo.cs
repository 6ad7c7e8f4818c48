using System.Text.Json.Serialization;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>What BPF_OBJ_GET_INFO_BY_FD reports for a map (struct bpf_map_info), in bpftool's JSON names.</summary>
public sealed record BpfMapInfo(
    [property: JsonPropertyName("id")] uint Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("flags")] uint Flags,
    [property: JsonPropertyName("bytes_key")] uint KeySize,
    [property: JsonPropertyName("bytes_value")] uint ValueSize,
    [property: JsonPropertyName("max_entries")] uint MaxEntries)
{
    /// <summary><c>btf_key_type_id</c> (0, and not written, for a map without BTF).</summary>
    [JsonPropertyName("btf_key_type_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public uint BtfKeyTypeId { get; init; }

    /// <summary><c>btf_value_type_id</c> (0, and not written, for a map without BTF).</summary>
    [JsonPropertyName("btf_value_type_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public uint BtfValueTypeId { get; init; }
}
