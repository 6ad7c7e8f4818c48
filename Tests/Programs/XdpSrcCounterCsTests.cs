using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Net;
using BpfSim.Studies;

namespace BpfSim.Tests.Programs;

/// <summary>xdp_src_counter_cs on hand-made frames: its map, its option, and a packet path that allocates nothing.</summary>
public sealed class XdpSrcCounterCsTests
{
    private static readonly Study s_study = new();

    /// <summary>An Ethernet + IPv4 frame of <paramref name="length"/> bytes from <paramref name="src"/>.</summary>
    private static byte[] Frame(uint src, int length, ushort etherType = 0x0800)
    {
        var frame = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        frame[14] = 0x45;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(26), src);
        return frame;
    }

    private static int Run(BpfSystem bpf, GuardedXdpProgram program, byte[] frame)
    {
        using var scope = bpf.EnterProgram(0);
        var ctx = new PacketContext { Frame = frame, Data = 0, DataEnd = frame.Length };
        return program.Run(ref ctx);
    }

    [Test]
    public void Run_CountsPerSource_DropsDropAddr_PassesNonIpv4Uncounted_AndAllocatesNothing()
    {
        var bpf = s_study.Factory.Create();
        var info = s_study.Catalog.Find("xdp_src_counter_cs")!;
        XdpConsumerLoader.Load(bpf, info, [new ConsumerGlobal("drop_addr", "0x0a010002")], 0, out var loaded).ThrowIfFailed();
        var a = Frame(0x0a010001, 100);
        var b = Frame(0x0a010002, 60);
        Assert.That(Run(bpf, loaded!.Program, a), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(Run(bpf, loaded.Program, b), Is.EqualTo((int)XdpAction.Drop));
        Assert.That(Run(bpf, loaded.Program, Frame(0x0a010003, 100, etherType: 0x86dd)), Is.EqualTo((int)XdpAction.Pass));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Run(bpf, loaded.Program, a);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "the packet path allocates nothing");
        var map = loaded.Maps.Single();
        Assert.That(map.Name, Is.EqualTo("src_counts"));
        var value = new byte[16];
        bpf.MapGetFdById(map.Id, out int fd).ThrowIfFailed();
        bpf.MapLookupElem(fd, [0x0a, 0x01, 0x00, 0x01], value).ThrowIfFailed();
        Assert.That((BinaryPrimitives.ReadUInt64LittleEndian(value), BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(8))), Is.EqualTo((1001UL, 100_100UL)));
        bpf.MapLookupElem(fd, [0x0a, 0x01, 0x00, 0x02], value).ThrowIfFailed();
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(value), Is.EqualTo(1UL));
        Assert.That(bpf.MapLookupElem(fd, [0x0a, 0x01, 0x00, 0x03], value).IsOk, Is.False, "IPv6 frames are not counted");
    }
}
