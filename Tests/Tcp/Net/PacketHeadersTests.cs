using System.Buffers.Binary;
using BpfSim.Studies.Pcap;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>The frame a simulated packet becomes: sequence space, options, lengths, and no allocation per frame.</summary>
[Category("Studies")]
public sealed class PacketHeadersTests
{
    private static Packet Ack(out SackBlocks blocks, uint ack, params (uint Start, uint End)[] sacks)
    {
        var p = new Packet { Route = 1, SizeBytes = 52 + (sacks.Length > 0 ? 4 + 8 * sacks.Length : 0) };
        p.Segment.Flags = TcpFlags.Ack;
        p.Segment.Ack = ack;
        p.Segment.TsVal = 1000;
        p.Segment.TsEcr = 900;
        p.Segment.SackCount = (byte)sacks.Length;
        blocks = default;
        if (sacks.Length > 0)
        {
            (blocks.Sack0Start, blocks.Sack0End) = sacks[0];
        }
        if (sacks.Length > 1)
        {
            (blocks.Sack1Start, blocks.Sack1End) = sacks[1];
        }
        return p;
    }

    [Test]
    public void Build_DataSegment_OffsetsSeqByTheSendersIsnAndAcksTheSynAck()
    {
        var flow = FlowAddresses.For(0, forward: 0, reverse: 1, mss: 1448);
        var p = new Packet { Route = 0, SizeBytes = 1500, PayloadBytes = 1448, Ecn = EcnCodepoint.Ect0 };
        p.Segment.Flags = TcpFlags.Ack | TcpFlags.Cwr;
        p.Segment.Seq = 1 + 1448 * 3;
        var frame = new byte[128];
        int wire = PacketHeaders.Build(frame, in p, default, ref flow, fromSender: true, out int captured);
        Assert.That(wire, Is.EqualTo(14 + p.SizeBytes), "IP total length = the packet's simulated size");
        Assert.That(captured, Is.EqualTo(128));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)), Is.EqualTo(1500));
        Assert.That(frame[15] & 3, Is.EqualTo(2), "ECT(0)");
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(38)), Is.EqualTo(flow.SenderIsn + 1 + 1448 * 3));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(42)), Is.EqualTo(flow.ReceiverIsn + 1));
        Assert.That(frame[47], Is.EqualTo(0x90), "ACK and CWR");
        Assert.That(frame[46] >> 4, Is.EqualTo(8), "32-byte TCP header: NOP NOP timestamps");
    }

    [Test]
    public void Build_AckWithSack_PutsTheBlocksInTheSendersSequenceSpace()
    {
        var flow = FlowAddresses.For(4, forward: 0, reverse: 1, mss: 1448);
        var p = Ack(out var sacks, 2897, (4345, 5793), (7241, 8689));
        var frame = new byte[128];
        int wire = PacketHeaders.Build(frame, in p, in sacks, ref flow, fromSender: false, out _);
        Assert.That(wire, Is.EqualTo(14 + p.SizeBytes));
        var tcp = frame.AsSpan(34);
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), Is.EqualTo(flow.ReceiverIsn + 1));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]), Is.EqualTo(flow.SenderIsn + 2897));
        Assert.That(tcp.Slice(20, 4).ToArray(), Is.EqualTo(new byte[] { 1, 1, 8, 10 }));
        Assert.That(tcp.Slice(32, 4).ToArray(), Is.EqualTo(new byte[] { 1, 1, 5, 18 }));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(tcp[36..]), Is.EqualTo(flow.SenderIsn + 4345));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(tcp[48..]), Is.EqualTo(flow.SenderIsn + 8689));
        Assert.That(frame.AsSpan(0, 6).ToArray(), Is.EqualTo(new byte[] { 2, 0, 0, 0, 0, 1 }), "to the sender's side");
    }

    [Test]
    public void For_DifferentFlows_GetDifferentIsnsAndAddresses()
    {
        var a = FlowAddresses.For(0, 0, 1, 1448);
        var b = FlowAddresses.For(1, 2, 3, 1448);
        Assert.That(a.SenderIsn, Is.Not.EqualTo(b.SenderIsn));
        Assert.That(a.SenderIsn, Is.Not.EqualTo(a.ReceiverIsn));
        Assert.That(a.SenderIp, Is.EqualTo(0x0A010001u), "flow 1 is 10.1.0.1");
        Assert.That(b.ReceiverIp, Is.EqualTo(0x0A020002u), "flow 2's receiver is 10.2.0.2");
        Assert.That(FlowAddresses.For(1, 2, 3, 1448).SenderIsn, Is.EqualTo(b.SenderIsn), "the same every time");
    }

    [Test]
    public void BuildAndWrite_ManyFrames_AllocateNothing()
    {
        var flow = FlowAddresses.For(0, 0, 1, 1448);
        var p = Ack(out var sacks, 1, (1449, 2897));
        var frame = new byte[LinkCapture.DefaultSnapLength];
        using var writer = new PcapWriter(Path.Combine(Directory.CreateTempSubdirectory("bpfsim-frame-").FullName, "x.pcap"), frame.Length);
        void Once(long t)
        {
            int wire = PacketHeaders.Build(frame, in p, in sacks, ref flow, fromSender: false, out int captured);
            writer.Write(t, frame.AsSpan(0, captured), wire);
        }
        Once(0);
        long t = 0;
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                Once(t += 1000);
            }
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(writer.Records, Is.EqualTo(1 + 10_000 * (t / 1000 / 10_000)), "every window wrote its frames");
    }
}
