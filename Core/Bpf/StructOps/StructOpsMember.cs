namespace BpfSim.Core.Bpf.StructOps;

/// <summary>What a member of a struct_ops type is.</summary>
public enum StructOpsMemberKind
{
    /// <summary>A function pointer: implemented by a struct_ops program (8 bytes; user space passes a prog fd).</summary>
    Function,
    /// <summary>A NUL-terminated char array such as <c>name[16]</c>.</summary>
    CString,
    /// <summary>A u32 such as <c>flags</c>.</summary>
    U32,
    /// <summary>A u64.</summary>
    U64,
    /// <summary>A kernel pointer such as <c>owner</c>; user space must leave it zero.</summary>
    Pointer,
    /// <summary>A <c>struct list_head</c>; user space must leave it zero.</summary>
    ListHead,
}

/// <summary>
/// One member of a struct_ops type in kernel order. Function members carry the managed delegate type programs
/// must match and the C prototype bpftool prints; <see cref="Index"/> is what a program's expected_attach_type names.
/// </summary>
public sealed record StructOpsMember
{
    public required string Name { get; init; }
    public required StructOpsMemberKind Kind { get; init; }

    /// <summary>Bytes in the struct (8 for functions and pointers, 16 for a list_head, the array length for strings).</summary>
    public int Size { get; init; }

    /// <summary>The delegate type a program body must have (function members).</summary>
    public Type? Signature { get; init; }

    /// <summary>The C prototype without the name, e.g. <c>u32 (struct sock *)</c>, as bpftool prints it.</summary>
    public string CPrototype { get; init; } = "";

    /// <summary>The framework refuses an update that leaves this member without a program (EINVAL).</summary>
    public bool Mandatory { get; init; }

    /// <summary>False where the type's cfi_stubs slot is NULL: loading a program for it fails with ENOTSUPP.</summary>
    public bool Supported { get; init; } = true;

    /// <summary>Whether a sleepable program may implement it.</summary>
    public bool AllowSleepable { get; init; }

    /// <summary>Position in kernel order (the BTF member index).</summary>
    public int Index { get; init; }

    /// <summary>Byte offset within the struct (the value's data starts 64 bytes later).</summary>
    public int Offset { get; init; }

    public bool IsFunction => Kind == StructOpsMemberKind.Function;

    /// <summary>A function member.</summary>
    public static StructOpsMember Function(string name, Type signature, string cPrototype, bool mandatory = false, bool supported = true,
        bool allowSleepable = false)
    {
        if (!typeof(Delegate).IsAssignableFrom(signature))
        {
            throw new ArgumentException($"member {name}: signature {signature} is not a delegate type", nameof(signature));
        }
        return new StructOpsMember
        {
            Name = name, Kind = StructOpsMemberKind.Function, Size = 8, Signature = signature, CPrototype = cPrototype,
            Mandatory = mandatory, Supported = supported, AllowSleepable = allowSleepable,
        };
    }

    /// <summary>A data member of <paramref name="kind"/> (<paramref name="size"/> is needed for strings only).</summary>
    public static StructOpsMember Data(string name, StructOpsMemberKind kind, int size = 0) => new()
    {
        Name = name,
        Kind = kind,
        Size = kind switch
        {
            StructOpsMemberKind.CString => size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size), "a string member needs a size"),
            StructOpsMemberKind.U32 => 4,
            StructOpsMemberKind.ListHead => 16,
            StructOpsMemberKind.Function => throw new ArgumentException("use Function() for function members", nameof(kind)),
            _ => 8,
        },
    };

    internal int Alignment => Kind switch
    {
        StructOpsMemberKind.CString => 1,
        StructOpsMemberKind.U32 => 4,
        _ => 8,
    };
}
