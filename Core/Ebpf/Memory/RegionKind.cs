namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// What a region holds, as the verifier's register types tell pointers apart; it picks the kernel's wording when an
/// access to it faults.
/// </summary>
public enum RegionKind
{
    /// <summary>The program's context (PTR_TO_CTX), e.g. the u64 argument array of a struct_ops program.</summary>
    Context,

    /// <summary>One 512-byte stack frame (PTR_TO_STACK).</summary>
    Stack,

    /// <summary>A map value or a global-data section, which the kernel keeps in an array map (PTR_TO_MAP_VALUE).</summary>
    MapValue,

    /// <summary>A kernel struct reached through BTF (PTR_TO_BTF_ID), e.g. the tcp_sock of a congestion-control call.</summary>
    KernelObject,

    /// <summary>Other memory a helper hands out (PTR_TO_MEM).</summary>
    Memory,
    /// <summary>A packet program's packet, data_meta to data_end (PTR_TO_PACKET, PTR_TO_PACKET_META).</summary>
    Packet,
}
