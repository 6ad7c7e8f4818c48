using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// xdp_is_valid_access (net/core/filter.c), checked at load as the verifier does: an XDP program reads struct xdp_md
/// (24 bytes) in aligned 4-byte loads, reads egress_ifindex only as a devmap program, and never writes it.
/// </summary>
public sealed class XdpContextAccessTests
{
    private static BpfResult Check(bool devmap, params Instruction[] body) =>
        ProgramChecks.Check("xdp_prog", [.. body, Insn.Mov64Imm(0, 2), Insn.Exit()], null, XdpBytecodeSupport.Instance, new FunctionTable(),
            devmapXdp: devmap);

    [TestCase(0)]
    [TestCase(4)]
    [TestCase(16)]
    public void AlignedWordReadOfAField_IsAccepted(short offset) =>
        Assert.That(Check(false, Insn.Ldx(OpCode.W, 2, 1, offset)).IsOk);

    [TestCase(OpCode.W, (short)24, TestName = "ReadPastXdpMd_IsEacces")]
    [TestCase(OpCode.W, (short)-4, TestName = "ReadBeforeXdpMd_IsEacces")]
    [TestCase(OpCode.W, (short)2, TestName = "MisalignedRead_IsEacces")]
    [TestCase(OpCode.DW, (short)0, TestName = "EightByteRead_IsEacces")]
    [TestCase(OpCode.W, (short)20, TestName = "EgressIfindexOutsideADevmapProgram_IsEacces")]
    public void BadRead_IsRefused(byte size, short offset)
    {
        var r = Check(false, Insn.Ldx(size, 2, 1, offset));
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        Assert.That(r.Reason, Does.Contain($"invalid bpf_context access off={offset}"));
    }

    [Test]
    public void EgressIfindexInADevmapProgram_IsAccepted() => Assert.That(Check(true, Insn.Ldx(OpCode.W, 2, 1, 20)).IsOk);

    [Test]
    public void WriteToRxQueueIndex_ThroughACopyOfTheContext_IsEacces()
    {
        // ctx->rx_queue_index = 3, with the context moved to r6 and 8 added, as clang may emit it.
        var r = Check(false, Insn.Mov64Reg(6, 1), Insn.Alu64Imm(OpCode.Add, 6, 8), Insn.St(OpCode.W, 6, 8, 3));
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        Assert.That(r.Reason, Does.Contain("invalid bpf_context access off=16 size=4"));
    }
}
