using System.Buffers.Binary;
using BpfSim.Studies.Pcap;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Studies.Pcap;

/// <summary>One frame of a pcap file, parsed (Ethernet II / IPv4 / TCP), with what its checksums say.</summary>
internal sealed record PcapFrame(long TimeNs, int Captured, int WireLength, uint Src, uint Dst, ushort SrcPort, ushort DstPort, uint Seq,
    uint Ack, byte Flags, int Ecn, int PayloadLength, ushort Window, bool IpChecksumOk, bool TcpChecksumOk, int IpTotalLength,
    IReadOnlyList<(byte Kind, byte[] Data)> Options)
{
    public bool Syn => (Flags & 0x02) != 0;

    public (uint Src, ushort SrcPort, uint Dst, ushort DstPort) Direction => (Src, SrcPort, Dst, DstPort);
}

/// <summary>
/// A test's own reader of what <see cref="LinkCapture"/> writes: the file header and every record, each frame parsed
/// and its IPv4 and TCP checksums verified (the TCP one over the captured bytes plus the zero payload the writer
/// cut, which it states to be zero).
/// </summary>
internal sealed record PcapFile(uint Magic, ushort VersionMajor, ushort VersionMinor, uint SnapLength, uint LinkType, IReadOnlyList<PcapFrame> Frames)
{
    public static PcapFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var span = bytes.AsSpan();
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(span);
        var frames = new List<PcapFrame>();
        int at = 24;
        while (at < bytes.Length)
        {
            Assert.That(at + 16, Is.LessThanOrEqualTo(bytes.Length), "a record header is cut");
            uint sec = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            uint nsec = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            int incl = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 8)..]);
            int orig = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 12)..]);
            Assert.That(nsec, Is.LessThan(1_000_000_000u));
            Assert.That(at + 16 + incl, Is.LessThanOrEqualTo(bytes.Length), "a record is cut");
            frames.Add(Parse(sec * 1_000_000_000L + nsec, span.Slice(at + 16, incl), orig));
            at += 16 + incl;
        }
        return new PcapFile(magic, BinaryPrimitives.ReadUInt16LittleEndian(span[4..]), BinaryPrimitives.ReadUInt16LittleEndian(span[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[16..]), BinaryPrimitives.ReadUInt32LittleEndian(span[20..]), frames);
    }

    private static PcapFrame Parse(long timeNs, ReadOnlySpan<byte> frame, int wire)
    {
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(frame[12..]), Is.EqualTo(0x0800), "EtherType IPv4");
        var ip = frame[14..];
        Assert.That(ip[0], Is.EqualTo(0x45), "IPv4 with a 20-byte header");
        Assert.That(ip[9], Is.EqualTo(6), "TCP");
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        bool ipOk = InternetChecksum.Of(ip[..20]) == 0;
        var tcp = ip[20..];
        int tcpHeader = (tcp[12] >> 4) * 4;
        Assert.That(tcpHeader, Is.InRange(20, 60));
        var options = new List<(byte, byte[])>();
        for (int o = 20; o < tcpHeader;)
        {
            byte kind = tcp[o];
            if (kind == 0)
            {
                break;
            }
            if (kind == 1)
            {
                o++;
                continue;
            }
            int len = tcp[o + 1];
            Assert.That(len, Is.GreaterThanOrEqualTo(2), "option length");
            options.Add((kind, tcp.Slice(o + 2, len - 2).ToArray()));
            o += len;
        }
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        int tcpLength = total - 20;
        uint sum = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6u + (uint)tcpLength;
        bool tcpOk = InternetChecksum.Finish(InternetChecksum.Add(sum, tcp[..Math.Min(tcpLength, tcp.Length)])) == 0;
        return new PcapFrame(timeNs, frame.Length, wire, src, dst, BinaryPrimitives.ReadUInt16BigEndian(tcp), BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]), tcp[13], ip[1] & 3,
            total - 20 - tcpHeader, BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]), ipOk, tcpOk, total, options);
    }
}
