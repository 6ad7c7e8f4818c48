using System.Buffers.Binary;
using System.Text.Json.Nodes;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf;

/// <summary>
/// JSON in the shapes bpftool prints (bpftool 7.8 on Linux 6.18; shared/reference/formats.md), so scripts written
/// against bpftool read bpfsim's dumps unchanged.
/// </summary>
public static class BpftoolJson
{
    /// <summary><c>bpftool -j struct_ops list</c>: <c>[{"id","name","kernel_struct_ops"}]</c>.</summary>
    public static JsonArray StructOpsList(BpfSystem bpf) =>
        new(bpf.StructOpsMaps.Select(m => (JsonNode)new JsonObject
        {
            ["id"] = m.Id,
            ["name"] = m.Name,
            ["kernel_struct_ops"] = m.StructOpsType.Name,
        }).ToArray());

    /// <summary><c>bpftool -j struct_ops dump id N</c>: the map info, then the value with program ids in function slots.</summary>
    public static JsonArray StructOpsDump(StructOpsMap map)
    {
        var value = new byte[map.StructOpsType.ValueSize];
        map.SysLookup(new byte[4], value);
        var data = new JsonObject();
        var programs = map.KernelData;
        foreach (var m in map.StructOpsType.Members)
        {
            var bytes = value.AsSpan(StructOpsType.DataOffset + m.Offset, m.Size);
            data[m.Name] = m.Kind switch
            {
                StructOpsMemberKind.Function => FunctionText(m, programs?.Programs[m.Index]),
                StructOpsMemberKind.CString => StructOpsKernelData.ReadCString(bytes),
                StructOpsMemberKind.U32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
                StructOpsMemberKind.U64 or StructOpsMemberKind.Pointer => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
                _ => new JsonObject { ["next"] = 0, ["prev"] = 0 },
            };
        }
        return
        [
            new JsonObject { ["bpf_map_info"] = MapInfo(map) },
            new JsonObject
            {
                [$"bpf_struct_ops_{map.StructOpsType.Name}"] = new JsonObject
                {
                    ["common"] = new JsonObject
                    {
                        ["refcnt"] = new JsonObject { ["refs"] = new JsonObject { ["counter"] = BinaryPrimitives.ReadUInt32LittleEndian(value) } },
                        ["state"] = ((StructOpsState)BinaryPrimitives.ReadUInt32LittleEndian(value.AsSpan(4))).KernelName(),
                    },
                    ["data"] = data,
                },
            },
        ];
    }

    private static string FunctionText(StructOpsMember member, Programs.BpfProgram? program) =>
        program is null ? $"{member.CPrototype} 0" : $"{member.CPrototype} {program.Name}/prog_id:{program.Id}";

    /// <summary>
    /// The <c>bpf_map_info</c> object bpftool prints. bpfsim has no BTF objects, so <c>btf_id</c> is 0; the key and value
    /// type ids are those the map was created with.
    /// </summary>
    public static JsonObject MapInfo(BpfMap map) => new()
    {
        ["type"] = (uint)map.Type,
        ["id"] = map.Id,
        ["key_size"] = map.KeySize,
        ["value_size"] = map.ValueSize,
        ["max_entries"] = map.MaxEntries,
        ["map_flags"] = (uint)map.Flags,
        ["name"] = map.Name,
        ["ifindex"] = 0,
        ["btf_vmlinux_value_type_id"] = 0,
        ["netns_dev"] = 0,
        ["netns_ino"] = 0,
        ["btf_id"] = 0,
        ["btf_key_type_id"] = map.BtfKeyTypeId,
        ["btf_value_type_id"] = map.BtfValueTypeId,
        ["btf_vmlinux_id"] = 0,
        ["map_extra"] = 0,
        ["hash"] = 0,
        ["hash_size"] = 0,
    };

    /// <summary>
    /// <c>bpftool -j map dump id N</c>: every element as hex byte arrays; per-CPU maps list one value per CPU; a map with
    /// BTF key and value types adds each element's <c>formatted</c> form (map.c print_entry_json, <see cref="BpftoolBtf.Formatted"/>).
    /// </summary>
    public static JsonArray MapDump(BpfMap map)
    {
        var result = new JsonArray();
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        var value = new byte[map.SyscallValueSize];
        while (map.GetNextKey(key, next).IsOk)
        {
            key = next.ToArray();
            if (!map.SysLookup(key, value).IsOk)
            {
                continue;
            }
            var entry = new JsonObject { ["key"] = Hex(key) };
            if (map.Type.IsPerCpu())
            {
                int slot = (map.ValueSize + 7) & ~7;
                var values = new JsonArray();
                for (int cpu = 0; cpu * slot < value.Length; cpu++)
                {
                    values.Add(new JsonObject { ["cpu"] = cpu, ["value"] = Hex(value.AsSpan(cpu * slot, map.ValueSize)) });
                }
                entry["values"] = values;
            }
            else
            {
                entry["value"] = Hex(value);
            }
            if (BpftoolBtf.HasBtf(map))
            {
                entry["formatted"] = BpftoolBtf.Formatted(map, key, value);
            }
            result.Add(entry);
        }
        return result;
    }

    private static JsonArray Hex(ReadOnlySpan<byte> bytes)
    {
        var array = new JsonArray();
        foreach (byte b in bytes)
        {
            array.Add($"0x{b:x2}");
        }
        return array;
    }
}
