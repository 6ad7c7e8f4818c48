namespace BpfSim.Tcp.Stack;

/// <summary>The bits of <see cref="TcpSock.IcskAckPending"/> (<c>enum inet_csk_ack_state_t</c>, include/net/inet_connection_sock.h).</summary>
public static class IcskAck
{
    /// <summary>ICSK_ACK_SCHED: an ACK is scheduled.</summary>
    public const byte Sched = 1;

    /// <summary>ICSK_ACK_TIMER: the delayed-ACK timer is armed.</summary>
    public const byte Timer = 2;

    /// <summary>ICSK_ACK_PUSHED.</summary>
    public const byte Pushed = 4;

    /// <summary>ICSK_ACK_PUSHED2.</summary>
    public const byte Pushed2 = 8;

    /// <summary>ICSK_ACK_NOW: send the next ACK immediately, not delayed.</summary>
    public const byte Now = 16;
}
