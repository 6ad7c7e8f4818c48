namespace BpfSim.Core.Bpf.Net;

/// <summary>What an XDP program returns: <c>enum xdp_action</c> (include/uapi/linux/bpf.h).</summary>
public enum XdpAction : uint
{
    /// <summary>A program error: the packet is dropped and the xdp_exception trace point fires.</summary>
    Aborted = 0,
    Drop = 1,
    /// <summary>On to the stack (then tc, then forwarding).</summary>
    Pass = 2,
    /// <summary>Out again through the interface it came in on.</summary>
    Tx = 3,
    /// <summary>Out through the interface (or map entry) a redirect helper chose.</summary>
    Redirect = 4,
}
