namespace BpfSim.Tcp.Net;

/// <summary>
/// What the packet hooks of one interface did with the packets they ran on (nothing is counted while no hook is
/// attached), and the packets the interface's node could not forward after a hook sent them off their route.
/// </summary>
public sealed class XdpCounters
{
    /// <summary>XDP_PASS (the packet went on to tcx and forwarding).</summary>
    public long Pass { get; internal set; }

    /// <summary>XDP_DROP.</summary>
    public long Drop { get; internal set; }

    /// <summary>XDP_TX: sent back out of this interface.</summary>
    public long Tx { get; internal set; }

    /// <summary>XDP_REDIRECT (or TC_ACT_REDIRECT) that went out of the chosen interface.</summary>
    public long Redirect { get; internal set; }

    /// <summary>
    /// XDP_ABORTED, an unknown action, or a program fault: dropped, each one a firing of the kernel's xdp_exception
    /// trace point.
    /// </summary>
    public long Aborted { get; internal set; }

    /// <summary>TC_ACT_SHOT (and the actions that consume the packet: STOLEN, QUEUED, TRAP) at tcx ingress.</summary>
    public long TcxDrop { get; internal set; }

    /// <summary>
    /// A redirect with no usable target: no interface of that ifindex on this node, or one with no link toward the
    /// packet's destination (the kernel's xdp_redirect_err); dropped.
    /// </summary>
    public long RedirectFailed { get; internal set; }

    /// <summary>Packets a hook sent off their route that reached a node with no route to their destination; dropped.</summary>
    public long NoRoute { get; internal set; }

    /// <summary>Packets a router would have forwarded with TTL 1 or less (ip_forward's too_many_hops); dropped.</summary>
    public long TtlExpired { get; internal set; }

    /// <summary>Whether anything was counted.</summary>
    public bool Any => Pass + Drop + Tx + Redirect + Aborted + TcxDrop + RedirectFailed + NoRoute + TtlExpired > 0;
}
