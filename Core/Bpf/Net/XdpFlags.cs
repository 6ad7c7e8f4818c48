namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The XDP attach flags of IFLA_XDP_FLAGS and of an XDP link (include/uapi/linux/if_link.h). bpfsim keeps one XDP
/// attachment per device: the mode bits (SKB/DRV/HW) are validated as dev_xdp_attach does (at most one) but do not
/// select separate hooks.
/// </summary>
[Flags]
public enum XdpFlags : uint
{
    None = 0,

    /// <summary>XDP_FLAGS_UPDATE_IF_NOEXIST: fail with EBUSY if a program is attached.</summary>
    UpdateIfNoExist = 1 << 0,

    /// <summary>XDP_FLAGS_SKB_MODE (generic XDP).</summary>
    SkbMode = 1 << 1,

    /// <summary>XDP_FLAGS_DRV_MODE (native XDP).</summary>
    DrvMode = 1 << 2,

    /// <summary>XDP_FLAGS_HW_MODE (offload).</summary>
    HwMode = 1 << 3,

    /// <summary>XDP_FLAGS_REPLACE: replace only if the attached program is the expected one (EEXIST otherwise).</summary>
    Replace = 1 << 4,

    /// <summary>XDP_FLAGS_MODES.</summary>
    Modes = SkbMode | DrvMode | HwMode,

    /// <summary>XDP_FLAGS_MASK: every defined flag.</summary>
    Mask = UpdateIfNoExist | Modes | Replace,
}
