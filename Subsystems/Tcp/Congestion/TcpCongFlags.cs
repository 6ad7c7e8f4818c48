namespace BpfSim.Tcp.Congestion;

/// <summary>tcp_congestion_ops flags (include/net/tcp.h).</summary>
[Flags]
public enum TcpCongFlags : uint
{
    None = 0,
    /// <summary>TCP_CONG_NON_RESTRICTED: usable without CAP_NET_ADMIN.</summary>
    NonRestricted = 0x1,
    /// <summary>TCP_CONG_NEEDS_ECN: set ECT on packets and negotiate ECN.</summary>
    NeedsEcn = 0x2,
    /// <summary>TCP_CONG_MASK: every defined bit.</summary>
    Mask = NonRestricted | NeedsEcn,
}
