using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Tracing;

/// <summary>
/// Receives every per-event record of a TCP run (DESIGN §7: traces): each ACK the sender processed, each data segment
/// sent, each drop or mark at a queue, and each congestion-control hook call. Set on <see cref="TcpStack.Tracer"/> and
/// <see cref="Network.Tracer"/>; with none set a call point costs one null check. A tracer only reads what it is
/// given: a traced run is bit-identical to an untraced one.
/// </summary>
/// <remarks>
/// Calls come from the packet path with primitives and references to the socket as it is, so an implementation must
/// not allocate per call (copy what it needs into a pre-sized buffer and write it out in batches).
/// </remarks>
public interface ITcpTracer
{
    /// <summary>
    /// The sender of connection <paramref name="flow"/> finished processing an ACK (tcp_ack, after congestion control
    /// and before it transmits what the ACK allows): <paramref name="sk"/> holds cwnd, ssthresh, srtt, mdev,
    /// packets in flight and ca_state as they now are, <paramref name="rs"/> this ACK's delivery-rate sample.
    /// </summary>
    /// <param name="ackSeq">The segment's acknowledgment number (bytes, 32-bit wire value).</param>
    void Ack(long timeNs, int flow, uint ackSeq, in TcpSock sk, in RateSample rs);

    /// <summary>
    /// Connection <paramref name="flow"/> put a data segment on the wire: bytes [<paramref name="seq"/>,
    /// <paramref name="endSeq"/>), with cwnd and packets in flight after it was counted.
    /// </summary>
    void Send(long timeNs, int flow, uint seq, uint endSeq, TcpSendFlags flags, in TcpSock sk);

    /// <summary>
    /// A packet of flow <see cref="Packet.Flow"/> was dropped or CE-marked by <paramref name="link"/>'s queue, or lost
    /// on its wire; <see cref="QueueDiscipline.Length"/> is the queue as the packet found it (a drop) or left it.
    /// </summary>
    void Queue(long timeNs, Link link, in Packet packet, TcpQueueEvent what);

    /// <summary>
    /// A tcp_congestion_ops member was called on <paramref name="sk"/> (a sending socket, or with a negative
    /// <see cref="TcpSock.SocketId"/> a receiving one): its arguments (0 where it has fewer), what it returned
    /// (<see cref="TcpCaCall.NoReturn"/> for a void member), and the socket before and after.
    /// </summary>
    void CaCall(long timeNs, in TcpSock sk, in TcpCaCall call, in TcpCaSnapshot before);
}
