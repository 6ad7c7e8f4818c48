using System.Text;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Bpf;

/// <summary>
/// <c>bpftool map dump</c>'s plain-text form for a map without BTF (tools/bpf/bpftool/map.c print_entry_plain,
/// common.c fprint_hex): <c>key: .. value: ..</c> in hex bytes, on one line when key and value together are at most 24
/// bytes and each at most 16, else on lines of their own; per-CPU values one line per CPU; then
/// <c>Found N elements</c>. A map with BTF key and value types prints as bpftool prints it then, through btf_dumper
/// (<see cref="BpftoolBtf.PlainDump"/>).
/// </summary>
public static class BpftoolText
{
    /// <summary>The dump of every element of <paramref name="map"/>, as bpftool prints it.</summary>
    public static string MapDump(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (BpftoolBtf.HasBtf(map))
        {
            return BpftoolBtf.PlainDump(map);
        }
        var text = new StringBuilder();
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        var value = new byte[map.SyscallValueSize];
        int found = 0;
        bool breakNames = map.KeySize > 16 || map.ValueSize > 16;
        bool singleLine = map.KeySize + map.ValueSize <= 24 && !breakNames;
        while (map.GetNextKey(key, next).IsOk)
        {
            key = next.ToArray();
            if (!map.SysLookup(key, value).IsOk)
            {
                continue;
            }
            found++;
            text.Append(breakNames ? "key:\n" : "key: ");
            Hex(text, key);
            if (map.Type.IsPerCpu())
            {
                text.Append('\n');
                int slot = (map.ValueSize + 7) & ~7;
                for (int cpu = 0; cpu * slot < value.Length; cpu++)
                {
                    text.Append(breakNames ? $"value (CPU {cpu:00}):\n" : $"value (CPU {cpu:00}): ");
                    Hex(text, value.AsSpan(cpu * slot, map.ValueSize));
                    text.Append('\n');
                }
                continue;
            }
            text.Append(singleLine ? "  " : "\n");
            text.Append(breakNames ? "value:\n" : "value: ");
            Hex(text, value);
            text.Append('\n');
        }
        text.Append($"Found {found} element{(found == 1 ? "" : "s")}\n");
        return text.ToString();
    }

    /// <summary>fprint_hex: bytes separated by a space, two spaces every 8, a new line every 16.</summary>
    private static void Hex(StringBuilder text, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            text.Append(i == 0 ? "" : i % 16 == 0 ? "\n" : i % 8 == 0 ? "  " : " ");
            text.Append(bytes[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
