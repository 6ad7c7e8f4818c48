namespace BpfSim.Tcp.Congestion;

/// <summary>tcp_reno (net/ipv4/tcp_cong.c): the built-in every socket falls back to.</summary>
public static class Reno
{
    public static TcpCongestionOps Ops { get; } = new()
    {
        Name = "reno",
        Flags = TcpCongFlags.NonRestricted,
        Ssthresh = TcpCongKfuncs.RenoSsthresh,
        CongAvoid = TcpCongKfuncs.RenoCongAvoid,
        UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
    };
}
