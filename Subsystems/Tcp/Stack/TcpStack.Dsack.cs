using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The receiver's D-SACK (RFC 2883): a duplicate segment is reported in the first SACK block of the next ACK
/// (tcp_dsack_set in net/ipv4/tcp_input.c, written by tcp_options_write in tcp_output.c).
/// </summary>
public sealed partial class TcpStack
{
    /// <summary>
    /// tcp_dsack_set: remember the duplicate [<paramref name="start"/>, <paramref name="end"/>) (segments) for the next
    /// ACK, replacing an unsent one.
    /// </summary>
    private void DsackSet(TcpConnection conn, ulong start, ulong end)
    {
        if (!_options.SendsDsack)
        {
            return;
        }
        conn.DsackPending = true;
        conn.DsackStart = start;
        conn.DsackEnd = end;
    }

    /// <summary>
    /// tcp_dsack_extend: with no D-SACK waiting, tcp_dsack_set; else the waiting block grows to cover
    /// [<paramref name="start"/>, <paramref name="end"/>) if the two overlap or touch (tcp_sack_extend), and is left as
    /// it is if not. Only a GRO-merged skb of several segments makes it matter (tcp_ofo_queue, tcp_data_queue_ofo).
    /// </summary>
    private void DsackExtend(TcpConnection conn, ulong start, ulong end)
    {
        if (!conn.DsackPending)
        {
            DsackSet(conn, start, end);
        }
        else if (start <= conn.DsackEnd && conn.DsackStart <= end)
        {
            conn.DsackStart = Math.Min(conn.DsackStart, start);
            conn.DsackEnd = Math.Max(conn.DsackEnd, end);
        }
    }

    /// <summary>One past the run of received segments that starts at <paramref name="start"/> (received), before <paramref name="limit"/>.</summary>
    private static ulong ReceivedRunEnd(TcpConnection conn, ulong start, ulong limit)
    {
        ulong end = start + 1;
        while (end < limit && conn.ReceivedAt(end))
        {
            end++;
        }
        return end;
    }

    /// <summary>
    /// The out-of-order data in [<paramref name="from"/>, <paramref name="end"/>) that a new skb duplicates: each
    /// queued run (the ofo queue's skbs, coalesced when contiguous) is passed to <see cref="DsackExtend"/>, cut at
    /// <paramref name="end"/> — tcp_ofo_queue's dsack_high for an in-order skb, merge_right of tcp_data_queue_ofo for
    /// an out-of-order one. Runs are apart, so only the first can start or grow a block.
    /// </summary>
    private void DsackCoveredRuns(TcpConnection conn, ulong from, ulong end)
    {
        for (ulong s = from; s < end && s < conn.RcvHighest; s++)
        {
            if (!conn.ReceivedAt(s))
            {
                continue;
            }
            ulong runEnd = ReceivedRunEnd(conn, s, Math.Min(end, conn.RcvHighest));
            DsackExtend(conn, s, runEnd);
            s = runEnd;
        }
    }

    /// <summary>
    /// tcp_options_write: the D-SACK block first (then forgotten), then the remembered SACK blocks, most recent first,
    /// as many as the option space left by timestamps holds.
    /// </summary>
    /// <returns>The number of blocks written.</returns>
    private static int WriteSackBlocks(TcpConnection conn, ref SackBlocks sacks)
    {
        int n = 0;
        if (conn.DsackPending)
        {
            SetBlock(ref sacks, n++, SeqOf(conn, conn.DsackStart), EndSeqOf(conn, conn.DsackEnd - 1));
            conn.DsackPending = false;
        }
        for (int i = 0; i < conn.NumSacks && n < TcpSegment.MaxSackBlocks; i++)
        {
            SetBlock(ref sacks, n++, SeqOf(conn, conn.SackStart[i]), EndSeqOf(conn, conn.SackEnd[i] - 1));
        }
        return n;
    }
}
