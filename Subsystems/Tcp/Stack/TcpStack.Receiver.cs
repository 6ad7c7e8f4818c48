using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack
{
    /// <summary>The receiver side got a packet: the SYN, or data.</summary>
    private void ReceiverReceive(TcpConnection conn, int p)
    {
        ref var packet = ref _net.Packets[p];
        var segment = packet.Segment;
        var ecn = packet.Ecn;
        int payload = packet.PayloadBytes;
        _net.Packets.Free(p);
        if ((segment.Flags & TcpFlags.Syn) != 0)
        {
            // SYN-ACK; agree to ECN if the SYN asked for it (ECE|CWR) and we can.
            var flags = TcpFlags.Syn | TcpFlags.Ack;
            if ((segment.Flags & (TcpFlags.Ece | TcpFlags.Cwr)) == (TcpFlags.Ece | TcpFlags.Cwr))
            {
                flags |= TcpFlags.Ece;
            }
            SendControl(conn, flags, conn.Path.Reverse, ack: 1, tsEcr: segment.TsVal);
            return;
        }
        if (payload == 0)
        {
            return;
        }
        ulong seg = SegmentsBelow(conn, segment.Seq, conn.RcvNxt);
        bool immediate = false;

        // ECN at the receiver: per-packet CE echo for algorithms that need it (DCTCP's CE state machine),
        // RFC 3168 latching otherwise.
        bool ce = ecn == EcnCodepoint.Ce;
        if (conn.AccurateEcnEcho)
        {
            if (ce != conn.CeState)
            {
                if (conn.UnackedSegments > 0)
                {
                    SendAck(conn, segment.TsVal); // ACK what came before with the old CE state
                }
                conn.CeState = ce;
                immediate = true;
            }
        }
        else
        {
            if ((segment.Flags & TcpFlags.Cwr) != 0)
            {
                conn.EceLatched = false;
            }
            if (ce)
            {
                conn.EceLatched = true;
                immediate = true;
            }
        }

        if (seg < conn.RcvNxt)
        {
            immediate = true; // a duplicate: ACK at once
        }
        else if (seg == conn.RcvNxt)
        {
            bool hadHole = conn.RcvHighest > conn.RcvNxt;
            conn.RcvNxt++;
            while (conn.RcvNxt < conn.RcvHighest && conn.ReceivedAt(conn.RcvNxt))
            {
                conn.ReceivedAt(conn.RcvNxt) = false;
                conn.RcvNxt++;
            }
            conn.RcvHighest = Math.Max(conn.RcvHighest, conn.RcvNxt);
            immediate |= hadHole; // data that fills a hole is ACKed at once
        }
        else
        {
            conn.EnsureReceiveWindow(seg);
            conn.ReceivedAt(seg) = true;
            conn.RcvHighest = Math.Max(conn.RcvHighest, seg + 1);
            conn.LastOutOfOrder = seg;
            immediate = true; // out of order: a duplicate ACK with SACK
        }

        conn.UnackedSegments++;
        if (immediate || conn.QuickAcksLeft > 0 || conn.UnackedSegments >= 2)
        {
            SendAck(conn, segment.TsVal);
        }
        else if (!_sim.IsArmed(conn.DelackTimer))
        {
            _sim.Arm(conn.DelackTimer, _sim.Now + _options.DelayedAck, conn.Id);
        }
    }

    /// <summary>An ACK with up to three SACK blocks, the one holding the latest out-of-order segment first.</summary>
    private void SendAck(TcpConnection conn, uint tsEcr)
    {
        _sim.Cancel(conn.DelackTimer);
        conn.UnackedSegments = 0;
        if (conn.QuickAcksLeft > 0)
        {
            conn.QuickAcksLeft--;
        }
        ref var packet = ref NewSegment(conn, conn.Path.Reverse, TcpFlags.Ack, payload: 0, out int p);
        packet.Segment.Ack = conn.RcvNxt == 0 ? 1 : EndSeqOf(conn, conn.RcvNxt - 1);
        packet.Segment.TsEcr = tsEcr;
        if (conn.AccurateEcnEcho ? conn.CeState : conn.EceLatched)
        {
            packet.Segment.Flags |= TcpFlags.Ece;
        }
        int blocks = 0;
        if (conn.RcvHighest > conn.RcvNxt)
        {
            // The block around the most recent arrival first (RFC 2018), then the others from the lowest.
            if (conn.LastOutOfOrder >= conn.RcvNxt && conn.ReceivedAt(conn.LastOutOfOrder))
            {
                AddBlockAround(conn, ref packet.Segment, conn.LastOutOfOrder, ref blocks);
            }
            for (ulong s = conn.RcvNxt; s < conn.RcvHighest && blocks < TcpSegment.MaxSackBlocks; s++)
            {
                if (!conn.ReceivedAt(s))
                {
                    continue;
                }
                ulong start = s;
                while (s < conn.RcvHighest && conn.ReceivedAt(s))
                {
                    s++;
                }
                if (!(conn.LastOutOfOrder >= start && conn.LastOutOfOrder < s))
                {
                    SetBlock(ref packet.Segment, blocks++, SeqOf(conn, start), EndSeqOf(conn, s - 1));
                }
            }
        }
        packet.Segment.SackCount = (byte)blocks;
        packet.SizeBytes += blocks > 0 ? 4 + 8 * blocks : 0;
        _net.Send(p);
    }

    private static void AddBlockAround(TcpConnection conn, ref TcpSegment segment, ulong seg, ref int blocks)
    {
        ulong start = seg, end = seg + 1;
        while (start > conn.RcvNxt && conn.ReceivedAt(start - 1))
        {
            start--;
        }
        while (end < conn.RcvHighest && conn.ReceivedAt(end))
        {
            end++;
        }
        SetBlock(ref segment, blocks++, SeqOf(conn, start), EndSeqOf(conn, end - 1));
    }

    private static void SetBlock(ref TcpSegment s, int i, uint start, uint end)
    {
        switch (i)
        {
            case 0: s.Sack0Start = start; s.Sack0End = end; break;
            case 1: s.Sack1Start = start; s.Sack1End = end; break;
            case 2: s.Sack2Start = start; s.Sack2End = end; break;
            default: throw new ArgumentOutOfRangeException(nameof(i), i, $"at most {TcpSegment.MaxSackBlocks} SACK blocks");
        }
    }
}
