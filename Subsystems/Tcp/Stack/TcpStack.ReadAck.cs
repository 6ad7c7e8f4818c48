using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The receiver's ACK for a pushed segment once the application has read it. tcp_measure_rcv_mss
/// (net/ipv4/tcp_input.c) sets ICSK_ACK_PUSHED for a full-sized skb with PSH — likely the end of a write, after which
/// the sender may be waiting for this ACK — and for a short one unless it repeats the previous short size (or, without
/// PSH, is at least TCP_MIN_MSS); a second short one before an ACK also sets ICSK_ACK_PUSHED2. __tcp_cleanup_rbuf
/// (net/ipv4/tcp.c), after tcp_recvmsg copied data, sends the scheduled (delayed) ACK at once if PUSHED2 is set, or
/// PUSHED outside pingpong mode, and the read left nothing in the receive memory (sk_rmem_alloc: out-of-order data
/// counts too). Without it a write ending in an odd segment would wait for the delayed-ACK timer (TCP_ATO_MIN).
/// </summary>
/// <remarks>
/// The application reads in-order data as soon as it is queued: after each skb with GRO off, after each NAPI poll with
/// GRO (the reader runs once the softirq is done). The receiving socket sends no data, so it is never in pingpong
/// mode. __tcp_cleanup_rbuf's other reasons are covered or absent here: more than one rcv_mss unacknowledged is
/// already ACKed on receipt (__tcp_ack_snd_check, two segments here), and the window-update ACK needs a receive
/// window, which is not modelled.
/// </remarks>
public sealed partial class TcpStack
{
    /// <summary>TCP_MSS_DEFAULT (include/uapi/linux/tcp.h).</summary>
    private const uint TcpMssDefault = 536;

    /// <summary>TCP_MIN_MSS (include/net/tcp.h).</summary>
    private const uint TcpMinMss = 88;

    /// <summary>sizeof(struct tcphdr).</summary>
    private const uint TcpHdrBytes = 20;

    /// <summary>TCP_REMNANT (net/ipv4/tcp_input.c): flags that may end a short segment legitimately.</summary>
    private const TcpFlags TcpRemnant = TcpFlags.Fin | TcpFlags.Urg | TcpFlags.Syn | TcpFlags.Psh;

    /// <summary>The data segments' TCP header with its options (the timestamp): <see cref="TcpStackOptions.HeaderBytes"/> less IPv4's 20.</summary>
    private uint TcpHeaderLen => (uint)Math.Max(_options.HeaderBytes - 20, (int)TcpHdrBytes);

    /// <summary>
    /// tcp_initialize_rcv_mss (net/ipv4/tcp_input.c), for the receiving socket: min(advmss, mss_cache, rcv_wnd / 2,
    /// TCP_MSS_DEFAULT), at least TCP_MIN_MSS — 536 with a 1448-byte MSS and a large window.
    /// </summary>
    private static uint InitialRcvMss(TcpConnection conn) => Math.Max(Math.Min((uint)conn.Mss, TcpMssDefault), TcpMinMss);

    /// <summary>
    /// tcp_measure_rcv_mss (net/ipv4/tcp_input.c), for new data (in order or not) of <paramref name="gsoSize"/> bytes
    /// per segment (a GRO skb's gso_size, else its length) with the header <paramref name="flags"/> (a GRO skb's
    /// include the last merged segment's PSH).
    /// </summary>
    private void MeasureRcvMss(TcpConnection conn, int gsoSize, TcpFlags flags)
    {
        ref var rsk = ref _rcvSocks[conn.Id];
        uint lss = conn.LastSegSize;
        conn.LastSegSize = 0;
        uint len = (uint)gsoSize;
        if (len >= conn.RcvMss)
        {
            conn.RcvMss = Math.Min(len, (uint)conn.Mss); // at most advmss
            if ((flags & TcpFlags.Psh) != 0)
            {
                rsk.IcskAckPending |= IcskAck.Pushed; // a full frame with PSH: probably the end of a write
            }
            return;
        }
        // A short skb: its length with the TCP header counts; a size that repeats is the peer's real MSS.
        uint withHeader = len + TcpHeaderLen;
        if (withHeader >= TcpMssDefault + TcpHdrBytes || (withHeader >= TcpMinMss + TcpHdrBytes && (flags & TcpRemnant) == 0))
        {
            conn.LastSegSize = len; // less tcp_header_len: the same header
            if (len == lss)
            {
                conn.RcvMss = len;
                return;
            }
        }
        if ((rsk.IcskAckPending & IcskAck.Pushed) != 0)
        {
            rsk.IcskAckPending |= IcskAck.Pushed2;
        }
        rsk.IcskAckPending |= IcskAck.Pushed;
    }

    /// <summary>
    /// tcp_recvmsg → tcp_cleanup_rbuf → __tcp_cleanup_rbuf (net/ipv4/tcp.c): the application read the in-order data
    /// queued since its last read; a delayed ACK still scheduled goes out now if a pushed segment was among it
    /// (ICSK_ACK_PUSHED2, or ICSK_ACK_PUSHED and not pingpong) and nothing is left queued, out of order included.
    /// </summary>
    private void ReceiverRead(TcpConnection conn)
    {
        if (!conn.RcvUnread)
        {
            return;
        }
        conn.RcvUnread = false;
        byte pending = _rcvSocks[conn.Id].IcskAckPending;
        bool pushed = (pending & (IcskAck.Pushed | IcskAck.Pushed2)) != 0; // PUSHED counts outside pingpong mode, never entered here
        if ((pending & IcskAck.Sched) != 0 && pushed && conn.RcvHighest <= conn.RcvNxt)
        {
            SendAck(conn, conn.RcvUnreadTsVal);
        }
    }
}
