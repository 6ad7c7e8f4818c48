namespace BpfSim.Tcp.Stack;

/// <summary>The bits of <c>tp->ecn_flags</c> (include/net/tcp.h).</summary>
public static class TcpEcn
{
    /// <summary>TCP_ECN_OK: ECN was negotiated.</summary>
    public const byte Ok = 1;
    /// <summary>TCP_ECN_QUEUE_CWR: send CWR on the next data segment.</summary>
    public const byte QueueCwr = 2;
    /// <summary>TCP_ECN_DEMAND_CWR: the receiver echoes ECE until it sees CWR.</summary>
    public const byte DemandCwr = 4;
    /// <summary>TCP_ECN_SEEN: an ECT or CE packet arrived.</summary>
    public const byte Seen = 8;
}
