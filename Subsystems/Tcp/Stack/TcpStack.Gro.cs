using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The receiving host's NIC: interrupt coalescing, a NAPI poll and GRO (net/core/gro.c, tcp_gro_receive in
/// net/ipv4/tcp_offload.c, inet_gro_receive in af_inet.c), deterministic. A data packet that finds no poll pending
/// raises the interrupt <see cref="TcpStackOptions.NapiCoalesce"/> later; the poll takes what arrived meanwhile, up
/// to the NAPI budget of 64 (the 64th arrival polls at once), merges runs of the flow's segments and flushes every
/// merged skb to TCP at its end (napi_complete_done → napi_gro_flush), in arrival order. Each receiving socket is a
/// host of its own (a dumbbell gives every flow its own access link), so a poll sees one flow.
/// </summary>
/// <remarks>
/// A packet joins the skb being built when tcp_gro_receive would not flush: it continues the sequence
/// (th2->seq + len == th->seq), its flags equal the held skb's apart from CWR, FIN and PSH and it has no CWR, its
/// TCP options equal (the timestamp option: TSval ticks in milliseconds in Linux, so segments sent within one
/// millisecond of the sender's clock), its IP TOS equal (no ECN codepoint change, inet_gro_flush), its payload is no
/// bigger than the held skb's gso_size (the first segment's payload), and the skb stays under gro_max_size
/// (GRO_LEGACY_MAX_SIZE, 64 KiB with headers). A segment shorter than gso_size, or with PSH, is merged and ends the
/// skb, whose header takes its PSH; a segment with PSH and nothing held is delivered alone. The sender sets PSH on the
/// last segment of every TSO skb and of every write (TcpStack.Psh.cs), so merged skbs end there. It never sends FIN,
/// and data carries no TSecr, so those rules do not arise. With GRO off, packets reach TCP as they arrive, as over
/// veth (no NAPI coalescing on its receive path).
/// </remarks>
public sealed partial class TcpStack
{
    /// <summary>NAPI_POLL_WEIGHT: packets one poll may take.</summary>
    internal const int NapiBudget = 64;

    /// <summary>gro_max_size: GRO_LEGACY_MAX_SIZE, the merged skb's bytes from the IP header on.</summary>
    internal const int GroMaxSize = 65536;

    /// <summary>A data packet reached the receiving host's NIC.</summary>
    private void ReceiverArrive(TcpConnection conn, int p)
    {
        long now = _sim.Now.Nanoseconds;
        if (now >= _owdFromNs && now <= _owdToNs && _net.Packets[p].PayloadBytes > 0)
        {
            AddOneWayDelay(conn, _net.Packets[p].Segment.TsVal, now);
        }
        if (!_options.Gro)
        {
            ReceiverReceive(conn, p, 1, _net.Packets[p].PayloadBytes);
            ReceiverRead(conn);
            return;
        }
        var batch = conn.NapiBatch ??= new int[NapiBudget];
        batch[conn.NapiCount++] = p;
        if (conn.NapiCount == 1)
        {
            _sim.Arm(conn.NapiTimer, _sim.Now + _options.NapiCoalesce, conn.Id);
        }
        if (conn.NapiCount == NapiBudget)
        {
            _sim.Cancel(conn.NapiTimer);
            NapiPoll(conn);
        }
    }

    /// <summary>
    /// The NAPI poll: GRO over the packets taken, in arrival order, each merged skb handed to TCP
    /// (<see cref="ReceiverReceive"/>) with the segments it holds; then the application reads (<see cref="ReceiverRead"/>).
    /// </summary>
    private void NapiPoll(TcpConnection conn)
    {
        var batch = conn.NapiBatch!;
        int n = conn.NapiCount;
        conn.NapiCount = 0;
        for (int i = 0; i < n;)
        {
            int count = GroRun(batch, i, n);
            ref var head = ref _net.Packets[batch[i]];
            int payload = head.PayloadBytes;
            for (int k = 1; k < count; k++)
            {
                ref var q = ref _net.Packets[batch[i + k]];
                payload += q.PayloadBytes;
                head.Segment.Flags |= q.Segment.Flags & (TcpFlags.Psh | TcpFlags.Fin); // tcp_gro_receive
                _net.Packets.Free(batch[i + k]);
            }
            ReceiverReceive(conn, batch[i], count, payload);
            i += count;
        }
        ReceiverRead(conn);
    }

    /// <summary>How many packets from <paramref name="first"/> on tcp_gro_receive merges into one skb.</summary>
    internal int GroRun(int[] batch, int first, int n)
    {
        ref var head = ref _net.Packets[batch[first]];
        int gsoSize = head.PayloadBytes;
        // A SYN, or a segment whose flags flush at once (URG, PSH, RST, SYN, FIN), is delivered alone.
        if (gsoSize == 0 || (head.Segment.Flags & (TcpFlags.Urg | TcpFlags.Psh | TcpFlags.Rst | TcpFlags.Syn | TcpFlags.Fin)) != 0)
        {
            return 1;
        }
        const TcpFlags mayDiffer = TcpFlags.Cwr | TcpFlags.Fin | TcpFlags.Psh;
        uint nextSeq = head.Segment.Seq + (uint)gsoSize;
        int len = _options.HeaderBytes + gsoSize;
        int count = 1;
        while (first + count < n)
        {
            ref var q = ref _net.Packets[batch[first + count]];
            int qLen = q.PayloadBytes;
            if (qLen == 0 || qLen > gsoSize || q.Segment.Seq != nextSeq
                || (q.Segment.Flags & TcpFlags.Cwr) != 0
                || ((q.Segment.Flags ^ head.Segment.Flags) & ~mayDiffer) != 0
                || q.Segment.TsVal / 1000 != head.Segment.TsVal / 1000 || q.Segment.TsEcr != head.Segment.TsEcr
                || q.Ecn != head.Ecn
                || len + qLen >= GroMaxSize) // skb_gro_receive: -E2BIG
            {
                break;
            }
            count++;
            nextSeq += (uint)qLen;
            len += qLen;
            if (qLen < gsoSize || (q.Segment.Flags & (TcpFlags.Psh | TcpFlags.Fin)) != 0)
            {
                break; // out_check_final: a short last segment (or PSH/FIN) flushes the skb
            }
        }
        return count;
    }
}
