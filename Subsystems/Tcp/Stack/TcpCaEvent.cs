namespace BpfSim.Tcp.Stack;

/// <summary><c>enum tcp_ca_event</c> (include/net/tcp.h), what cwnd_event receives.</summary>
public enum TcpCaEvent : byte
{
    /// <summary>First transmit when no packets are in flight.</summary>
    TxStart = 0,
    /// <summary>Congestion window restart after idle.</summary>
    CwndRestart = 1,
    /// <summary>End of a congestion window reduction.</summary>
    CompleteCwr = 2,
    /// <summary>Loss timeout.</summary>
    Loss = 3,
    /// <summary>ECT set, but not CE marked.</summary>
    EcnNoCe = 4,
    /// <summary>Received CE marked IP packet.</summary>
    EcnIsCe = 5,
}
