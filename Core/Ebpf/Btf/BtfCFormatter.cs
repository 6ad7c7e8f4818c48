using System.Text;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// Writes a <see cref="BtfSpec"/> as a C header, as <c>bpftool btf dump file ... format c</c> writes vmlinux.h
/// (tools/lib/bpf/btf_dump.c): an include guard, <c>preserve_access_index</c> over every record so field accesses
/// become CO-RE relocations, then the named types in id order, each after the types it needs by value and after a
/// forward declaration of any struct it only points to. Anonymous structs, unions and enums are written inline; holes
/// become unnamed bitfields (<c>long: 64;</c>) so every member lands at its BTF offset; functions, variables and
/// data sections are left out, as bpftool leaves them.
/// </summary>
public static class BtfCFormatter
{
    /// <summary>The header for <paramref name="spec"/>.</summary>
    /// <exception cref="BtfException">The BTF cannot be written as C (members that overlap, a type loop).</exception>
    public static string Format(BtfSpec spec)
    {
        var writer = new StringWriter { NewLine = "\n" };
        Write(spec, writer);
        return writer.ToString();
    }

    /// <summary>Writes the header for <paramref name="spec"/> to <paramref name="writer"/>.</summary>
    /// <exception cref="BtfException">The BTF cannot be written as C (members that overlap, a type loop).</exception>
    public static void Write(BtfSpec spec, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(writer);
        var body = new StringBuilder();
        new Emitter(spec, body).EmitAll();
        writer.Write(
            "#ifndef __VMLINUX_H__\n" +
            "#define __VMLINUX_H__\n\n" +
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
            "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
            "#endif\n\n");
        writer.Write(body.ToString());
        writer.Write(
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
            "#pragma clang attribute pop\n" +
            "#endif\n\n" +
            "#endif /* __VMLINUX_H__ */\n");
    }

    private sealed class Emitter(BtfSpec spec, StringBuilder output)
    {
        private const byte Declared = 1;
        private const byte InProgress = 2;
        private const byte Defined = 3;

        private readonly byte[] _state = new byte[spec.Count];
        private readonly string[] _names = UniqueNames(spec);

        public void EmitAll()
        {
            foreach (var (id, type) in spec.All())
            {
                bool topLevel = type is BtfEnum or BtfFwd || (type is BtfComposite or BtfAlias { AliasKind: BtfKind.Typedef } && type.Name.Length > 0);
                if (topLevel)
                {
                    Define(id);
                }
            }
        }

        // Emits the definition of a named type (or an anonymous enum), after everything it needs.
        private void Define(uint id)
        {
            if (_state[id] >= InProgress)
            {
                return;
            }
            var type = spec[id];
            if (type is BtfFwd)
            {
                Declare(id);
                return;
            }
            _state[id] = InProgress;
            switch (type)
            {
                case BtfComposite c:
                    foreach (var m in c.Members)
                    {
                        Need(m.Type, byValue: true);
                    }
                    output.Append(CompositeBody(c, _names[id], 0)).Append(";\n\n");
                    break;
                case BtfEnum e:
                    output.Append(EnumBody(e, _names[id], 0)).Append(";\n\n");
                    break;
                case BtfAlias a:
                    // A typedef of a named struct only needs it declared (struct foo { foo_t *next; } would loop otherwise).
                    Need(a.Type, byValue: spec[spec.SkipModifiers(a.Type)] is not BtfComposite { Name.Length: > 0 });
                    output.Append("typedef ").Append(Decl(a.Type, _names[id], 0)).Append(";\n\n");
                    break;
            }
            _state[id] = Defined;
        }

        private void Declare(uint id)
        {
            if (_state[id] != 0)
            {
                return;
            }
            _state[id] = Declared;
            bool union = spec[id] is BtfComposite { IsUnion: true } or BtfFwd { IsUnion: true };
            output.Append(union ? "union " : "struct ").Append(_names[id]).Append(";\n\n");
        }

        // Makes sure what a use of type id needs is out: definitions for uses by value, declarations behind pointers.
        private void Need(uint id, bool byValue)
        {
            for (int guard = 0; guard < spec.Count; guard++)
            {
                switch (spec[id])
                {
                    case BtfPtr p:
                        id = p.Type;
                        byValue = false;
                        continue;
                    case BtfArray a:
                        id = a.ElementType;
                        continue;
                    case BtfAlias { AliasKind: BtfKind.Typedef }:
                        Define(id);
                        return;
                    case BtfAlias a:
                        id = a.Type;
                        continue;
                    case BtfComposite { Name.Length: 0 } c:
                        foreach (var m in c.Members)
                        {
                            Need(m.Type, byValue: true);
                        }
                        return;
                    case BtfComposite:
                        if (byValue)
                        {
                            Define(id);
                        }
                        else
                        {
                            Declare(id);
                        }
                        return;
                    case BtfEnum { Name.Length: > 0 }:
                        Define(id);
                        return;
                    case BtfFwd:
                        Declare(id);
                        return;
                    case BtfFuncProto f:
                        Need(f.ReturnType, byValue: false);
                        foreach (var p in f.Params)
                        {
                            Need(p.Type, byValue: false);
                        }
                        return;
                    default:
                        return;
                }
            }
            throw new BtfException($"type id {id}: a loop of pointers, arrays or qualifiers");
        }

        // A C declaration of `declarator` with type id: "u32 (*ssthresh)(struct sock *)", "u64 icsk_ca_priv[13]".
        private string Decl(uint id, string declarator, int indent)
        {
            string Named(string specifier) => declarator.Length == 0 ? specifier : specifier + " " + declarator;
            switch (spec[id])
            {
                case BtfVoid:
                    return Named("void");
                case BtfInt or BtfFloat:
                    return Named(spec[id].Name);
                case BtfPtr p:
                    string inner = "*" + declarator;
                    return Decl(p.Type, spec[p.Type] is BtfFuncProto or BtfArray ? "(" + inner + ")" : inner, indent);
                case BtfAlias { AliasKind: BtfKind.Typedef }:
                    return Named(_names[id]);
                case BtfAlias { AliasKind: BtfKind.TypeTag } a:
                    return Decl(a.Type, declarator, indent);
                case BtfAlias a:
                    string qualifier = a.AliasKind switch
                    {
                        BtfKind.Const => "const",
                        BtfKind.Volatile => "volatile",
                        _ => "restrict",
                    };
                    // A qualified pointer puts the qualifier after the star: char *const p.
                    return spec[a.Type] is BtfPtr
                        ? Decl(a.Type, qualifier + " " + declarator, indent)
                        : qualifier + " " + Decl(a.Type, declarator, indent);
                case BtfArray a:
                    return Decl(a.ElementType, declarator + "[" + a.Count + "]", indent);
                case BtfFuncProto f:
                    var ps = f.Params.Count == 0
                        ? "void"
                        : string.Join(", ", f.Params.Select(p => p.Type == 0 && p.Name.Length == 0 ? "..." : Decl(p.Type, "", indent)));
                    return Decl(f.ReturnType, declarator + "(" + ps + ")", indent);
                case BtfComposite { Name.Length: 0 } c:
                    return Named(CompositeBody(c, "", indent));
                case BtfComposite c:
                    return Named((c.IsUnion ? "union " : "struct ") + _names[id]);
                case BtfEnum { Name.Length: 0 } e:
                    return Named(EnumBody(e, "", indent));
                case BtfEnum:
                    return Named("enum " + _names[id]);
                case BtfFwd f:
                    return Named((f.IsUnion ? "union " : "struct ") + _names[id]);
                case var t:
                    throw new BtfException($"type id {id} ({t.Kind}) cannot be written as a C type");
            }
        }

        private string CompositeBody(BtfComposite c, string name, int indent)
        {
            var sb = new StringBuilder();
            sb.Append(c.IsUnion ? "union" : "struct").Append(name.Length > 0 ? " " + name : "").Append(" {\n");
            string tabs = new('\t', indent + 1);
            ulong pos = 0;
            uint maxAlign = 1;
            bool packed = false;
            foreach (var m in c.Members)
            {
                uint align = Align(m.Type);
                maxAlign = Math.Max(maxAlign, align);
                if (!c.IsUnion)
                {
                    if (m.BitOffset < pos)
                    {
                        throw new BtfException($"{Describe(c, name)}: member {m.Name} at bit {m.BitOffset} overlaps the one before (ends at bit {pos})");
                    }
                    Pad(sb, tabs, pos, m.BitOffset);
                    if (m.BitfieldSize == 0 && m.BitOffset % (align * 8) != 0)
                    {
                        packed = true;
                    }
                }
                sb.Append(tabs).Append(Decl(m.Type, m.Name, indent + 1));
                if (m.BitfieldSize > 0)
                {
                    sb.Append(": ").Append(m.BitfieldSize);
                }
                sb.Append(";\n");
                pos = Math.Max(pos, m.BitOffset + (m.BitfieldSize > 0 ? m.BitfieldSize : spec.SizeOf(m.Type) * 8));
            }
            if (!c.IsUnion)
            {
                Pad(sb, tabs, pos, c.Size * 8UL);
                packed |= c.Size % maxAlign != 0;
            }
            sb.Append(new string('\t', indent)).Append('}');
            if (packed)
            {
                sb.Append(" __attribute__((packed))");
            }
            return sb.ToString();
        }

        // Unnamed bitfields take space without a name or a say in the struct's alignment, so members land at their
        // BTF offsets: whole longs where 8-byte aligned, else the largest aligned unit that fits.
        private static void Pad(StringBuilder sb, string tabs, ulong from, ulong to)
        {
            while (from < to)
            {
                ulong left = to - from;
                (string unit, ulong bits) = (from % 8 != 0 || left < 8) ? ("char", Math.Min(8 - from % 8, left))
                    : (from % 64 == 0 && left >= 64) ? ("long", 64UL)
                    : (from % 32 == 0 && left >= 32) ? ("int", 32UL)
                    : (from % 16 == 0 && left >= 16) ? ("short", 16UL)
                    : ("char", 8UL);
                sb.Append(tabs).Append(unit).Append(": ").Append(bits).Append(";\n");
                from += bits;
            }
        }

        private static string EnumBody(BtfEnum e, string name, int indent)
        {
            var sb = new StringBuilder();
            sb.Append("enum").Append(name.Length > 0 ? " " + name : "").Append(" {\n");
            string tabs = new('\t', indent + 1);
            for (int i = 0; i < e.Values.Count; i++)
            {
                var v = e.Values[i];
                string value = e.IsSigned ? v.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : e.Is64 ? ((ulong)v.Value).ToString(System.Globalization.CultureInfo.InvariantCulture) + "ULL"
                    : ((uint)v.Value).ToString(System.Globalization.CultureInfo.InvariantCulture);
                sb.Append(tabs).Append(v.Name).Append(" = ").Append(value).Append(i + 1 < e.Values.Count ? ",\n" : "\n");
            }
            sb.Append(new string('\t', indent)).Append('}');
            return sb.ToString();
        }

        private uint Align(uint id)
        {
            switch (spec[spec.SkipModifiers(id)])
            {
                case BtfInt i:
                    return Math.Clamp(i.Size, 1, 8);
                case BtfFloat f:
                    return Math.Clamp(f.Size, 1, 8);
                case BtfEnum e:
                    return Math.Clamp(e.Size, 1, 8);
                case BtfPtr:
                    return 8;
                case BtfArray a:
                    return Align(a.ElementType);
                case BtfComposite c:
                    return c.Members.Count == 0 ? 1 : c.Members.Max(m => Align(m.Type));
                default:
                    return 1;
            }
        }

        private static string Describe(BtfComposite c, string name) => (c.IsUnion ? "union " : "struct ") + (name.Length > 0 ? name : "<anon>");

        // btf_dump_resolve_name: the second type of a name in the same C namespace becomes name___2, and so on.
        private static string[] UniqueNames(BtfSpec spec)
        {
            var names = new string[spec.Count];
            var seen = new Dictionary<(bool Tag, string Name), int>();
            foreach (var (id, type) in spec.All())
            {
                names[id] = type.Name;
                if (type.Name.Length == 0 || type is BtfInt or BtfFloat or BtfFwd)
                {
                    continue;
                }
                bool tag = type is BtfComposite or BtfFwd or BtfEnum;
                if (!tag && type is not BtfAlias { AliasKind: BtfKind.Typedef })
                {
                    continue;
                }
                int n = seen.TryGetValue((tag, type.Name), out int count) ? count + 1 : 1;
                seen[(tag, type.Name)] = n;
                if (n > 1)
                {
                    names[id] = type.Name + "___" + n;
                }
            }
            return names;
        }
    }
}
