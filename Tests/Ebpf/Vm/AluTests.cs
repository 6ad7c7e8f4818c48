using BpfSim.Core.Ebpf.Asm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>
/// ALU and ALU64 against values worked out by hand from the instruction-set spec
/// (Documentation/bpf/standardization/instruction-set.rst) and the verifier's division fixups.
/// </summary>
[Category("Ebpf")]
public sealed class AluTests(VmEngine engine) : VmEngineFixture(engine)
{
    private const ulong Min64 = 0x8000_0000_0000_0000;

    [Test]
    public void Add64_Wraps() => Assert.That(Binary(Alu64Reg(OpCode.Add, 0, 1), ulong.MaxValue, 2), Is.EqualTo(1UL));

    [Test]
    public void Add64Imm_SignExtendsImmediate() => Assert.That(Run(Mov64Imm(0, 0), Alu64Imm(OpCode.Add, 0, -1), Exit()), Is.EqualTo(ulong.MaxValue));

    [Test]
    public void Add32_ZeroExtendsResult()
        => Assert.That(Binary(Alu32Reg(OpCode.Add, 0, 1), 0xdead_beef_ffff_ffff, 2), Is.EqualTo(1UL));

    [Test]
    public void Mov32Imm_ZeroExtends() => Assert.That(Run(Mov32Imm(0, -1), Exit()), Is.EqualTo(0xffff_ffffUL));

    [Test]
    public void Mov64Imm_SignExtends() => Assert.That(Run(Mov64Imm(0, -2), Exit()), Is.EqualTo(0xffff_ffff_ffff_fffeUL));

    [Test]
    public void Sub32Imm_WrapsInLowHalf() => Assert.That(Run(Mov64Imm(0, 1), Alu32Imm(OpCode.Sub, 0, 2), Exit()), Is.EqualTo(0xffff_ffffUL));

    [Test]
    public void Mul64_KeepsLow64Bits() => Assert.That(Binary(Alu64Reg(OpCode.Mul, 0, 1), 0x1_0000_0001, 0x1_0000_0001), Is.EqualTo(0x2_0000_0001UL));

    [Test]
    public void Mul32_UsesLowHalves() => Assert.That(Binary(Alu32Reg(OpCode.Mul, 0, 1), 0x5_0000_0003, 0x7_0000_0004), Is.EqualTo(12UL));

    [Test]
    public void BitwiseOps64()
    {
        Assert.That(Binary(Alu64Reg(OpCode.Or, 0, 1), 0xf0, 0x0f), Is.EqualTo(0xffUL));
        Assert.That(Binary(Alu64Reg(OpCode.And, 0, 1), 0xf0f0, 0xff00), Is.EqualTo(0xf000UL));
        Assert.That(Binary(Alu64Reg(OpCode.Xor, 0, 1), 0xff, 0x0f), Is.EqualTo(0xf0UL));
        Assert.That(Run(Mov64Imm(0, 0), Alu64Imm(OpCode.Or, 0, -16), Exit()), Is.EqualTo(0xffff_ffff_ffff_fff0UL));
    }

    [Test]
    public void Lsh64_MasksCountTo63() => Assert.That(Binary(Alu64Reg(OpCode.Lsh, 0, 1), 1, 65), Is.EqualTo(2UL));

    [Test]
    public void Lsh32_MasksCountTo31() => Assert.That(Binary(Alu32Reg(OpCode.Lsh, 0, 1), 1, 33), Is.EqualTo(2UL));

    [Test]
    public void Rsh64_IsLogical() => Assert.That(Binary(Alu64Reg(OpCode.Rsh, 0, 1), Min64, 63), Is.EqualTo(1UL));

    [Test]
    public void Rsh32_DropsHighHalfFirst() => Assert.That(Binary(Alu32Reg(OpCode.Rsh, 0, 1), 0xffff_ffff_8000_0000, 31), Is.EqualTo(1UL));

    [Test]
    public void Arsh64_SignExtends() => Assert.That(Binary(Alu64Reg(OpCode.Arsh, 0, 1), Min64, 63), Is.EqualTo(ulong.MaxValue));

    [Test]
    public void Arsh32_SignExtendsWithinLowHalfThenZeroExtends()
        => Assert.That(Run([.. Insn.LdImm64(0, 0x8000_0000), Alu32Imm(OpCode.Arsh, 0, 4), Exit()]), Is.EqualTo(0xf800_0000UL));

    [Test]
    public void Neg64_TwosComplement() => Assert.That(Run(Mov64Imm(0, 5), Neg64(0), Exit()), Is.EqualTo(0xffff_ffff_ffff_fffbUL));

    [Test]
    public void Neg32_ZeroExtends() => Assert.That(Run(Mov64Imm(0, 5), Neg32(0), Exit()), Is.EqualTo(0xffff_fffbUL));

    [Test]
    public void Div64_IsUnsigned() => Assert.That(Binary(Alu64Reg(OpCode.Div, 0, 1), ulong.MaxValue, 2), Is.EqualTo(0x7fff_ffff_ffff_ffffUL));

    [Test]
    public void Div64Imm_SignExtendsImmediateThenDividesUnsigned()
        => Assert.That(Run(Mov64Imm(0, -1), Alu64Imm(OpCode.Div, 0, -1), Exit()), Is.EqualTo(1UL));

    [Test]
    public void Div32Imm_TreatsImmediateAsUnsigned32()
        => Assert.That(Run(Mov32Imm(0, -2), Alu32Imm(OpCode.Div, 0, -1), Exit()), Is.EqualTo(0UL));

    [Test]
    public void Div64ByZero_YieldsZero() => Assert.That(Binary(Alu64Reg(OpCode.Div, 0, 1), 1234, 0), Is.EqualTo(0UL));

    [Test]
    public void Div32ByZero_YieldsZero() => Assert.That(Binary(Alu32Reg(OpCode.Div, 0, 1), 0xffff_ffff_0000_1234, 0xffff_ffff_0000_0000), Is.EqualTo(0UL));

    [Test]
    public void Mod64ByZero_KeepsDividend() => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1), 0xdead_beef_0000_0007, 0), Is.EqualTo(0xdead_beef_0000_0007UL));

    [Test]
    public void Mod32ByZero_KeepsDividendZeroExtended()
        => Assert.That(Binary(Alu32Reg(OpCode.Mod, 0, 1), 0xdead_beef_0000_0007, 0xffff_ffff_0000_0000), Is.EqualTo(7UL));

    [Test]
    public void Mod64_IsUnsigned() => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1), ulong.MaxValue, 10), Is.EqualTo(5UL));

    [Test]
    public void Sdiv64_TruncatesTowardZero()
        => Assert.That(Binary(Alu64Reg(OpCode.Div, 0, 1, OpCode.SignedOffset), unchecked((ulong)-13L), 3), Is.EqualTo(unchecked((ulong)-4L)));

    [Test]
    public void Smod64_HasSignOfDividend()
        => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), unchecked((ulong)-13L), 3), Is.EqualTo(unchecked((ulong)-1L)));

    [Test]
    public void Smod64_NegativeDivisor() => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), 13, unchecked((ulong)-3L)), Is.EqualTo(1UL));

    [Test]
    public void Sdiv64MinByMinusOne_WrapsToMin()
        => Assert.That(Binary(Alu64Reg(OpCode.Div, 0, 1, OpCode.SignedOffset), Min64, ulong.MaxValue), Is.EqualTo(Min64));

    [Test]
    public void Smod64ByMinusOne_YieldsZero()
        => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), Min64, ulong.MaxValue), Is.EqualTo(0UL));

    [Test]
    public void Sdiv64ByZero_YieldsZero() => Assert.That(Binary(Alu64Reg(OpCode.Div, 0, 1, OpCode.SignedOffset), 99, 0), Is.EqualTo(0UL));

    [Test]
    public void Smod64ByZero_KeepsDividend() => Assert.That(Binary(Alu64Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), unchecked((ulong)-9L), 0), Is.EqualTo(unchecked((ulong)-9L)));

    [Test]
    public void Sdiv32MinByMinusOne_WrapsToMinZeroExtended()
        => Assert.That(Binary(Alu32Reg(OpCode.Div, 0, 1, OpCode.SignedOffset), 0x8000_0000, 0xffff_ffff), Is.EqualTo(0x8000_0000UL));

    [Test]
    public void Sdiv32Imm_IsSigned32()
        => Assert.That(Run(Mov32Imm(0, -7), Alu32Imm(OpCode.Div, 0, 2, OpCode.SignedOffset), Exit()), Is.EqualTo(0xffff_fffdUL));

    [Test]
    public void Smod32_HasSignOfDividendZeroExtended()
        => Assert.That(Binary(Alu32Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), 0xffff_fff3, 3), Is.EqualTo(0xffff_ffffUL));

    [Test]
    public void Smod32ByZero_KeepsDividendZeroExtended()
        => Assert.That(Binary(Alu32Reg(OpCode.Mod, 0, 1, OpCode.SignedOffset), 0x1234_5678_ffff_fff3, 0), Is.EqualTo(0xffff_fff3UL));

    [Test]
    public void DivWithReservedOffset_Faults()
    {
        var fault = Fault([Mov64Imm(0, 1), Alu64Imm(OpCode.Div, 0, 1, 2), Exit()]);
        Assert.That(fault.Message, Is.EqualTo("BPF_ALU uses reserved fields"));
        Assert.That(fault.ProgramCounter, Is.EqualTo(1));
    }

    [TestCase((short)8, 0x80UL, 0xffff_ffff_ffff_ff80UL)]
    [TestCase((short)16, 0x1_8000UL, 0xffff_ffff_ffff_8000UL)]
    [TestCase((short)32, 0x1_8000_0000UL, 0xffff_ffff_8000_0000UL)]
    [TestCase((short)8, 0x17fUL, 0x7fUL)]
    public void Movsx64_SignExtendsLowBits(short bits, ulong value, ulong expected)
        => Assert.That(Binary(MovSx64(0, 1, bits), 0, value), Is.EqualTo(expected));

    [TestCase((short)8, 0x80UL, 0xffff_ff80UL)]
    [TestCase((short)16, 0xffff_ffff_0000_8000UL, 0xffff_8000UL)]
    public void Movsx32_SignExtendsInto32BitsThenZeroExtends(short bits, ulong value, ulong expected)
        => Assert.That(Binary(MovSx32(0, 1, bits), 0, value), Is.EqualTo(expected));

    [Test]
    public void Mov32Reg_ZeroExtends() => Assert.That(Binary(Alu32Reg(OpCode.Mov, 0, 1), 0, 0xffff_ffff_1234_5678), Is.EqualTo(0x1234_5678UL));

    [TestCase(16, 0x1122_3344_5566_7788UL, 0x8877UL)]
    [TestCase(32, 0x1122_3344_5566_7788UL, 0x8877_6655UL)]
    [TestCase(64, 0x1122_3344_5566_7788UL, 0x8877_6655_4433_2211UL)]
    public void EndToBe_SwapsAndTruncates(int bits, ulong value, ulong expected)
        => Assert.That(Run([.. Insn.LdImm64(0, value), Endian(OpCode.ToBe, 0, bits), Exit()]), Is.EqualTo(expected));

    [TestCase(16, 0x1122_3344_5566_7788UL, 0x7788UL)]
    [TestCase(32, 0x1122_3344_5566_7788UL, 0x5566_7788UL)]
    [TestCase(64, 0x1122_3344_5566_7788UL, 0x1122_3344_5566_7788UL)]
    public void EndToLe_OnLittleEndianOnlyTruncates(int bits, ulong value, ulong expected)
        => Assert.That(Run([.. Insn.LdImm64(0, value), Endian(OpCode.ToLe, 0, bits), Exit()]), Is.EqualTo(expected));

    [TestCase(16, 0x1122_3344_5566_7788UL, 0x8877UL)]
    [TestCase(32, 0x1122_3344_5566_7788UL, 0x8877_6655UL)]
    [TestCase(64, 0x1122_3344_5566_7788UL, 0x8877_6655_4433_2211UL)]
    public void Bswap_SwapsUnconditionally(int bits, ulong value, ulong expected)
        => Assert.That(Run([.. Insn.LdImm64(0, value), Bswap(0, bits), Exit()]), Is.EqualTo(expected));

    [Test]
    public void LdImm64_CombinesBothSlotsWhateverThePseudoSource()
        => Assert.That(Run([.. Insn.LdImm64(0, 0xffff_8881_0000_0010, Pseudo.MapValue), Exit()]), Is.EqualTo(0xffff_8881_0000_0010UL));
}
