using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The helpers of BPF_PROG_TYPE_XDP beyond the base ones (net/core/filter.c xdp_func_proto): bpf_redirect,
/// bpf_redirect_map on a DEVMAP, bpf_xdp_adjust_head and bpf_xdp_adjust_tail.
/// </summary>
public static class XdpHelpers
{
    public const int Redirect = 23;
    public const int XdpAdjustHead = 44;
    public const int RedirectMap = 51;
    public const int XdpAdjustTail = 65;

    /// <summary>BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS: the devmap's own flags (include/uapi/linux/bpf.h).</summary>
    public const ulong DevmapFlagMask = (1UL << 3) | (1UL << 4);

    /// <summary>The helper <paramref name="id"/> for an XDP program, or null.</summary>
    public static BpfFunction? For(int id) => id switch
    {
        Redirect => DoRedirect,
        RedirectMap => DoRedirectMap,
        XdpAdjustHead => (ref RunContext c, ulong _, ulong delta, ulong _, ulong _, ulong _) => (ulong)c.AdjustHead((int)delta),
        XdpAdjustTail => (ref RunContext c, ulong _, ulong delta, ulong _, ulong _, ulong _) => (ulong)c.AdjustTail((int)delta),
        _ => BaseHelpers.For(id),
    };

    /// <summary>bpf_xdp_redirect: any flag → XDP_ABORTED; else the target is the ifindex, and XDP_REDIRECT.</summary>
    private static ulong DoRedirect(ref RunContext c, ulong ifindex, ulong flags, ulong _, ulong __, ulong ___)
    {
        if (flags != 0)
        {
            return (ulong)XdpAction.Aborted;
        }
        c.RedirectIfindex = (uint)ifindex;
        return (ulong)XdpAction.Redirect;
    }

    /// <summary>
    /// __bpf_xdp_redirect_map on a devmap: flags beyond the action bits and the devmap flags → XDP_ABORTED; a missing
    /// entry returns the flags' action bits (XDP_ABORTED when none); BPF_F_BROADCAST is not simulated (XDP_ABORTED).
    /// </summary>
    private static ulong DoRedirectMap(ref RunContext c, ulong map, ulong key, ulong flags, ulong _, ulong __)
    {
        const ulong actionMask = 3; // XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX
        var state = (ProgramCallState)c.CallerState!;
        var m = state.Object.MapAt(c.Memory, map) as DevMap ?? throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter,
            $"cannot pass this map into func bpf_redirect_map#{RedirectMap}: bpfsim redirects through BPF_MAP_TYPE_DEVMAP only", map);
        if ((flags & ~(actionMask | DevmapFlagMask)) != 0 || (flags & (1UL << 3)) != 0)
        {
            return (ulong)XdpAction.Aborted;
        }
        if (key > uint.MaxValue || !m.TryGetIfindex((uint)key, out uint ifindex))
        {
            c.RedirectIfindex = 0;
            return flags & actionMask;
        }
        c.RedirectIfindex = ifindex;
        return (ulong)XdpAction.Redirect;
    }
}
