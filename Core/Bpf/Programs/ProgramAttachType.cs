namespace BpfSim.Core.Bpf.Programs;

/// <summary>
/// A program's expected_attach_type, numbered as <c>enum bpf_attach_type</c> in include/uapi/linux/bpf.h: the values
/// bpfsim's loader sets for XDP programs (libbpf's section_defs give them from the section name). An XDP program
/// loaded for a devmap or cpumap entry cannot be attached to a device (dev_xdp_install, net/core/dev.c).
/// </summary>
public enum ProgramAttachType : uint
{
    /// <summary>None given (0, the value a loader that sets none passes); for an XDP program the same as <see cref="Xdp"/>.</summary>
    Unspecified = 0,
    /// <summary>BPF_XDP_DEVMAP: <c>SEC("xdp/devmap")</c>, a program run by a devmap entry on the way out.</summary>
    XdpDevmap = 33,
    /// <summary>BPF_XDP_CPUMAP: <c>SEC("xdp/cpumap")</c>, a program run by a cpumap entry on the target CPU.</summary>
    XdpCpumap = 35,
    /// <summary>BPF_XDP: <c>SEC("xdp")</c>, a device's XDP hook.</summary>
    Xdp = 37,
}
