namespace BpfSim.Tcp.Stack;

/// <summary>
/// What the one retransmission timer of a socket is armed for (icsk_pending, include/net/inet_connection_sock.h):
/// the RTO, RACK's reordering timeout or a tail loss probe.
/// </summary>
internal enum XmitTimer : byte
{
    None = 0,
    /// <summary>ICSK_TIME_RETRANS.</summary>
    Retrans = 1,
    /// <summary>ICSK_TIME_REO_TIMEOUT.</summary>
    ReoTimeout = 6,
    /// <summary>ICSK_TIME_LOSS_PROBE.</summary>
    LossProbe = 5,
}
