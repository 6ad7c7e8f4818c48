using System.Runtime.CompilerServices;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>A reference to one field of a struct value, so its offset can be measured: <c>(ref TcpSock s) => ref s.SndCwnd</c>.</summary>
public delegate ref TField FieldRef<T, TField>(ref T value) where T : unmanaged;

/// <summary>
/// Builds bpfsim's kernel BTF: the types the simulated kernel exposes to BPF programs, with the kernel's names and
/// nesting and bpfsim's own layout. Subsystems add their types through an <see cref="IKernelBtfContributor"/>; the
/// builder gives them the kernel's base types and typedefs, get-or-add by name, so two subsystems that both need
/// <c>u32</c> or <c>struct sock</c> share one id. Ids are handed out in call order, so the same contributors in the
/// same order always give the same BTF.
/// </summary>
public sealed class KernelBtfBuilder
{
    // The C base types as pahole names them in vmlinux BTF: (size, encoding).
    private static readonly Dictionary<string, (uint Size, BtfIntEncoding Encoding)> s_baseInts = new(StringComparer.Ordinal)
    {
        ["char"] = (1, BtfIntEncoding.Signed | BtfIntEncoding.Char),
        ["signed char"] = (1, BtfIntEncoding.Signed),
        ["unsigned char"] = (1, BtfIntEncoding.None),
        ["short int"] = (2, BtfIntEncoding.Signed),
        ["short unsigned int"] = (2, BtfIntEncoding.None),
        ["int"] = (4, BtfIntEncoding.Signed),
        ["unsigned int"] = (4, BtfIntEncoding.None),
        ["long int"] = (8, BtfIntEncoding.Signed),
        ["long unsigned int"] = (8, BtfIntEncoding.None),
        ["long long int"] = (8, BtfIntEncoding.Signed),
        ["long long unsigned int"] = (8, BtfIntEncoding.None),
        ["_Bool"] = (1, BtfIntEncoding.Bool),
    };

    // The kernel's fixed-width typedefs (include/uapi/asm-generic/int-ll64.h, include/linux/types.h): name → target.
    private static readonly (string Name, string Target)[] s_typedefs =
    [
        ("__s8", "signed char"), ("__u8", "unsigned char"), ("__s16", "short int"), ("__u16", "short unsigned int"),
        ("__s32", "int"), ("__u32", "unsigned int"), ("__s64", "long long int"), ("__u64", "long long unsigned int"),
        ("s8", "__s8"), ("u8", "__u8"), ("s16", "__s16"), ("u16", "__u16"),
        ("s32", "__s32"), ("u32", "__u32"), ("s64", "__s64"), ("u64", "__u64"),
        ("__be16", "__u16"), ("__be32", "__u32"), ("__wsum", "__u32"),
        ("bool", "_Bool"), ("size_t", "long unsigned int"),
    ];

    private readonly List<BtfType> _types = [];
    private readonly Dictionary<(BtfKind Kind, string Name), uint> _named = [];
    private readonly Dictionary<BtfType, uint> _anonymous = [];

    /// <summary>The number of types added so far.</summary>
    public int Count => _types.Count;

    /// <summary>The type with id <paramref name="id"/> as added so far.</summary>
    public BtfType this[uint id] => id == 0 ? BtfVoid.Instance : _types[(int)id - 1];

    /// <summary>
    /// Adds <paramref name="type"/> and returns its id. Named types are unique per kind and name (a struct and its
    /// forward declaration count as one); unnamed pointers, qualifiers, arrays and prototypes equal to one already
    /// added return that one's id.
    /// </summary>
    /// <exception cref="BtfException">A type of that kind and name exists (use <see cref="Find"/> or <see cref="Define"/>).</exception>
    public uint Add(BtfType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Name.Length == 0)
        {
            if (type is not BtfComposite && type is not BtfEnum && _anonymous.TryGetValue(type, out uint same))
            {
                return same;
            }
            _types.Add(type);
            uint anonId = (uint)_types.Count;
            if (type is not BtfComposite && type is not BtfEnum)
            {
                _anonymous[type] = anonId;
            }
            return anonId;
        }
        var key = (KeyKind(type), type.Name);
        if (_named.ContainsKey(key))
        {
            throw new BtfException($"kernel BTF already has {KeyKind(type)} {type.Name}");
        }
        _types.Add(type);
        uint id = (uint)_types.Count;
        _named[key] = id;
        return id;
    }

    /// <summary>The id of the named type of <paramref name="kind"/> (struct or union also finds a forward declaration), or null.</summary>
    public uint? Find(string name, BtfKind kind) =>
        _named.TryGetValue((kind is BtfKind.Union or BtfKind.Fwd ? BtfKind.Struct : kind, name), out uint id) ? id : null;

    /// <summary>A C base type by its vmlinux name (<c>int</c>, <c>unsigned int</c>, <c>long unsigned int</c>, <c>_Bool</c>, ...).</summary>
    /// <exception cref="ArgumentException">Not a base type bpfsim knows.</exception>
    public uint Int(string name)
    {
        if (Find(name, BtfKind.Int) is uint id)
        {
            return id;
        }
        if (!s_baseInts.TryGetValue(name, out var t))
        {
            throw new ArgumentException($"'{name}' is not a C base type", nameof(name));
        }
        return Add(new BtfInt(name, t.Size, t.Encoding, 0, (byte)(t.Size * 8)));
    }

    /// <summary>
    /// A kernel type by the name C code writes: a base type (<c>int</c>), a fixed-width typedef (<c>u32</c>,
    /// <c>__u64</c>, <c>bool</c>, <c>size_t</c>), or a typedef added before.
    /// </summary>
    /// <exception cref="ArgumentException">Neither.</exception>
    public uint Type(string name)
    {
        if (s_baseInts.ContainsKey(name))
        {
            return Int(name);
        }
        if (Find(name, BtfKind.Typedef) is uint id)
        {
            return id;
        }
        foreach (var (td, target) in s_typedefs)
        {
            if (td == name)
            {
                return Add(new BtfAlias(BtfKind.Typedef, name, Type(target)));
            }
        }
        throw new ArgumentException($"'{name}' is neither a base type nor a known typedef", nameof(name));
    }

    /// <summary>Adds every fixed-width typedef (__u8 … u64, __be16, __be32, __wsum, bool, size_t), as vmlinux.h has them.</summary>
    public void AddStandardTypedefs()
    {
        foreach (var (name, _) in s_typedefs)
        {
            Type(name);
        }
    }

    /// <summary>A pointer to <paramref name="target"/>.</summary>
    public uint Pointer(uint target) => Add(new BtfPtr(target));

    /// <summary><paramref name="target"/> qualified const.</summary>
    public uint Const(uint target) => Add(new BtfAlias(BtfKind.Const, "", target));

    /// <summary>An array of <paramref name="count"/> <paramref name="element"/>s (indexed by int, as pahole writes).</summary>
    public uint Array(uint element, uint count) => Add(new BtfArray(element, Int("int"), count));

    /// <summary>A function prototype (void return is type 0).</summary>
    public uint FuncProto(uint returnType, params (string Name, uint Type)[] parameters) =>
        Add(new BtfFuncProto(returnType, parameters.Select(p => new BtfParam(p.Name, p.Type)).ToArray()));

    /// <summary>
    /// The id of struct (or union) <paramref name="name"/>: the defined one, or a forward declaration made now that
    /// <see cref="Define"/> later turns into the definition (for pointers between types that refer to each other).
    /// </summary>
    public uint StructRef(string name, bool isUnion = false) =>
        Find(name, BtfKind.Struct) ?? Add(new BtfFwd(name, isUnion));

    /// <summary>Defines a struct or union: replaces the forward declaration of its name, or adds it.</summary>
    /// <returns>Its id.</returns>
    /// <exception cref="BtfException">It is already defined, or a member lies outside it.</exception>
    public uint Define(BtfComposite composite)
    {
        ArgumentNullException.ThrowIfNull(composite);
        foreach (var m in composite.Members)
        {
            if ((ulong)m.BitOffset + m.BitfieldSize > composite.Size * 8UL)
            {
                throw new BtfException($"{composite.Name}.{m.Name} at bit {m.BitOffset} lies outside its {composite.Size} bytes");
            }
        }
        if (composite.Name.Length > 0 && Find(composite.Name, BtfKind.Struct) is uint id)
        {
            if (this[id] is not BtfFwd)
            {
                throw new BtfException($"kernel BTF already defines {composite.Name}");
            }
            _types[(int)id - 1] = composite;
            return id;
        }
        return Add(composite);
    }

    /// <summary>
    /// Defines one level of a kernel struct hierarchy laid over a single flat simulated struct: <c>struct
    /// <paramref name="name"/></c> spans all <paramref name="size"/> bytes; the level it extends (<paramref
    /// name="baseMember"/> of type <paramref name="baseType"/>, e.g. <c>tcp_sock.inet_conn</c>) sits at offset 0 and
    /// spans them too, and the level's own members sit at their real offsets. C cannot put both at their places in
    /// one struct, so when there are both they share an anonymous union:
    /// <c>struct tcp_sock { union { struct inet_connection_sock inet_conn; struct { u32 snd_cwnd; ... }; }; }</c>.
    /// CO-RE matches members by name through anonymous members, so programs built against the kernel's own headers
    /// relocate against this, and the vmlinux.h written from it gives every member bpfsim's offset.
    /// </summary>
    /// <param name="name">The struct's name.</param>
    /// <param name="size">The flat struct's size.</param>
    /// <param name="baseMember">The member naming the level below, or null for the bottom level.</param>
    /// <param name="baseType">That level's type id (ignored without <paramref name="baseMember"/>).</param>
    /// <param name="own">This level's members, with offsets within the flat struct, in offset order.</param>
    /// <returns>The struct's id.</returns>
    public uint DefineOverlay(string name, uint size, string? baseMember, uint baseType, IReadOnlyList<BtfMember> own)
    {
        ArgumentNullException.ThrowIfNull(own);
        if (baseMember is null)
        {
            return Define(new BtfComposite(name, false, size, own));
        }
        var nested = Member(baseMember, baseType, 0);
        if (own.Count == 0)
        {
            return Define(new BtfComposite(name, false, size, [nested]));
        }
        // The level's own members end where its last one does: padding them out to the whole overlay would make
        // clang (14) refuse CO-RE bitfield reads in them ("requiring too big alignment").
        var spec = new BtfSpec(_types);
        ulong end = own.Max(m => m.BitfieldSize != 0 ? m.BitOffset + m.BitfieldSize : m.BitOffset + spec.SizeOf(m.Type) * 8);
        uint ownSize = (uint)Math.Min(size, (end + 63) / 64 * 8);
        uint ownStruct = Add(new BtfComposite("", false, ownSize, own));
        uint union = Add(new BtfComposite("", true, size, [nested, Member("", ownStruct, 0)]));
        return Define(new BtfComposite(name, false, size, [Member("", union, 0)]));
    }

    /// <summary>Adds a named enum of 4 bytes (unsigned unless a value is negative).</summary>
    public uint Enum(string name, params (string Name, long Value)[] values) =>
        Add(new BtfEnum(name, 4, values.Any(v => v.Value < 0), false, values.Select(v => new BtfEnumValue(v.Name, v.Value)).ToArray()));

    /// <summary>A member at <paramref name="byteOffset"/>.</summary>
    public static BtfMember Member(string name, uint type, int byteOffset) => new(name, type, (uint)byteOffset * 8, 0);

    /// <summary>A bitfield of <paramref name="bits"/> bits starting at bit <paramref name="bitOffset"/> of the struct.</summary>
    public static BtfMember Bitfield(string name, uint type, int bitOffset, int bits) => new(name, type, (uint)bitOffset, (byte)bits);

    /// <summary>The byte offset of a field in <typeparamref name="T"/> as the runtime lays it out (not as marshalling would).</summary>
    public static int OffsetOf<T, TField>(FieldRef<T, TField> field) where T : unmanaged
    {
        T value = default;
        return (int)Unsafe.ByteOffset(ref Unsafe.As<T, byte>(ref value), ref Unsafe.As<TField, byte>(ref field(ref value)));
    }

    /// <summary>The types added, as a spec (forward declarations never defined stay BTF_KIND_FWD).</summary>
    public BtfSpec Build() => new(_types);

    private static BtfKind KeyKind(BtfType type) => type.Kind is BtfKind.Union or BtfKind.Fwd ? BtfKind.Struct : type.Kind;
}
