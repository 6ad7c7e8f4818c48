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
    /// ACK, replacing an unsent one. tcp_dsack_extend, which grows the block instead, only runs for partial overlaps,
    /// which whole, MSS-aligned segments never produce.
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
    /// tcp_options_write: the D-SACK block first (then forgotten), then the remembered SACK blocks, most recent first,
    /// as many as the option space left by timestamps holds.
    /// </summary>
    /// <returns>The number of blocks written.</returns>
    private static int WriteSackBlocks(TcpConnection conn, ref TcpSegment segment)
    {
        int n = 0;
        if (conn.DsackPending)
        {
            SetBlock(ref segment, n++, SeqOf(conn, conn.DsackStart), EndSeqOf(conn, conn.DsackEnd - 1));
            conn.DsackPending = false;
        }
        for (int i = 0; i < conn.NumSacks && n < TcpSegment.MaxSackBlocks; i++)
        {
            SetBlock(ref segment, n++, SeqOf(conn, conn.SackStart[i]), EndSeqOf(conn, conn.SackEnd[i] - 1));
        }
        return n;
    }
}
