using System.Buffers.Binary;
using System.Globalization;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// Writes a value as its BTF type describes it, as bpftool's btf_dumper does (tools/bpf/bpftool/btf_dumper.c,
/// btf_dumper_type): integers in decimal by size and signedness, <c>bool</c> as true/false, <c>char</c> as a
/// one-character string, typedefs and qualifiers as what they name, structs and unions as objects of their members
/// (bitfields as hex), arrays as arrays except NUL-terminated printable <c>char</c> arrays, which are strings,
/// enums by enumerator name (the number if none matches), pointers as hex in plain text and decimal in JSON,
/// variables and data sections as objects named after them.
/// </summary>
/// <remarks>
/// <para>
/// Plain text (<c>is_plain_text</c>, what <c>bpftool map dump</c> prints for a map with BTF) and JSON (the
/// <c>formatted</c> member of <c>bpftool -j map dump</c>) differ only in pointers, non-printable characters and
/// 128-bit or bitfield integers: bpftool prints those unquoted in plain text, which is then not strict JSON.
/// </para>
/// <para>
/// One deliberate difference: in JSON mode a printable <c>char</c> that is <c>"</c> or <c>\</c> is escaped, where
/// bpftool prints it bare and so writes invalid JSON.
/// </para>
/// </remarks>
public sealed class BtfDumper
{
    private readonly BtfSpec _btf;
    private readonly BtfJsonWriter _writer;
    private readonly bool _plainText;

    /// <param name="btf">The types.</param>
    /// <param name="writer">Where the value goes.</param>
    /// <param name="plainText">bpftool's plain-text form (<c>is_plain_text</c>), else its JSON form.</param>
    public BtfDumper(BtfSpec btf, BtfJsonWriter writer, bool plainText)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(writer);
        _btf = btf;
        _writer = writer;
        _plainText = plainText;
    }

    /// <summary>
    /// btf_dumper_type: writes <paramref name="data"/> as type <paramref name="typeId"/>. Returns false where bpftool's
    /// returns an error (a forward declaration, an enum of odd size, a kind it cannot print: functions, floats, type
    /// tags), having written what bpftool writes up to there.
    /// </summary>
    /// <exception cref="BtfException">No such type id, or <paramref name="data"/> is shorter than the type.</exception>
    public bool DumpType(uint typeId, ReadOnlySpan<byte> data) => DoType(typeId, 0, data);

    private bool DoType(uint typeId, int bitOffset, ReadOnlySpan<byte> data)
    {
        switch (_btf[typeId])
        {
            case BtfInt t:
                return Int(t, bitOffset, data);
            case BtfComposite:
                return Struct(typeId, data);
            case BtfArray a:
                return Array(a, data);
            case BtfEnum { Is64: false } e:
                return Enum(e, data);
            case BtfEnum e:
                return Enum64(e, data);
            case BtfPtr:
                Ptr(data);
                return true;
            case BtfVoid:
                _writer.Raw("(unknown)");
                return true;
            case BtfFwd:
                // "map key or value can't be forward"
                _writer.Raw("(fwd-kind-invalid)");
                return false;
            case BtfAlias { AliasKind: BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict }:
                // btf_dumper_modifier: btf__resolve_type, then the resolved type at the same bit offset.
                return DoType(_btf.SkipModifiers(typeId), bitOffset, data);
            case BtfVar v:
                _writer.StartObject();
                _writer.Name(v.Name);
                bool ok = DoType(v.Type, bitOffset, data);
                _writer.EndObject();
                return ok;
            case BtfDatasec d:
                return Datasec(d, data);
            default:
                _writer.Raw("(unsupported-kind");
                return false;
        }
    }

    /// <summary>btf_dumper_int.</summary>
    private bool Int(BtfInt t, int bitOffset, ReadOnlySpan<byte> data)
    {
        int bits = t.Bits;
        if (bitOffset != 0 || t.BitOffset != 0 || bits % 8 != 0)
        {
            IntBits(t, bitOffset, data);
            return true;
        }
        if (bits == 128)
        {
            Int128(Bytes(data, 16), 0, 128);
            return true;
        }
        var inv = CultureInfo.InvariantCulture;
        switch (t.Encoding)
        {
            case BtfIntEncoding.None or BtfIntEncoding.Signed when bits is not (64 or 32 or 16 or 8):
                IntBits(t, bitOffset, data);
                return true;
            case BtfIntEncoding.None:
                var u = Bytes(data, bits / 8);
                _writer.Raw(bits switch
                {
                    64 => BinaryPrimitives.ReadUInt64LittleEndian(u).ToString(inv),
                    32 => BinaryPrimitives.ReadUInt32LittleEndian(u).ToString(inv),
                    16 => BinaryPrimitives.ReadUInt16LittleEndian(u).ToString(inv),
                    _ => u[0].ToString(inv),
                });
                return true;
            case BtfIntEncoding.Signed:
                var s = Bytes(data, bits / 8);
                _writer.Raw(bits switch
                {
                    64 => BinaryPrimitives.ReadInt64LittleEndian(s).ToString(inv),
                    32 => BinaryPrimitives.ReadInt32LittleEndian(s).ToString(inv),
                    16 => BinaryPrimitives.ReadInt16LittleEndian(s).ToString(inv),
                    _ => ((sbyte)s[0]).ToString(inv),
                });
                return true;
            case BtfIntEncoding.Char:
                byte c = Bytes(data, 1)[0];
                if (c is >= 0x20 and < 0x7f)
                {
                    // isprint: "%c" in quotes (see the remarks for " and \ in JSON).
                    _writer.Raw(!_plainText && c is (byte)'"' or (byte)'\\' ? $"\"\\{(char)c}\"" : $"\"{(char)c}\"");
                }
                else
                {
                    _writer.Raw(_plainText ? $"0x{c:x}" : $"\"\\u00{c:x2}\"");
                }
                return true;
            case BtfIntEncoding.Bool:
                _writer.Bool(Bytes(data, 1)[0] != 0);
                return true;
            default:
                // "shouldn't happen": more than one encoding bit.
                return false;
        }
    }

    /// <summary>btf_dumper_int_bits: the int's own bit offset added to the member's, whole bytes skipped.</summary>
    private void IntBits(BtfInt t, int bitOffset, ReadOnlySpan<byte> data)
    {
        int total = bitOffset + t.BitOffset;
        Bitfield(t.Bits, total % 8, Bytes(data, total / 8 + 1)[(total / 8)..]);
    }

    /// <summary>
    /// btf_dumper_bitfield: <paramref name="bits"/> bits from <paramref name="bitOffset"/> (0 to 7) of the
    /// little-endian bytes at <paramref name="data"/>, printed as btf_int128_print does.
    /// </summary>
    private void Bitfield(int bits, int bitOffset, ReadOnlySpan<byte> data)
    {
        int bytes = (bitOffset + bits + 7) / 8;
        Int128(Bytes(data, bytes), bitOffset, bits);
    }

    /// <summary>btf_int128_print: hex without leading zeros, quoted in JSON only.</summary>
    private void Int128(ReadOnlySpan<byte> bytes, int bitOffset, int bits)
    {
        Span<byte> buffer = stackalloc byte[16];
        buffer.Clear();
        bytes[..Math.Min(bytes.Length, 16)].CopyTo(buffer);
        var value = BinaryPrimitives.ReadUInt128LittleEndian(buffer) >> bitOffset;
        if (bits < 128)
        {
            value &= (UInt128.One << bits) - 1;
        }
        string hex = "0x" + value.ToString("x", CultureInfo.InvariantCulture);
        _writer.Raw(_plainText ? hex : $"\"{hex}\"");
    }

    /// <summary>btf_dumper_struct: members by name; a bitfield member (kind_flag) as its bits.</summary>
    private bool Struct(uint typeId, ReadOnlySpan<byte> data)
    {
        var t = (BtfComposite)_btf[typeId];
        bool ok = true;
        _writer.StartObject();
        foreach (var m in t.Members)
        {
            _writer.Name(m.Name);
            var at = Bytes(data, (int)(m.BitOffset / 8))[(int)(m.BitOffset / 8)..];
            if (m.BitfieldSize != 0)
            {
                Bitfield(m.BitfieldSize, (int)(m.BitOffset % 8), at);
            }
            else if (!DoType(m.Type, (int)(m.BitOffset % 8), at))
            {
                ok = false;
                break;
            }
        }
        _writer.EndObject();
        return ok;
    }

    /// <summary>btf_dumper_array: a string if is_str_array says so, else each element.</summary>
    private bool Array(BtfArray a, ReadOnlySpan<byte> data)
    {
        if (IsStrArray(a, data, out int length))
        {
            _writer.String(System.Text.Encoding.ASCII.GetString(data[..length]));
            return true;
        }
        int size = (int)_btf.SizeOf(a.ElementType);
        bool ok = true;
        _writer.StartArray();
        for (int i = 0; i < a.Count; i++)
        {
            if (!DoType(a.ElementType, 0, Bytes(data, (i + 1) * size)[(i * size)..]))
            {
                ok = false;
                break;
            }
        }
        _writer.EndArray();
        return ok;
    }

    /// <summary>
    /// is_str_array: elements are 1-byte ints (qualifiers skipped, typedefs not) encoded as char or named
    /// <c>char</c>, and the bytes are printable up to a NUL within the array.
    /// </summary>
    private bool IsStrArray(BtfArray a, ReadOnlySpan<byte> data, out int length)
    {
        length = 0;
        if (a.Count == 0)
        {
            return false;
        }
        var element = _btf[a.ElementType];
        while (element is BtfAlias { AliasKind: BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag } mod)
        {
            element = _btf[mod.Type];
        }
        if (element is not BtfInt { Size: 1 } c || ((c.Encoding & BtfIntEncoding.Char) == 0 && c.Name != "char"))
        {
            return false;
        }
        for (int i = 0; i < a.Count && i < data.Length; i++)
        {
            if (data[i] == 0)
            {
                length = i;
                return true;
            }
            if (data[i] is <= 0x1f or >= 0x7f)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>btf_dumper_enum: the value read signed at the enum's size, named if an enumerator has it.</summary>
    private bool Enum(BtfEnum e, ReadOnlySpan<byte> data)
    {
        long value;
        switch (e.Size)
        {
            case 8:
                value = BinaryPrimitives.ReadInt64LittleEndian(Bytes(data, 8));
                break;
            case 4:
                value = BinaryPrimitives.ReadInt32LittleEndian(Bytes(data, 4));
                break;
            case 2:
                value = BinaryPrimitives.ReadInt16LittleEndian(Bytes(data, 2));
                break;
            case 1:
                value = (sbyte)Bytes(data, 1)[0];
                break;
            default:
                return false;
        }
        // btf_enum.val is a __s32 whatever the enum's signedness.
        var match = e.Values.FirstOrDefault(v => (int)v.Value == value);
        if (match is not null)
        {
            _writer.String(match.Name);
        }
        else
        {
            _writer.Int(value);
        }
        return true;
    }

    /// <summary>btf_dumper_enum64: the 64-bit value, named if an enumerator has it, else printed as jsonw_int (signed).</summary>
    private bool Enum64(BtfEnum e, ReadOnlySpan<byte> data)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(Bytes(data, 8));
        var match = e.Values.FirstOrDefault(v => (ulong)v.Value == value);
        if (match is not null)
        {
            _writer.String(match.Name);
        }
        else
        {
            _writer.Int((long)value);
        }
        return true;
    }

    /// <summary>btf_dumper_ptr: <c>"%p"</c> in plain text (glibc: <c>(nil)</c> for NULL), <c>%lu</c> in JSON.</summary>
    private void Ptr(ReadOnlySpan<byte> data)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(Bytes(data, 8));
        _writer.Raw(!_plainText ? value.ToString(CultureInfo.InvariantCulture) : value == 0 ? "\"(nil)\"" : $"\"0x{value:x}\"");
    }

    /// <summary>btf_dumper_datasec: <c>{"NAME": [each variable]}</c>.</summary>
    private bool Datasec(BtfDatasec d, ReadOnlySpan<byte> data)
    {
        bool ok = true;
        _writer.StartObject();
        _writer.Name(d.Name);
        _writer.StartArray();
        foreach (var v in d.Vars)
        {
            if (!DoType(v.Type, 0, Bytes(data, (int)(v.Offset + v.Size))[(int)v.Offset..]))
            {
                ok = false;
                break;
            }
        }
        _writer.EndArray();
        _writer.EndObject();
        return ok;
    }

    /// <summary><paramref name="data"/>, checked to hold at least <paramref name="count"/> bytes.</summary>
    private static ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> data, int count) =>
        data.Length >= count ? data : throw new BtfException($"the value is {data.Length} bytes but its BTF type needs {count}");
}
