using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Bpf.Consumers;

public static partial class ConsumerGlobals
{
    /// <summary>
    /// Writes <paramref name="text"/> into <paramref name="bytes"/> as BTF type <paramref name="typeId"/> (typedefs and
    /// qualifiers followed): bool, an integer of its width and sign, an enum (enumerator name or number), a char
    /// array (a string that leaves room for its NUL).
    /// </summary>
    /// <returns>Null when written; otherwise why not.</returns>
    private static string? Encode(BtfSpec btf, uint typeId, string text, Span<byte> bytes)
    {
        switch (btf[btf.SkipModifiers(typeId)])
        {
            case BtfInt { Encoding: var e } when (e & BtfIntEncoding.Bool) != 0:
                if (!TryParseBool(text, out bool b))
                {
                    return $"'{text}' is not a bool (true or false)";
                }
                bytes.Clear();
                bytes[0] = b ? (byte)1 : (byte)0;
                return null;
            case BtfInt i:
                return WriteInteger(text, (int)i.Size, i.IsSigned, bytes);
            case BtfEnum en:
                foreach (var v in en.Values)
                {
                    if (v.Name == text)
                    {
                        return WriteInteger(v.Value.ToString(CultureInfo.InvariantCulture), (int)en.Size, en.IsSigned || v.Value < 0, bytes);
                    }
                }
                return TryParseInteger(text, out _)
                    ? WriteInteger(text, (int)en.Size, en.IsSigned, bytes)
                    : $"'{text}' is neither an enumerator of enum {en.Name} ({string.Join(", ", en.Values.Select(v => v.Name))}) nor a number";
            case BtfArray a when btf[btf.SkipModifiers(a.ElementType)] is BtfInt { Size: 1 }:
            {
                var s = Encoding.UTF8.GetBytes(text);
                if (s.Length >= a.Count)
                {
                    return $"\"{text}\" is {s.Length} bytes; it holds at most {Math.Max(0, (int)a.Count - 1)} and the NUL";
                }
                bytes.Clear();
                s.CopyTo(bytes);
                return null;
            }
            case var t:
                return $"a {t.Kind} cannot be set from a scenario (bool, integers, enums and char arrays can)";
        }
    }

    private static string? WriteInteger(string text, int size, bool signed, Span<byte> bytes)
    {
        if (!TryParseInteger(text, out Int128 value))
        {
            return $"'{text}' is not an integer";
        }
        Int128 min = signed ? -(Int128.One << (size * 8 - 1)) : 0;
        Int128 max = signed ? (Int128.One << (size * 8 - 1)) - 1 : (Int128.One << (size * 8)) - 1;
        if (value < min || value > max)
        {
            return $"{text} does not fit ({min} … {max})";
        }
        Span<byte> all = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(all, (ulong)(value & ulong.MaxValue)); // two's complement for negatives
        all[..size].CopyTo(bytes);
        return null;
    }

    /// <summary>Decimal (with a sign) or 0x hexadecimal, as C writes constants; YAML's underscores are not accepted.</summary>
    private static bool TryParseInteger(string text, out Int128 value)
    {
        value = 0;
        var s = text.AsSpan().Trim();
        bool negative = s.StartsWith("-");
        if (negative || s.StartsWith("+"))
        {
            s = s[1..];
        }
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? UInt128.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u)
            : UInt128.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out u);
        if (!ok || u > (UInt128)Int128.MaxValue)
        {
            return false;
        }
        value = negative ? -(Int128)u : (Int128)u;
        return s.Length > 0;
    }

    private static bool TryParseBool(string text, out bool value)
    {
        switch (text.Trim())
        {
            case "true" or "True" or "TRUE" or "1":
                value = true;
                return true;
            case "false" or "False" or "FALSE" or "0":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>The C spelling of a variable's type for messages (<c>const volatile bool</c> shows as <c>bool</c>).</summary>
    private static string TypeName(BtfSpec btf, uint typeId)
    {
        while (btf[typeId] is BtfAlias alias)
        {
            if (alias.Kind == BtfKind.Typedef)
            {
                return alias.Name;
            }
            typeId = alias.Type;
        }
        var t = btf[typeId];
        return t switch
        {
            BtfInt i => i.Name,
            BtfEnum e => $"enum {e.Name}",
            BtfArray a => $"{TypeName(btf, a.ElementType)}[{a.Count}]",
            BtfComposite c => $"{(c.IsUnion ? "union" : "struct")} {c.Name}",
            BtfPtr => "pointer",
            _ => t.Kind.ToString(),
        };
    }
}
