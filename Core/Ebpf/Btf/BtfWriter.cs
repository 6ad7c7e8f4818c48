using System.Buffers.Binary;
using System.Text;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// Encodes a <see cref="BtfSpec"/> as raw little-endian BTF (include/uapi/linux/btf.h), the form a .BTF section and
/// /sys/kernel/btf/vmlinux have, so that <c>bpftool btf dump file</c> and <see cref="BtfReader"/> can read it.
/// </summary>
/// <remarks>
/// Strings are deduplicated and laid out in first-use order. A struct or union is written with kind_flag set only when
/// one of its members is a bitfield (then each member's offset word carries the bitfield size in its top 8 bits), as
/// btf__add_field in tools/lib/bpf/btf.c does; reading the result gives back an equal spec.
/// </remarks>
public static class BtfWriter
{
    /// <summary>The raw BTF of <paramref name="spec"/>.</summary>
    /// <exception cref="BtfException">A value does not fit its encoding (a vlen over 65535, a bit offset over 2^24).</exception>
    public static byte[] Write(BtfSpec spec)
    {
        var strings = new StringTable();
        var types = new MemoryStream();
        var word = new byte[4];
        void Put(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(word, value);
            types.Write(word);
        }
        void Head(BtfType type, int vlen, bool kindFlag, uint sizeOrType)
        {
            if (vlen > 0xffff)
            {
                throw new BtfException($"{type.Kind} '{type.Name}': {vlen} entries do not fit BTF's 16-bit vlen");
            }
            Put(strings.Add(type.Name));
            Put((uint)vlen | ((uint)type.Kind << 24) | (kindFlag ? 1u << 31 : 0));
            Put(sizeOrType);
        }

        foreach (var (_, type) in spec.All())
        {
            switch (type)
            {
                case BtfInt t:
                    Head(t, 0, false, t.Size);
                    Put(((uint)t.Encoding << 24) | ((uint)t.BitOffset << 16) | t.Bits);
                    break;
                case BtfPtr t:
                    Head(t, 0, false, t.Type);
                    break;
                case BtfArray t:
                    Head(t, 0, false, 0);
                    Put(t.ElementType);
                    Put(t.IndexType);
                    Put(t.Count);
                    break;
                case BtfComposite t:
                {
                    bool bitfields = t.Members.Any(m => m.BitfieldSize != 0);
                    Head(t, t.Members.Count, bitfields, t.Size);
                    foreach (var m in t.Members)
                    {
                        if (bitfields && m.BitOffset > 0xffffff)
                        {
                            throw new BtfException($"{t.Kind} '{t.Name}' member '{m.Name}': bit offset {m.BitOffset} does not fit 24 bits");
                        }
                        Put(strings.Add(m.Name));
                        Put(m.Type);
                        Put(bitfields ? ((uint)m.BitfieldSize << 24) | m.BitOffset : m.BitOffset);
                    }
                    break;
                }
                case BtfEnum t:
                    Head(t, t.Values.Count, t.IsSigned, t.Size);
                    foreach (var v in t.Values)
                    {
                        Put(strings.Add(v.Name));
                        Put((uint)v.Value);
                        if (t.Is64)
                        {
                            Put((uint)((ulong)v.Value >> 32));
                        }
                    }
                    break;
                case BtfFwd t:
                    Head(t, 0, t.IsUnion, 0);
                    break;
                case BtfAlias t:
                    Head(t, 0, false, t.Type);
                    break;
                case BtfFunc t:
                    Head(t, (int)t.Linkage, false, t.Proto);
                    break;
                case BtfFuncProto t:
                    Head(t, t.Params.Count, false, t.ReturnType);
                    foreach (var p in t.Params)
                    {
                        Put(strings.Add(p.Name));
                        Put(p.Type);
                    }
                    break;
                case BtfVar t:
                    Head(t, 0, false, t.Type);
                    Put((uint)t.Linkage);
                    break;
                case BtfDatasec t:
                    Head(t, t.Vars.Count, false, t.Size);
                    foreach (var v in t.Vars)
                    {
                        Put(v.Type);
                        Put(v.Offset);
                        Put(v.Size);
                    }
                    break;
                case BtfFloat t:
                    Head(t, 0, false, t.Size);
                    break;
                case BtfDeclTag t:
                    Head(t, 0, false, t.Type);
                    Put((uint)t.ComponentIndex);
                    break;
                default:
                    throw new BtfException($"type {type.Kind} cannot be encoded");
            }
        }

        byte[] stringBytes = strings.ToArray();
        var result = new byte[BtfHeader.Size + types.Length + stringBytes.Length];
        var span = result.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, BtfHeader.Magic);
        span[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], BtfHeader.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)stringBytes.Length);
        types.ToArray().CopyTo(span[BtfHeader.Size..]);
        stringBytes.CopyTo(span[(BtfHeader.Size + (int)types.Length)..]);
        return result;
    }

    /// <summary>A string section under construction: offset 0 is the empty string.</summary>
    private sealed class StringTable
    {
        private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [""] = 0 };
        private readonly MemoryStream _bytes = new();

        public StringTable()
        {
            _bytes.WriteByte(0);
        }

        public uint Add(string value)
        {
            if (_offsets.TryGetValue(value, out uint offset))
            {
                return offset;
            }
            offset = (uint)_bytes.Length;
            _bytes.Write(Encoding.UTF8.GetBytes(value));
            _bytes.WriteByte(0);
            _offsets[value] = offset;
            return offset;
        }

        public byte[] ToArray() => _bytes.ToArray();
    }
}
