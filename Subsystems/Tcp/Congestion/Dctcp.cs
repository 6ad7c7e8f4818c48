using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// tcp_dctcp (net/ipv4/tcp_dctcp.c, tcp_dctcp.h): Data Center TCP over Reno. The receiver echoes CE marks exactly;
/// the sender keeps alpha, the fraction of marked packets smoothed with g = 1/16 once per window, and on congestion
/// cuts cwnd by alpha/2 instead of half. Needs ECN (TCP_CONG_NEEDS_ECN). State is <see cref="DctcpState"/> in
/// icsk_ca_priv.
/// </summary>
public static class Dctcp
{
    /// <summary>The dctcp ops table: init, in_ack_event, cwnd_event, ssthresh, cong_avoid (reno), undo_cwnd, set_state, get_info.</summary>
    public static TcpCongestionOps Ops { get; } = new()
    {
        Name = "dctcp",
        Flags = TcpCongFlags.NeedsEcn,
        Init = DctcpMath.InitState,
        InAckEvent = DctcpMath.UpdateAlpha,
        CwndEvent = DctcpMath.CwndEvent,
        Ssthresh = DctcpMath.Ssthresh,
        CongAvoid = TcpCongKfuncs.RenoCongAvoid,
        UndoCwnd = DctcpMath.UndoCwnd,
        SetState = DctcpMath.SetState,
        GetInfo = DctcpMath.GetInfo,
    };

    /// <summary>
    /// dctcp_reno: what dctcp_init switches a socket to when ECN was not negotiated (reno's ssthresh, cong_avoid and
    /// undo under the name "dctcp-reno", and dctcp_get_info reporting "not enabled"). Not registered, as in the kernel.
    /// </summary>
    public static TcpCongestionOps RenoFallbackOps { get; } = new()
    {
        Name = "dctcp-reno",
        Ssthresh = TcpCongKfuncs.RenoSsthresh,
        CongAvoid = TcpCongKfuncs.RenoCongAvoid,
        UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
        GetInfo = DctcpMath.RenoFallbackGetInfo,
    };

    /// <summary>
    /// Whether dctcp_init would fall back to <see cref="RenoFallbackOps"/>: ECN not negotiated (TCP_ECN_OK clear).
    /// </summary>
    /// <remarks>
    /// dctcp_init swaps <c>icsk_ca_ops</c> itself and clears ECT on the socket (INET_ECN_dontxmit). The ops pointer
    /// lives in the stack, not in <see cref="TcpSock"/>, so the swap is the stack's job: it asks this before calling
    /// <see cref="TcpCongestionOps.Init"/>, which here always initialises the DCTCP state. The kernel's other
    /// condition, a listening or closed socket, is always true of a socket not yet connected and is the stack's too.
    /// </remarks>
    public static bool NeedsRenoFallback(in TcpSock sk) => (sk.EcnFlags & TcpEcnFlags.Ok) == 0;
}
