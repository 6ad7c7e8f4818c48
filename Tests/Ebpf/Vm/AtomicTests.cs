using BpfSim.Core.Ebpf.Asm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>BPF_ATOMIC on the stack: the memory result, and what lands in src (fetch, xchg) or R0 (cmpxchg).</summary>
[Category("Ebpf")]
public sealed class AtomicTests(VmEngine engine) : VmEngineFixture(engine)
{
    /// <summary>*(fp-8) = initial; r1 = operand; r0 = expected; atomic; exit with r0 = (memory, r1, r0) packed by the caller.</summary>
    private static (ulong Memory, ulong Src, ulong R0) Atomic64Of(int op, ulong initial, ulong operand, ulong r0 = 0)
    {
        ulong mem = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.DW, op, 10, 1, -8), Ldx(OpCode.DW, 0, 10, -8), Exit()]);
        ulong src = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.DW, op, 10, 1, -8), Mov64Reg(0, 1), Exit()]);
        ulong after = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.DW, op, 10, 1, -8), Exit()]);
        return (mem, src, after);
    }

    private static (ulong Memory, ulong Src, ulong R0) Atomic32Of(int op, ulong initial, ulong operand, ulong r0 = 0)
    {
        ulong mem = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.W, op, 10, 1, -8), Ldx(OpCode.DW, 0, 10, -8), Exit()]);
        ulong src = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.W, op, 10, 1, -8), Mov64Reg(0, 1), Exit()]);
        ulong after = Run([.. Insn.LdImm64(2, initial), Stx(OpCode.DW, 10, 2, -8), .. Insn.LdImm64(1, operand), .. Insn.LdImm64(0, r0),
            Atomic(OpCode.W, op, 10, 1, -8), Exit()]);
        return (mem, src, after);
    }

    [Test]
    public void Add64_UpdatesMemoryKeepsSrc() => Assert.That(Atomic64Of(OpCode.Add, 40, 2), Is.EqualTo((42UL, 2UL, 0UL)));

    [Test]
    public void FetchAdd64_ReturnsOldValueInSrc() => Assert.That(Atomic64Of(OpCode.Add | OpCode.Fetch, 40, 2), Is.EqualTo((42UL, 40UL, 0UL)));

    [Test]
    public void FetchOr_FetchAnd_FetchXor64()
    {
        Assert.That(Atomic64Of(OpCode.Or | OpCode.Fetch, 0b1100, 0b0011), Is.EqualTo((0b1111UL, 0b1100UL, 0UL)));
        Assert.That(Atomic64Of(OpCode.And | OpCode.Fetch, 0b1100, 0b0110), Is.EqualTo((0b0100UL, 0b1100UL, 0UL)));
        Assert.That(Atomic64Of(OpCode.Xor | OpCode.Fetch, 0b1100, 0b0110), Is.EqualTo((0b1010UL, 0b1100UL, 0UL)));
        Assert.That(Atomic64Of(OpCode.Xor, 0b1100, 0b0110), Is.EqualTo((0b1010UL, 0b0110UL, 0UL)));
    }

    [Test]
    public void Xchg64_SwapsMemoryAndSrc() => Assert.That(Atomic64Of(OpCode.Xchg, 7, 9), Is.EqualTo((9UL, 7UL, 0UL)));

    [Test]
    public void Cmpxchg64_WhenR0Matches_StoresSrcAndReturnsOld() => Assert.That(Atomic64Of(OpCode.Cmpxchg, 7, 9, r0: 7), Is.EqualTo((9UL, 9UL, 7UL)));

    [Test]
    public void Cmpxchg64_WhenR0Differs_LeavesMemoryAndReturnsOld() => Assert.That(Atomic64Of(OpCode.Cmpxchg, 7, 9, r0: 8), Is.EqualTo((7UL, 9UL, 7UL)));

    [Test]
    public void Add32_TouchesOnlyLowWordAndWraps()
        => Assert.That(Atomic32Of(OpCode.Add, 0xaaaa_aaaa_ffff_ffff, 2).Memory, Is.EqualTo(0xaaaa_aaaa_0000_0001UL));

    [Test]
    public void FetchAdd32_ZeroExtendsFetchedValue()
        => Assert.That(Atomic32Of(OpCode.Add | OpCode.Fetch, 0xaaaa_aaaa_8000_0000, 0xffff_ffff_0000_0001).Src, Is.EqualTo(0x8000_0000UL));

    [Test]
    public void Cmpxchg32_ComparesLowHalfOfR0AndZeroExtendsResult()
    {
        var result = Atomic32Of(OpCode.Cmpxchg, 0x1111_1111_0000_0005, 6, r0: 0xffff_ffff_0000_0005);
        Assert.That(result, Is.EqualTo((0x1111_1111_0000_0006UL, 6UL, 5UL)));
    }

    [Test]
    public void Xchg32_ZeroExtendsOld() => Assert.That(Atomic32Of(OpCode.Xchg, 0x1_ffff_fffe, 3), Is.EqualTo((0x1_0000_0003UL, 0xffff_fffeUL, 0UL)));

    [Test]
    public void UnknownAtomicOp_Faults()
        => Assert.That(Fault([St(OpCode.DW, 10, -8, 0), Atomic(OpCode.DW, 0x30, 10, 1, -8), Exit()]).Message,
            Is.EqualTo("BPF_ATOMIC uses invalid atomic opcode 30"));
}
