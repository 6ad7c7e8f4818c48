using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>
/// A packet program's context: xdp_md loads that yield packet pointers (the verifier's ctx rewrite), accesses bounded
/// by data_meta and data_end, and bpf_xdp_adjust_head/tail's bounds (net/core/filter.c).
/// </summary>
[Category("Ebpf")]
public sealed class PacketContextTests(VmEngine engine) : VmEngineFixture(engine)
{
    private const int Headroom = 256;
    private const int HardEnd = 4096 - 320;

    private static (AddressSpace Space, RegionHandle XdpMd, RegionHandle Packet) Space()
    {
        var space = new AddressSpace();
        var xdpMd = space.Map([], 0, 0, RegionKind.Context, MemoryAccess.Read, "xdp_md");
        var packet = space.MapCallScoped(RegionKind.Packet, MemoryAccess.ReadWrite, "packet");
        return (space, xdpMd, packet);
    }

    private static ulong Run(Instruction[] program, byte[] frame, int length, out int data, out int dataEnd)
    {
        var (space, xdpMd, packet) = Space();
        var ctx = new RunContext(space);
        ctx.BindPacket(xdpMd, packet, frame, Headroom, Headroom, Headroom + length, ingressIfindex: 7, rxQueueIndex: 0);
        ulong r0 = TestVm.Execute(program, ref ctx, [AddressSpace.AddressOf(xdpMd)]);
        (data, dataEnd) = (ctx.PacketData, ctx.PacketDataEnd);
        return r0;
    }

    [Test]
    public void DataAndDataEnd_LoadAsPointersWhoseDifferenceIsTheLength_AndIfindexAsItsValue()
    {
        var frame = new byte[HardEnd];
        Instruction[] lengthProgram = [Ldx(OpCode.W, 2, 1, 0), Ldx(OpCode.W, 3, 1, 4), Mov64Reg(0, 3), Alu64Reg(OpCode.Sub, 0, 2), Exit()];
        Assert.That(Run(lengthProgram, frame, 60, out _, out _), Is.EqualTo(60UL));
        Assert.That(Run([Ldx(OpCode.W, 0, 1, 12), Exit()], frame, 60, out _, out _), Is.EqualTo(7UL));
    }

    [Test]
    public void PacketBytes_AreReadAndWrittenThroughTheDataPointer()
    {
        var frame = new byte[HardEnd];
        frame[Headroom + 5] = 0x42;
        ulong r0 = Run([Ldx(OpCode.W, 2, 1, 0), Ldx(OpCode.B, 0, 2, 5), St(OpCode.B, 2, 6, 0x99), Exit()], frame, 60, out _, out _);
        Assert.That(r0, Is.EqualTo(0x42UL));
        Assert.That(frame[Headroom + 6], Is.EqualTo(0x99));
    }

    [Test]
    public void AccessPastDataEnd_Faults_AsAnUncheckedPacketAccess()
    {
        var frame = new byte[HardEnd];
        var fault = Assert.Throws<BpfFault>(() => Run([Ldx(OpCode.W, 2, 1, 0), Ldx(OpCode.B, 0, 2, 60), Exit()], frame, 60, out _, out _));
        Assert.That(fault!.Message, Does.Contain("invalid access to packet"));
        Assert.Throws<BpfFault>(() => Run([Ldx(OpCode.W, 2, 1, 0), Ldx(OpCode.B, 0, 2, -1), Exit()], frame, 60, out _, out _),
            "the headroom before data is not the program's to read");
    }

    [Test]
    public void StoreIntoXdpMd_Faults()
    {
        var frame = new byte[HardEnd];
        Assert.Throws<BpfFault>(() => Run([St(OpCode.W, 1, 12, 1), Mov64Imm(0, 2), Exit()], frame, 60, out _, out _));
    }

    [TestCase(-(Headroom - 40), 0L, TestName = "AdjustHead_DownToTheXdpFrameHeader_IsAllowed")]
    [TestCase(-(Headroom - 39), -22L, TestName = "AdjustHead_IntoTheXdpFrameHeader_IsEinval")]
    [TestCase(60 - 14, 0L, TestName = "AdjustHead_LeavingAnEthernetHeader_IsAllowed")]
    [TestCase(60 - 13, -22L, TestName = "AdjustHead_LeavingLessThanAnEthernetHeader_IsEinval")]
    public void AdjustHead_Bounds(int delta, long expected)
    {
        var (space, xdpMd, packet) = Space();
        var ctx = new RunContext(space);
        ctx.BindPacket(xdpMd, packet, new byte[HardEnd], Headroom, Headroom, Headroom + 60, 1, 0);
        Assert.That(ctx.AdjustHead(delta), Is.EqualTo(expected));
        Assert.That(ctx.PacketData, Is.EqualTo(expected == 0 ? Headroom + delta : Headroom));
    }

    [TestCase(HardEnd - Headroom - 60, 0L, TestName = "AdjustTail_GrowingToTheHardEnd_IsAllowed")]
    [TestCase(HardEnd - Headroom - 59, -22L, TestName = "AdjustTail_PastTheHardEnd_IsEinval")]
    [TestCase(-(60 - 14), 0L, TestName = "AdjustTail_ShrinkingToAnEthernetHeader_IsAllowed")]
    [TestCase(-(60 - 13), -22L, TestName = "AdjustTail_BelowAnEthernetHeader_IsEinval")]
    public void AdjustTail_Bounds(int delta, long expected)
    {
        var (space, xdpMd, packet) = Space();
        var frame = new byte[HardEnd];
        Array.Fill(frame, (byte)0xEE);
        var ctx = new RunContext(space);
        ctx.BindPacket(xdpMd, packet, frame, Headroom, Headroom, Headroom + 60, 1, 0);
        Assert.That(ctx.AdjustTail(delta), Is.EqualTo(expected));
        if (expected == 0 && delta > 0)
        {
            Assert.That(frame.AsSpan(Headroom + 60, delta).ToArray(), Is.All.Zero, "grown bytes are cleared");
        }
    }

    [Test]
    public void AdjustHead_MovesTheMetadataWithData()
    {
        var (space, xdpMd, packet) = Space();
        var frame = new byte[HardEnd];
        frame[Headroom - 4] = 0xAB;
        var ctx = new RunContext(space);
        ctx.BindPacket(xdpMd, packet, frame, Headroom - 4, Headroom, Headroom + 60, 1, 0);
        Assert.That(ctx.AdjustHead(-10), Is.Zero);
        Assert.That((ctx.PacketDataMeta, ctx.PacketData), Is.EqualTo((Headroom - 14, Headroom - 10)));
        Assert.That(frame[Headroom - 14], Is.EqualTo(0xAB));
    }
}
