namespace BpfSim.Tcp.Stack;

/// <summary>The bits of <see cref="TcpSock.EcnFlags"/> (tcp_sock.ecn_flags, include/net/tcp.h).</summary>
public static class TcpEcnFlags
{
    /// <summary>TCP_ECN_OK: ECN was negotiated on this connection.</summary>
    public const byte Ok = 1;

    /// <summary>TCP_ECN_QUEUE_CWR: send CWR on the next data segment.</summary>
    public const byte QueueCwr = 2;

    /// <summary>TCP_ECN_DEMAND_CWR: set ECE on outgoing ACKs until the peer sends CWR (DCTCP sets it per CE state).</summary>
    public const byte DemandCwr = 4;

    /// <summary>TCP_ECN_SEEN: an ECT or CE packet was received.</summary>
    public const byte Seen = 8;
}
