using BpfSim.Core.Ebpf.Asm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>Conditional and unconditional jumps: which compare is signed, what JMP32 looks at, where offsets count from.</summary>
[Category("Ebpf")]
public sealed class JmpTests(VmEngine engine) : VmEngineFixture(engine)
{
    /// <summary><c>r0 = 1; if r1 op r2 goto +1; r0 = 0; exit</c>: 1 when the jump is taken.</summary>
    private static bool TakenReg(byte op, ulong a, ulong b, bool is32 = false)
        => Run([.. Insn.LdImm64(1, a), .. Insn.LdImm64(2, b), Mov64Imm(0, 1),
            is32 ? Jmp32Reg(op, 1, 2, 1) : JmpReg(op, 1, 2, 1), Mov64Imm(0, 0), Exit()]) == 1;

    private static bool TakenImm(byte op, ulong a, int imm, bool is32 = false)
        => Run([.. Insn.LdImm64(1, a), Mov64Imm(0, 1),
            is32 ? Jmp32Imm(op, 1, imm, 1) : JmpImm(op, 1, imm, 1), Mov64Imm(0, 0), Exit()]) == 1;

    private const ulong MinusOne = ulong.MaxValue;

    [TestCase(OpCode.Jeq, 5UL, 5UL, true)]
    [TestCase(OpCode.Jeq, 5UL, 6UL, false)]
    [TestCase(OpCode.Jne, 5UL, 6UL, true)]
    [TestCase(OpCode.Jgt, MinusOne, 1UL, true)]
    [TestCase(OpCode.Jge, 1UL, 1UL, true)]
    [TestCase(OpCode.Jlt, 1UL, MinusOne, true)]
    [TestCase(OpCode.Jle, 2UL, 1UL, false)]
    [TestCase(OpCode.Jset, 0b1010UL, 0b0010UL, true)]
    [TestCase(OpCode.Jset, 0b1010UL, 0b0101UL, false)]
    [TestCase(OpCode.Jsgt, MinusOne, 1UL, false)]
    [TestCase(OpCode.Jsgt, 1UL, MinusOne, true)]
    [TestCase(OpCode.Jsge, MinusOne, MinusOne, true)]
    [TestCase(OpCode.Jslt, MinusOne, 0UL, true)]
    [TestCase(OpCode.Jsle, 0UL, MinusOne, false)]
    public void Jmp64Reg_ComparesAsSpecified(byte op, ulong a, ulong b, bool taken) => Assert.That(TakenReg(op, a, b), Is.EqualTo(taken));

    [TestCase(OpCode.Jeq, MinusOne, -1, true)]
    [TestCase(OpCode.Jgt, 0xffff_ffffUL, -1, false)]
    [TestCase(OpCode.Jsgt, 0UL, -1, true)]
    [TestCase(OpCode.Jslt, MinusOne, 0, true)]
    [TestCase(OpCode.Jset, 0x1_0000_0000UL, -1, true)]
    public void Jmp64Imm_SignExtendsImmediate(byte op, ulong a, int imm, bool taken) => Assert.That(TakenImm(op, a, imm), Is.EqualTo(taken));

    [TestCase(OpCode.Jeq, 0xdead_0000_0000_0005UL, 5UL, true)]
    [TestCase(OpCode.Jgt, 0x0000_0001_0000_0000UL, 1UL, false)]
    [TestCase(OpCode.Jsgt, 0x0000_0000_ffff_ffffUL, 1UL, false)]
    [TestCase(OpCode.Jslt, 0x0000_0000_8000_0000UL, 0UL, true)]
    [TestCase(OpCode.Jset, 0x1_0000_0000UL, 0x1_0000_0000UL, false)]
    [TestCase(OpCode.Jle, 0x1_0000_0003UL, 3UL, true)]
    public void Jmp32Reg_ComparesLowHalvesOnly(byte op, ulong a, ulong b, bool taken) => Assert.That(TakenReg(op, a, b, is32: true), Is.EqualTo(taken));

    [TestCase(OpCode.Jeq, 0xffff_ffffUL, -1, true)]
    [TestCase(OpCode.Jsge, 0xffff_ffffUL, -1, true)]
    [TestCase(OpCode.Jge, 0x7fff_ffffUL, -1, false)]
    public void Jmp32Imm_ComparesLowHalf(byte op, ulong a, int imm, bool taken) => Assert.That(TakenImm(op, a, imm, is32: true), Is.EqualTo(taken));

    [Test]
    public void Ja_SkipsOffsetInstructions() => Assert.That(Run(Mov64Imm(0, 1), Ja(1), Mov64Imm(0, 2), Exit()), Is.EqualTo(1UL));

    [Test]
    public void Gotol_UsesImmAsOffset() => Assert.That(Run(Mov64Imm(0, 1), Gotol(2), Mov64Imm(0, 2), Mov64Imm(0, 3), Exit()), Is.EqualTo(1UL));

    [Test]
    public void BackwardJump_Loops()
    {
        // r0 = 0; r1 = 10; loop: r0 += 3; r1 -= 1; if r1 != 0 goto loop; exit
        ulong r0 = Run(Mov64Imm(0, 0), Mov64Imm(1, 10), Alu64Imm(OpCode.Add, 0, 3), Alu64Imm(OpCode.Sub, 1, 1), JmpImm(OpCode.Jne, 1, 0, -3), Exit());
        Assert.That(r0, Is.EqualTo(30UL));
    }

    [Test]
    public void JumpPastEnd_Faults()
    {
        var fault = Fault([Mov64Imm(0, 0), Ja(5), Exit()]);
        Assert.That(fault.Message, Is.EqualTo("jump out of range from insn 1 to 7"));
        Assert.That(fault.ProgramCounter, Is.EqualTo(1));
    }

    [Test]
    public void FallingOffTheEnd_Faults()
        => Assert.That(Fault([Mov64Imm(0, 0)]).Message, Is.EqualTo("last insn is not an exit or jmp"));
}
