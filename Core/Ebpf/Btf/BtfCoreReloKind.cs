namespace BpfSim.Core.Ebpf.Btf;

/// <summary>What a CO-RE relocation asks for (enum bpf_core_relo_kind, include/uapi/linux/bpf.h), with the kernel's numbers.</summary>
public enum BtfCoreReloKind : uint
{
    /// <summary>A field's byte offset.</summary>
    FieldByteOffset = 0,
    /// <summary>A field's size in bytes.</summary>
    FieldByteSize = 1,
    /// <summary>Whether the field exists in the target.</summary>
    FieldExists = 2,
    /// <summary>Whether the field is signed.</summary>
    FieldSigned = 3,
    /// <summary>The left shift that isolates a bitfield in a u64.</summary>
    FieldLShiftU64 = 4,
    /// <summary>The right shift that isolates a bitfield in a u64.</summary>
    FieldRShiftU64 = 5,
    /// <summary>The type's id in the program's own BTF.</summary>
    TypeIdLocal = 6,
    /// <summary>The type's id in the target BTF.</summary>
    TypeIdTarget = 7,
    /// <summary>Whether the type exists in the target.</summary>
    TypeExists = 8,
    /// <summary>The type's size in the target.</summary>
    TypeSize = 9,
    /// <summary>Whether the enumerator exists in the target.</summary>
    EnumValueExists = 10,
    /// <summary>The enumerator's value in the target.</summary>
    EnumValueValue = 11,
    /// <summary>Whether the target type matches the local one (bpf_core_type_matches).</summary>
    TypeMatches = 12,
}
