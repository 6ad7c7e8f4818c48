namespace BpfSim.Tcp.Stack;

/// <summary>
/// Which data segments the sender sends with PSH. tcp_sendmsg ends every write with tcp_push, whose tcp_mark_push
/// sets PSH on the write queue's tail skb (net/ipv4/tcp.c); tso_fragment and tcp_fragment keep it on the part holding
/// the skb's end, and GSO on the last segment (tcp_gso_segment, net/ipv4/tcp_offload.c). __tcp_transmit_skb
/// (net/ipv4/tcp_output.c) also sets PSH on every skb of more than one segment, "to expedite GRO flush at receiver".
/// The receiver acknowledges a pushed segment when the application reads it (TcpStack.ReadAck.cs).
/// </summary>
/// <remarks>
/// A later write that appends to the same unsent skb clears the mark (tcp_sendmsg: the first copy of a call clears
/// PSH on the skb it fills), unless that skb had reached the size goal, so that the write began a new one. Not
/// modelled: the marks of a writer blocked on sk_sndbuf (wait_for_space → tcp_push), since the application here tops
/// the queue up on every ACK rather than sleeping until a third of the buffer is free (sk_stream_write_space), and
/// forced_push, which needs more than max_window / 2 written since the last mark: with the receive window taken as
/// large (65535 scaled by 2^7), 4,194,240 bytes, which a writer held by a send buffer of at most tcp_wmem[2]
/// (4,194,304 bytes) reaches between two wait_for_space marks only if the whole queue drained meanwhile.
/// </remarks>
public sealed partial class TcpStack
{
    /// <summary>Segments one burst of <paramref name="conn"/>'s application writes (whole segments).</summary>
    private static long BurstSegments(TcpConnection conn) => (conn.Writes!.BurstBytes + conn.Mss - 1) / conn.Mss;

    /// <summary>
    /// Whether new data <paramref name="seg"/> … + <paramref name="segs"/> − 1, about to be sent as one skb, holds the end
    /// of a pushed write: tcp_grow_skb merged any write-queue skb inside it whole, taking its PSH to this skb's end.
    /// </summary>
    private bool HoldsPushedWriteEnd(TcpConnection conn, ulong seg, uint segs)
    {
        for (uint i = 0; i < segs; i++)
        {
            if (EndsPushedWrite(conn, seg + i))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether segment <paramref name="seg"/>, about to be sent for the first time, ends a write whose tcp_mark_push
    /// still holds: the last segment of a sized transfer, or of a burst that no later write has appended to (none
    /// came yet, or the skb it ends had reached the size goal).
    /// </summary>
    private bool EndsPushedWrite(TcpConnection conn, ulong seg)
    {
        long end = (long)seg + 1;
        if (end != conn.TotalSegments && (conn.Writes is null || end % BurstSegments(conn) != 0))
        {
            return false;
        }
        // The segment is unsent, so the current run of writes' skbs began at or before it (SkbCutBase ≤ seg).
        return end >= conn.WrittenSegments || ((ulong)end - conn.SkbCutBase) % SizeGoalSegs(conn) == 0;
    }
}
