namespace BpfSim.Core.Ebpf.Btf;

// One record per BTF kind (include/uapi/linux/btf.h). Types refer to each other by id into their BtfSpec (0 is void),
// exactly as the encoded form does, so a spec read from an object and one built for bpfsim's kernel look alike.

/// <summary>A BTF type. <see cref="Name"/> is empty for anonymous types.</summary>
public abstract record BtfType(string Name)
{
    public abstract BtfKind Kind { get; }
}

/// <summary>BTF_KIND_INT encoding bits.</summary>
[Flags]
public enum BtfIntEncoding : byte
{
    None = 0,
    Signed = 1,
    Char = 2,
    Bool = 4,
}

/// <summary>BTF_KIND_INT: <paramref name="Size"/> bytes, of which <paramref name="Bits"/> from <paramref name="BitOffset"/> are the value.</summary>
public sealed record BtfInt(string Name, uint Size, BtfIntEncoding Encoding, byte BitOffset, byte Bits) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Int;
    public bool IsSigned => (Encoding & BtfIntEncoding.Signed) != 0;
}

/// <summary>BTF_KIND_PTR to <paramref name="Type"/>.</summary>
public sealed record BtfPtr(uint Type) : BtfType("")
{
    public override BtfKind Kind => BtfKind.Ptr;
}

/// <summary>BTF_KIND_ARRAY of <paramref name="Count"/> <paramref name="ElementType"/>.</summary>
public sealed record BtfArray(uint ElementType, uint IndexType, uint Count) : BtfType("")
{
    public override BtfKind Kind => BtfKind.Array;
}

/// <summary>A struct or union member: its type, and where it starts in bits (and its width if it is a bitfield, else 0).</summary>
public sealed record BtfMember(string Name, uint Type, uint BitOffset, byte BitfieldSize);

/// <summary>BTF_KIND_STRUCT or BTF_KIND_UNION of <paramref name="Size"/> bytes.</summary>
public sealed record BtfComposite(string Name, bool IsUnion, uint Size, IReadOnlyList<BtfMember> Members) : BtfType(Name)
{
    public override BtfKind Kind => IsUnion ? BtfKind.Union : BtfKind.Struct;
}

/// <summary>An enumerator.</summary>
public sealed record BtfEnumValue(string Name, long Value);

/// <summary>BTF_KIND_ENUM (<paramref name="Is64"/> false) or BTF_KIND_ENUM64.</summary>
public sealed record BtfEnum(string Name, uint Size, bool IsSigned, bool Is64, IReadOnlyList<BtfEnumValue> Values) : BtfType(Name)
{
    public override BtfKind Kind => Is64 ? BtfKind.Enum64 : BtfKind.Enum;
}

/// <summary>BTF_KIND_FWD: a struct (or union) declared but not defined here.</summary>
public sealed record BtfFwd(string Name, bool IsUnion) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Fwd;
}

/// <summary>BTF_KIND_TYPEDEF, VOLATILE, CONST, RESTRICT or TYPE_TAG: a name or qualifier over <paramref name="Type"/>.</summary>
public sealed record BtfAlias(BtfKind AliasKind, string Name, uint Type) : BtfType(Name)
{
    public override BtfKind Kind => AliasKind;
}

/// <summary>Linkage of a FUNC or VAR (BTF_FUNC_*, BTF_VAR_*).</summary>
public enum BtfLinkage : uint
{
    Static = 0,
    Global = 1,
    Extern = 2,
}

/// <summary>BTF_KIND_FUNC: a function whose prototype is <paramref name="Proto"/>.</summary>
public sealed record BtfFunc(string Name, uint Proto, BtfLinkage Linkage) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Func;
}

/// <summary>A parameter of a function prototype (an unnamed, type 0 last parameter means "...").</summary>
public sealed record BtfParam(string Name, uint Type);

/// <summary>BTF_KIND_FUNC_PROTO.</summary>
public sealed record BtfFuncProto(uint ReturnType, IReadOnlyList<BtfParam> Params) : BtfType("")
{
    public override BtfKind Kind => BtfKind.FuncProto;
}

/// <summary>BTF_KIND_VAR: a global variable.</summary>
public sealed record BtfVar(string Name, uint Type, BtfLinkage Linkage) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Var;
}

/// <summary>A variable's place in a data section.</summary>
public sealed record BtfVarSecInfo(uint Type, uint Offset, uint Size);

/// <summary>BTF_KIND_DATASEC: a section's variables (in a .o, sizes and offsets are 0 until a loader fills them in).</summary>
public sealed record BtfDatasec(string Name, uint Size, IReadOnlyList<BtfVarSecInfo> Vars) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Datasec;
}

/// <summary>BTF_KIND_FLOAT.</summary>
public sealed record BtfFloat(string Name, uint Size) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.Float;
}

/// <summary>BTF_KIND_DECL_TAG on <paramref name="Type"/> (<paramref name="ComponentIndex"/> -1 for the type itself).</summary>
public sealed record BtfDeclTag(string Name, uint Type, int ComponentIndex) : BtfType(Name)
{
    public override BtfKind Kind => BtfKind.DeclTag;
}

/// <summary>Type id 0: void.</summary>
public sealed record BtfVoid() : BtfType("")
{
    public static readonly BtfVoid Instance = new();

    public override BtfKind Kind => BtfKind.Void;
}
