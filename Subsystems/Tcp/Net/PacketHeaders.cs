using System.Buffers.Binary;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Builds the Ethernet II / IPv4 / TCP frame of a simulated packet into a buffer: the headers as Linux would send
/// them (DF, TTL 64 unless told otherwise, the packet's ECN codepoint; the TCP options of tcp_established_options and tcp_syn_options:
/// timestamps on every segment, SACK blocks on ACKs, MSS, SACK-permitted and window scale 7 on SYNs), both checksums,
/// and a zero-filled payload of the packet's length, of which only what fits in the buffer is written. One
/// implementation for every reader of packet bytes: <c>--pcap</c>'s frames and the frame an XDP program runs on.
/// </summary>
public static class PacketHeaders
{
    public const int EthernetBytes = 14;
    public const int IpBytes = 20;

    /// <summary>Linux's default IPv4 TTL (sysctl net.ipv4.ip_default_ttl).</summary>
    public const byte DefaultTtl = 64;

    /// <summary>Window scale both ends announce on their SYNs (Linux picks 7 for its default buffers).</summary>
    public const int WindowScale = 7;

    /// <summary>
    /// Writes the frame of <paramref name="packet"/> (of <paramref name="flow"/>, from its sender when
    /// <paramref name="fromSender"/>), whose SACK blocks are <paramref name="sacks"/>, into <paramref name="frame"/>; returns the frame's full length on the wire and
    /// sets <paramref name="captured"/> to the bytes written (the full length cut at the buffer's size).
    /// <paramref name="ttl"/> is the IPv4 TTL the frame carries.
    /// </summary>
    public static int Build(Span<byte> frame, in Packet packet, in SackBlocks sacks, ref FlowAddresses flow, bool fromSender, out int captured, byte ttl = DefaultTtl)
    {
        Span<byte> header = stackalloc byte[EthernetBytes + IpBytes + 60];
        var seg = packet.Segment;
        bool syn = (seg.Flags & TcpFlags.Syn) != 0;
        int optionBytes = syn ? 20 : 12 + (seg.SackCount > 0 ? 4 + 8 * seg.SackCount : 0);
        int tcpBytes = 20 + optionBytes;
        int payload = Math.Max(packet.PayloadBytes, 0);
        int ipTotal = IpBytes + tcpBytes + payload;

        // Ethernet: locally administered MACs, 02:00:00:00:00:01 on the sender side, :02 on the receiver side.
        var eth = header[..EthernetBytes];
        eth.Clear();
        eth[0] = 0x02; eth[5] = (byte)(fromSender ? 2 : 1);
        eth[6] = 0x02; eth[11] = (byte)(fromSender ? 1 : 2);
        BinaryPrimitives.WriteUInt16BigEndian(eth[12..], 0x0800);

        uint src = fromSender ? flow.SenderIp : flow.ReceiverIp;
        uint dst = fromSender ? flow.ReceiverIp : flow.SenderIp;
        var ip = header.Slice(EthernetBytes, IpBytes);
        ip[0] = 0x45;
        ip[1] = (byte)packet.Ecn; // DSCP 0, the two ECN bits
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)Math.Min(ipTotal, ushort.MaxValue));
        ushort id = fromSender ? flow.SenderIpId++ : flow.ReceiverIpId++;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF, no fragment offset
        ip[8] = ttl;
        ip[9] = 6;
        ip[10] = ip[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dst);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Of(ip));

        var tcp = header.Slice(EthernetBytes + IpBytes, tcpBytes);
        tcp.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, fromSender ? flow.SenderPort : flow.ReceiverPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromSender ? flow.ReceiverPort : flow.SenderPort);
        uint ownIsn = fromSender ? flow.SenderIsn : flow.ReceiverIsn;
        uint peerIsn = fromSender ? flow.ReceiverIsn : flow.SenderIsn;
        // The simulated sender's SYN is sequence 0 and its data starts at 1; the receiver sends no data, so its SYN-ACK is
        // 0 and its ACKs 1. A sender segment other than the SYN acknowledges the SYN-ACK (peer ISN + 1).
        uint seq = fromSender ? seg.Seq : syn ? 0u : 1u;
        uint ack = fromSender ? (syn ? 0u : 1u) : seg.Ack;
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], ownIsn + seq);
        var flags = seg.Flags;
        if (fromSender && !syn)
        {
            flags |= TcpFlags.Ack;
        }
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], (flags & TcpFlags.Ack) != 0 ? peerIsn + ack : 0);
        tcp[12] = (byte)(tcpBytes / 4 << 4);
        tcp[13] = (byte)flags;
        // No receive window is simulated: advertise the largest (65535, scaled by 2^7 once both SYNs announced it).
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 0xFFFF);
        var opt = tcp[20..];
        if (syn)
        {
            // tcp_syn_options' order: MSS, SACK-permitted + timestamps, NOP + window scale.
            opt[0] = 2; opt[1] = 4; BinaryPrimitives.WriteUInt16BigEndian(opt[2..], flow.Mss);
            opt[4] = 4; opt[5] = 2;
            WriteTimestamps(opt[6..], seg);
            opt[16] = 1; opt[17] = 3; opt[18] = 3; opt[19] = WindowScale;
        }
        else
        {
            opt[0] = 1; opt[1] = 1;
            WriteTimestamps(opt[2..], seg);
            if (seg.SackCount > 0)
            {
                opt[12] = 1; opt[13] = 1; opt[14] = 5; opt[15] = (byte)(2 + 8 * seg.SackCount);
                for (int b = 0; b < seg.SackCount; b++)
                {
                    var (start, end) = b switch { 0 => (sacks.Sack0Start, sacks.Sack0End), 1 => (sacks.Sack1Start, sacks.Sack1End), _ => (sacks.Sack2Start, sacks.Sack2End) };
                    BinaryPrimitives.WriteUInt32BigEndian(opt[(16 + 8 * b)..], peerIsn + start);
                    BinaryPrimitives.WriteUInt32BigEndian(opt[(20 + 8 * b)..], peerIsn + end);
                }
            }
        }
        // TCP checksum over the pseudo-header, the header and the (all-zero) payload, which adds nothing but its length.
        uint sum = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6u + (uint)(tcpBytes + payload);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Finish(InternetChecksum.Add(sum, tcp)));

        int headerBytes = EthernetBytes + IpBytes + tcpBytes;
        int wire = headerBytes + payload;
        captured = Math.Min(wire, frame.Length);
        int copied = Math.Min(headerBytes, captured);
        header[..copied].CopyTo(frame);
        frame[copied..captured].Clear();
        return wire;
    }

    private static void WriteTimestamps(Span<byte> opt, in TcpSegment seg)
    {
        opt[0] = 8; opt[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(opt[2..], seg.TsVal);
        BinaryPrimitives.WriteUInt32BigEndian(opt[6..], seg.TsEcr);
    }
}
