using System.Text.Json.Nodes;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Bpf;

/// <summary>
/// <c>bpftool map dump</c> of a map with BTF key and value types (tools/bpf/bpftool/map.c): in plain mode the whole
/// dump is a pretty-printed array of <c>{"key": K, "value": V}</c> written by btf_dumper (do_dump, map_dump,
/// dump_map_elem, do_dump_btf), with no <c>Found N elements</c> line; in JSON mode each element's hex form gains a
/// <c>formatted</c> member with the same object (print_entry_json).
/// </summary>
public static class BpftoolBtf
{
    /// <summary>Whether bpftool would print <paramref name="map"/> through its BTF (the map has a BTF value type).</summary>
    public static bool HasBtf(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map.Btf is not null && map.BtfValueTypeId != 0;
    }

    /// <summary>
    /// The plain-mode dump (get_btf_writer: jsonw with pretty printing; jsonw_destroy's final new line).
    /// </summary>
    /// <exception cref="InvalidOperationException">The map has no BTF (<see cref="HasBtf"/>).</exception>
    public static string PlainDump(BpfMap map)
    {
        var btf = BtfOf(map);
        var writer = new BtfJsonWriter(pretty: true);
        var dumper = new BtfDumper(btf, writer, plainText: true);
        writer.StartArray();
        foreach (var (key, value) in Elements(map))
        {
            DoDumpBtf(dumper, writer, map, key, value);
        }
        writer.EndArray();
        writer.Finish();
        return writer.ToString();
    }

    /// <summary>
    /// The <c>formatted</c> member of one element in <c>bpftool -j map dump</c> (btf_dumper in JSON mode); where a type
    /// cannot be printed, the cut-short text as a JSON string.
    /// </summary>
    /// <exception cref="InvalidOperationException">The map has no BTF (<see cref="HasBtf"/>).</exception>
    public static JsonNode Formatted(BpfMap map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var btf = BtfOf(map);
        var writer = new BtfJsonWriter(pretty: false);
        DoDumpBtf(new BtfDumper(btf, writer, plainText: false), writer, map, key, value);
        try
        {
            return JsonNode.Parse(writer.ToString())!;
        }
        catch (System.Text.Json.JsonException)
        {
            // A type btf_dumper cannot print leaves bpftool's output cut short; bpfsim keeps that text as a string.
            return JsonValue.Create(writer.ToString());
        }
    }

    /// <summary>The elements as bpftool walks them: get_next_key from the start, skipping keys whose lookup fails.</summary>
    internal static IEnumerable<(byte[] Key, byte[] Value)> Elements(BpfMap map)
    {
        var key = System.Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (map.GetNextKey(key, next).IsOk)
        {
            key = next.ToArray();
            var value = new byte[map.SyscallValueSize];
            if (map.SysLookup(key, value).IsOk)
            {
                yield return (key, value);
            }
        }
    }

    private static BtfSpec BtfOf(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return HasBtf(map) ? map.Btf! : throw new InvalidOperationException($"map {map.Name} (id {map.Id}) has no BTF key/value types");
    }

    /// <summary>
    /// do_dump_btf: <c>{"key": K, "value": V}</c>, the key only if btf_key_type_id is set; a per-CPU map's
    /// <c>"values": [{"cpu": N, "value": V}, ...]</c> with one 8-byte-aligned slot per possible CPU. A type
    /// btf_dumper cannot print ends the element there, as bpftool's error return does.
    /// </summary>
    private static void DoDumpBtf(BtfDumper dumper, BtfJsonWriter writer, BpfMap map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        writer.StartObject();
        bool ok = true;
        if (map.BtfKeyTypeId != 0)
        {
            writer.Name("key");
            ok = dumper.DumpType(map.BtfKeyTypeId, key);
        }
        if (ok && !map.Type.IsPerCpu())
        {
            writer.Name("value");
            dumper.DumpType(map.BtfValueTypeId, value);
        }
        else if (ok)
        {
            writer.Name("values");
            writer.StartArray();
            int step = (map.ValueSize + 7) & ~7;
            for (int cpu = 0; (cpu + 1) * step <= value.Length; cpu++)
            {
                writer.StartObject();
                writer.Name("cpu");
                writer.Int(cpu);
                writer.Name("value");
                ok = dumper.DumpType(map.BtfValueTypeId, value.Slice(cpu * step, map.ValueSize));
                writer.EndObject();
                if (!ok)
                {
                    break;
                }
            }
            writer.EndArray();
        }
        writer.EndObject();
    }
}
