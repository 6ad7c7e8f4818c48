using System.Buffers.Binary;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// Parses raw BTF (a .BTF section or /sys/kernel/btf/vmlinux) into a <see cref="BtfSpec"/>: the header, then every
/// type of the type section with its kind-specific trailer, as libbpf's btf_parse_type_sec (tools/lib/bpf/btf.c) and
/// the encoding in include/uapi/linux/btf.h define them.
/// </summary>
/// <remarks>
/// Untrusted input: every count is checked against the bytes left before anything is allocated for it, every type id
/// against the number of types, and chains of typedefs, qualifiers and arrays are checked for loops, so that the
/// resulting spec's walks (<see cref="BtfSpec.SkipModifiers"/>, <see cref="BtfSpec.SizeOf"/>) terminate.
/// </remarks>
public static class BtfReader
{
    // struct btf_type: name_off, info, size/type.
    private const int TypeHeaderSize = 12;

    /// <summary>Reads raw little-endian BTF.</summary>
    /// <exception cref="BtfException">The BTF is malformed: it names the offending type id or offset.</exception>
    public static BtfSpec Read(ReadOnlySpan<byte> btf)
    {
        var header = BtfHeader.Parse(btf);
        var strings = new BtfStrings(header.Strings(btf).ToArray());
        var section = header.Types(btf);
        var types = new List<BtfType>();
        int pos = 0;
        while (pos < section.Length)
        {
            uint id = (uint)types.Count + 1;
            types.Add(ReadType(section, ref pos, id, strings));
        }
        var spec = new BtfSpec(types);
        Validate(spec);
        return spec;
    }

    private static BtfType ReadType(ReadOnlySpan<byte> section, ref int pos, uint id, BtfStrings strings)
    {
        if (section.Length - pos < TypeHeaderSize)
        {
            throw new BtfException($".BTF type id {id} at offset {pos}: truncated type header");
        }
        uint nameOff = U32(section, pos);
        uint info = U32(section, pos + 4);
        uint sizeOrType = U32(section, pos + 8);
        int offset = pos;
        pos += TypeHeaderSize;
        int vlen = (int)(info & 0xffff);
        int kindNumber = (int)((info >> 24) & 0x1f);
        bool kindFlag = (info >> 31) != 0;
        string where = $".BTF type id {id} at offset {offset}";
        string name = strings.Get(nameOff, where);
        var kind = (BtfKind)kindNumber;

        // The kind-specific trailer's size, checked before it is read or anything is allocated for it.
        int trailer = kind switch
        {
            BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
            BtfKind.Array => 12,
            BtfKind.Struct or BtfKind.Union or BtfKind.Datasec or BtfKind.Enum64 => 12 * vlen,
            BtfKind.Enum or BtfKind.FuncProto => 8 * vlen,
            BtfKind.Void or > BtfKind.Enum64 => throw new BtfException($"{where}: unknown kind {kindNumber}"),
            _ => 0,
        };
        if (section.Length - pos < trailer)
        {
            throw new BtfException($"{where}: {kind} needs {trailer} more bytes, {section.Length - pos} are left");
        }
        var body = section.Slice(pos, trailer);
        pos += trailer;

        switch (kind)
        {
            case BtfKind.Int:
            {
                uint encoding = U32(body, 0);
                uint bits = encoding & 0xff;
                uint bitOffset = (encoding >> 16) & 0xff;
                if (sizeOrType is 0 or > 16 || bits == 0 || bits > 128 || bitOffset + bits > sizeOrType * 8)
                {
                    throw new BtfException($"{where}: INT '{name}' of {sizeOrType} bytes cannot hold {bits} bits at bit {bitOffset}");
                }
                return new BtfInt(name, sizeOrType, (BtfIntEncoding)((encoding >> 24) & 0x0f), (byte)bitOffset, (byte)bits);
            }
            case BtfKind.Ptr:
                return new BtfPtr(sizeOrType);
            case BtfKind.Array:
                return new BtfArray(U32(body, 0), U32(body, 4), U32(body, 8));
            case BtfKind.Struct:
            case BtfKind.Union:
            {
                var members = new BtfMember[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    var m = body.Slice(i * 12, 12);
                    uint raw = U32(m, 8);
                    // With kind_flag set, the offset word packs the bitfield size in its top 8 bits (BTF_MEMBER_BITFIELD_SIZE).
                    members[i] = new BtfMember(strings.Get(U32(m, 0), $"{where} member {i}"), U32(m, 4),
                        kindFlag ? raw & 0xffffff : raw, kindFlag ? (byte)(raw >> 24) : (byte)0);
                }
                return new BtfComposite(name, kind == BtfKind.Union, sizeOrType, members);
            }
            case BtfKind.Enum:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    uint raw = U32(body, i * 8 + 4);
                    // kind_flag marks a signed enum: sign-extend, otherwise zero-extend.
                    values[i] = new BtfEnumValue(strings.Get(U32(body, i * 8), $"{where} enumerator {i}"), kindFlag ? (int)raw : raw);
                }
                CheckEnumSize(where, sizeOrType);
                return new BtfEnum(name, sizeOrType, kindFlag, false, values);
            }
            case BtfKind.Enum64:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    ulong raw = U32(body, i * 12 + 4) | ((ulong)U32(body, i * 12 + 8) << 32);
                    values[i] = new BtfEnumValue(strings.Get(U32(body, i * 12), $"{where} enumerator {i}"), (long)raw);
                }
                CheckEnumSize(where, sizeOrType);
                return new BtfEnum(name, sizeOrType, kindFlag, true, values);
            }
            case BtfKind.Fwd:
                return new BtfFwd(name, kindFlag);
            case BtfKind.Typedef:
            case BtfKind.Volatile:
            case BtfKind.Const:
            case BtfKind.Restrict:
            case BtfKind.TypeTag:
                return new BtfAlias(kind, name, sizeOrType);
            case BtfKind.Func:
                if (vlen > (int)BtfLinkage.Extern)
                {
                    throw new BtfException($"{where}: FUNC '{name}' has unknown linkage {vlen}");
                }
                return new BtfFunc(name, sizeOrType, (BtfLinkage)vlen);
            case BtfKind.FuncProto:
            {
                var parameters = new BtfParam[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    parameters[i] = new BtfParam(strings.Get(U32(body, i * 8), $"{where} parameter {i}"), U32(body, i * 8 + 4));
                }
                return new BtfFuncProto(sizeOrType, parameters);
            }
            case BtfKind.Var:
            {
                uint linkage = U32(body, 0);
                if (linkage > (uint)BtfLinkage.Extern)
                {
                    throw new BtfException($"{where}: VAR '{name}' has unknown linkage {linkage}");
                }
                return new BtfVar(name, sizeOrType, (BtfLinkage)linkage);
            }
            case BtfKind.Datasec:
            {
                var vars = new BtfVarSecInfo[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    vars[i] = new BtfVarSecInfo(U32(body, i * 12), U32(body, i * 12 + 4), U32(body, i * 12 + 8));
                }
                return new BtfDatasec(name, sizeOrType, vars);
            }
            case BtfKind.Float:
                if (sizeOrType is not (2 or 4 or 8 or 12 or 16))
                {
                    throw new BtfException($"{where}: FLOAT '{name}' has size {sizeOrType}");
                }
                return new BtfFloat(name, sizeOrType);
            case BtfKind.DeclTag:
                return new BtfDeclTag(name, sizeOrType, (int)U32(body, 0));
            default:
                throw new BtfException($"{where}: unknown kind {kindNumber}");
        }
    }

    private static void CheckEnumSize(string where, uint size)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new BtfException($"{where}: enum size {size} is not 1, 2, 4 or 8");
        }
    }

    /// <summary>Every referenced id exists, and no chain of typedefs, qualifiers or arrays loops back on itself.</summary>
    private static void Validate(BtfSpec spec)
    {
        int count = spec.Count;
        foreach (var (id, type) in spec.All())
        {
            foreach (uint target in References(type))
            {
                if (target >= (uint)count)
                {
                    throw new BtfException($".BTF type id {id} ({type.Kind} '{type.Name}') refers to type id {target}, past the last id {count - 1}");
                }
            }
        }
        // Iterative colouring of the alias/array chains: each id is walked once, so the check is linear.
        var state = new byte[count];
        var path = new List<uint>();
        for (uint start = 1; start < (uint)count; start++)
        {
            path.Clear();
            uint id = start;
            while (state[id] == 0 && ChainNext(spec[id]) is uint next)
            {
                state[id] = 1;
                path.Add(id);
                id = next;
            }
            if (state[id] == 1)
            {
                throw new BtfException($".BTF type id {id} ({spec[id].Kind}): a loop of typedefs, qualifiers or arrays");
            }
            foreach (uint walked in path)
            {
                state[walked] = 2;
            }
            state[id] = 2;
        }
        foreach (var (id, type) in spec.All())
        {
            if (type is BtfComposite composite)
            {
                CheckMembers(spec, id, composite);
            }
        }
    }

    /// <summary>
    /// btf_struct_resolve's member checks (kernel/bpf/btf.c): a member must have a size and lie within the struct
    /// ("Member exceeds struct_size"), counted from its offset rounded down to a byte, or for a bitfield in bits.
    /// </summary>
    private static void CheckMembers(BtfSpec spec, uint id, BtfComposite composite)
    {
        string where = $".BTF type id {id} ({(composite.IsUnion ? "UNION" : "STRUCT")} '{composite.Name}')";
        foreach (var m in composite.Members)
        {
            ulong size;
            try
            {
                size = spec.SizeOf(m.Type);
            }
            catch (BtfException e)
            {
                throw new BtfException($"{where}: member '{m.Name}' has no size: {e.Message}");
            }
            bool inside = m.BitfieldSize > 0
                ? (ulong)m.BitOffset + m.BitfieldSize <= (ulong)composite.Size * 8
                : m.BitOffset / 8 <= composite.Size && size <= composite.Size - m.BitOffset / 8;
            if (!inside)
            {
                throw new BtfException(
                    $"{where}: member '{m.Name}' at bit {m.BitOffset} ({size} bytes) exceeds the {composite.Size} bytes of the {(composite.IsUnion ? "union" : "struct")}");
            }
        }
    }

    private static uint? ChainNext(BtfType type) => type switch
    {
        BtfAlias a => a.Type,
        BtfArray a => a.ElementType,
        _ => null,
    };

    private static IEnumerable<uint> References(BtfType type)
    {
        switch (type)
        {
            case BtfPtr t:
                yield return t.Type;
                break;
            case BtfArray t:
                yield return t.ElementType;
                yield return t.IndexType;
                break;
            case BtfComposite t:
                foreach (var m in t.Members)
                {
                    yield return m.Type;
                }
                break;
            case BtfAlias t:
                yield return t.Type;
                break;
            case BtfFunc t:
                yield return t.Proto;
                break;
            case BtfFuncProto t:
                yield return t.ReturnType;
                foreach (var p in t.Params)
                {
                    yield return p.Type;
                }
                break;
            case BtfVar t:
                yield return t.Type;
                break;
            case BtfDatasec t:
                foreach (var v in t.Vars)
                {
                    yield return v.Type;
                }
                break;
            case BtfDeclTag t:
                yield return t.Type;
                break;
        }
    }

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
}
