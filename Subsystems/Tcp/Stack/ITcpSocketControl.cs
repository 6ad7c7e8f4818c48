using BpfSim.Core.Bpf;

namespace BpfSim.Tcp.Stack;

/// <summary>What BPF helpers may do to a socket of the stack, named by <see cref="TcpSock.SocketId"/>.</summary>
public interface ITcpSocketControl
{
    /// <summary>The socket's kernel state.</summary>
    ref TcpSock Sock(int socketId);

    /// <summary>
    /// setsockopt(TCP_CONGESTION) (tcp_set_congestion_control, net/ipv4/tcp_cong.c): the same algorithm changes nothing;
    /// another one is pinned and tcp_reinit_congestion_control moves the socket to it.
    /// </summary>
    /// <returns>ENOENT unknown, EBUSY going away, EINVAL for a receiving socket.</returns>
    BpfResult SetCongestionControl(int socketId, string name);

    /// <summary>getsockopt(TCP_CONGESTION): the socket's algorithm's name.</summary>
    string CongestionControlName(int socketId);
}
