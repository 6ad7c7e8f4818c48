namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// The kind of a CO-RE relocation, with libbpf's numbers (enum bpf_core_relo_kind, include/uapi/linux/bpf.h), as
/// clang writes them into .BTF.ext and as <c>bpf_core_read.h</c>'s builtins request them.
/// </summary>
public enum CoreReloKind : uint
{
    /// <summary>BPF_CORE_FIELD_BYTE_OFFSET: the field's byte offset.</summary>
    FieldByteOffset = 0,
    /// <summary>BPF_CORE_FIELD_BYTE_SIZE: the field's size in bytes (of the load that reads a bitfield).</summary>
    FieldByteSize = 1,
    /// <summary>BPF_CORE_FIELD_EXISTS: 1 if the field exists in the target, else 0.</summary>
    FieldExists = 2,
    /// <summary>BPF_CORE_FIELD_SIGNED: 1 if the field is a signed integer or enum.</summary>
    FieldSigned = 3,
    /// <summary>BPF_CORE_FIELD_LSHIFT_U64: the left shift that brings a bitfield's top bit to bit 63.</summary>
    FieldLShiftU64 = 4,
    /// <summary>BPF_CORE_FIELD_RSHIFT_U64: the right shift that brings the bitfield down to bit 0.</summary>
    FieldRShiftU64 = 5,
    /// <summary>BPF_CORE_TYPE_ID_LOCAL: the type's id in the program's own BTF.</summary>
    TypeIdLocal = 6,
    /// <summary>BPF_CORE_TYPE_ID_TARGET: the matching type's id in the kernel BTF (0 if none).</summary>
    TypeIdTarget = 7,
    /// <summary>BPF_CORE_TYPE_EXISTS: 1 if a compatible type exists in the kernel.</summary>
    TypeExists = 8,
    /// <summary>BPF_CORE_TYPE_SIZE: the kernel type's size in bytes.</summary>
    TypeSize = 9,
    /// <summary>BPF_CORE_ENUMVAL_EXISTS: 1 if the enumerator exists in the kernel's enum.</summary>
    EnumvalExists = 10,
    /// <summary>BPF_CORE_ENUMVAL_VALUE: the enumerator's value in the kernel.</summary>
    EnumvalValue = 11,
    /// <summary>BPF_CORE_TYPE_MATCHES: 1 if the kernel type matches the local one (bpf_core_types_match).</summary>
    TypeMatches = 12,
}
