using BpfSim.Core.Ebpf.Asm;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Asm;

/// <summary>Lines as <c>bpftool prog dump xlated</c> prints them (kernel/bpf/disasm.c, bpftool's xlated_dumper.c).</summary>
[Category("Ebpf")]
public sealed class DisassemblerTests
{
    private static string One(Instruction insn) => Disassembler.Format([insn], 0);

    [Test]
    public void AluAndMov() => Assert.Multiple(() =>
    {
        Assert.That(One(Mov64Reg(6, 1)), Is.EqualTo("(bf) r6 = r1"));
        Assert.That(One(Mov64Imm(0, 0)), Is.EqualTo("(b7) r0 = 0"));
        Assert.That(One(Alu64Imm(OpCode.Add, 1, -8)), Is.EqualTo("(07) r1 += -8"));
        Assert.That(One(Alu32Reg(OpCode.Lsh, 2, 3)), Is.EqualTo("(6c) w2 <<= w3"));
        Assert.That(One(Alu64Reg(OpCode.Arsh, 2, 3)), Is.EqualTo("(cf) r2 s>>= r3"));
        Assert.That(One(Mov32Imm(1, -1)), Is.EqualTo("(b4) w1 = -1"));
        Assert.That(One(Neg64(1)), Is.EqualTo("(87) r1 = -r1"));
        Assert.That(One(Neg32(1)), Is.EqualTo("(84) w1 = -w1"));
    });

    [Test]
    public void CpuV4Forms() => Assert.Multiple(() =>
    {
        Assert.That(One(MovSx64(1, 2, 8)), Is.EqualTo("(bf) r1 = (s8)r2"));
        Assert.That(One(MovSx64(1, 2, 32)), Is.EqualTo("(bf) r1 = (s32)r2"));
        Assert.That(One(MovSx32(1, 2, 16)), Is.EqualTo("(bc) w1 = (s16)w2"));
        Assert.That(One(Alu64Reg(OpCode.Div, 1, 2, OpCode.SignedOffset)), Is.EqualTo("(3f) r1 s/= r2"));
        Assert.That(One(Alu32Imm(OpCode.Mod, 1, 3, OpCode.SignedOffset)), Is.EqualTo("(94) w1 s%= 3"));
        Assert.That(One(Bswap(1, 16)), Is.EqualTo("(d7) r1 = bswap16 r1"));
        Assert.That(One(LdxSx(OpCode.B, 1, 2, 0)), Is.EqualTo("(91) r1 = *(s8 *)(r2 +0)"));
        Assert.That(One(LdxSx(OpCode.W, 1, 2, -4)), Is.EqualTo("(81) r1 = *(s32 *)(r2 -4)"));
        Assert.That(One(Gotol(5)), Is.EqualTo("(06) gotol pc+5"));
    });

    [Test]
    public void Endian() => Assert.Multiple(() =>
    {
        Assert.That(One(Insn.Endian(OpCode.ToBe, 1, 16)), Is.EqualTo("(dc) r1 = be16 r1"));
        Assert.That(One(Insn.Endian(OpCode.ToLe, 3, 64)), Is.EqualTo("(d4) r3 = le64 r3"));
    });

    [Test]
    public void LoadsAndStores() => Assert.Multiple(() =>
    {
        Assert.That(One(Ldx(OpCode.DW, 1, 6, 16)), Is.EqualTo("(79) r1 = *(u64 *)(r6 +16)"));
        Assert.That(One(Ldx(OpCode.B, 1, 6, 0)), Is.EqualTo("(71) r1 = *(u8 *)(r6 +0)"));
        Assert.That(One(Stx(OpCode.W, 10, 1, -4)), Is.EqualTo("(63) *(u32 *)(r10 -4) = r1"));
        Assert.That(One(St(OpCode.H, 10, -2, 7)), Is.EqualTo("(6a) *(u16 *)(r10 -2) = 7"));
    });

    [Test]
    public void Atomics() => Assert.Multiple(() =>
    {
        Assert.That(One(Atomic(OpCode.DW, OpCode.Add, 1, 2, 0)), Is.EqualTo("(db) lock *(u64 *)(r1 +0) += r2"));
        Assert.That(One(Atomic(OpCode.W, OpCode.Or, 1, 2, 8)), Is.EqualTo("(c3) lock *(u32 *)(r1 +8) |= r2"));
        Assert.That(One(Atomic(OpCode.W, OpCode.Add | OpCode.Fetch, 1, 2, -4)), Is.EqualTo("(c3) r2 = atomic_fetch_add((u32 *)(r1 -4), r2)"));
        Assert.That(One(Atomic(OpCode.DW, OpCode.Xor | OpCode.Fetch, 1, 2, 0)), Is.EqualTo("(db) r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)"));
        Assert.That(One(Atomic(OpCode.DW, OpCode.Cmpxchg, 1, 2, 0)), Is.EqualTo("(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"));
        Assert.That(One(Atomic(OpCode.W, OpCode.Xchg, 1, 3, 0)), Is.EqualTo("(c3) r3 = atomic_xchg((u32 *)(r1 +0), r3)"));
    });

    [Test]
    public void Jumps() => Assert.Multiple(() =>
    {
        Assert.That(One(JmpImm(OpCode.Jeq, 1, 0, 3)), Is.EqualTo("(15) if r1 == 0x0 goto pc+3"));
        Assert.That(One(Jmp32Imm(OpCode.Jne, 1, -1, -2)), Is.EqualTo("(56) if w1 != 0xffffffff goto pc-2"));
        Assert.That(One(JmpReg(OpCode.Jsgt, 1, 2, 4)), Is.EqualTo("(6d) if r1 s> r2 goto pc+4"));
        Assert.That(One(Jmp32Reg(OpCode.Jset, 3, 4, 1)), Is.EqualTo("(4e) if w3 & w4 goto pc+1"));
        Assert.That(One(Ja(-7)), Is.EqualTo("(05) goto pc-7"));
        Assert.That(One(Exit()), Is.EqualTo("(95) exit"));
    });

    [Test]
    public void Calls() => Assert.Multiple(() =>
    {
        Assert.That(One(Call(118)), Is.EqualTo("(85) call bpf_jiffies64#118"));
        Assert.That(One(Call(1)), Is.EqualTo("(85) call bpf_map_lookup_elem#1"));
        Assert.That(One(Call(9999)), Is.EqualTo("(85) call unknown#9999"));
        Assert.That(One(CallLocal(3)), Is.EqualTo("(85) call pc+3"));
        Assert.That(One(CallKfunc(2)), Is.EqualTo("(85) call kernel-function#2"));
        var names = new DisassemblyNames { Kfunc = i => i == 2 ? "tcp_slow_start" : null, Helper = i => i == 9999 ? "bpf_sim_thing" : null };
        Assert.That(Disassembler.Format([CallKfunc(2)], 0, names), Is.EqualTo("(85) call tcp_slow_start#2"));
        Assert.That(Disassembler.Format([Call(9999)], 0, names), Is.EqualTo("(85) call bpf_sim_thing#9999"));
    });

    [Test]
    public void LdImm64_FollowsBpftoolPrintImm() => Assert.Multiple(() =>
    {
        Assert.That(Disassembler.Format(LdImm64(1, 5, Pseudo.MapFd), 0), Is.EqualTo("(18) r1 = map[id:5]"));
        Assert.That(Disassembler.Format(LdImm64(1, 5, Pseudo.MapValue), 0), Is.EqualTo("(18) r1 = map[id:5][0]+0"));
        Assert.That(Disassembler.Format(LdImm64(1, (16UL << 32) | 5, Pseudo.MapValue), 0), Is.EqualTo("(18) r1 = map[id:5][0]+16"));
        Assert.That(Disassembler.Format(LdImm64(2, (4UL << 32) | 1, Pseudo.MapIdxValue), 0), Is.EqualTo("(18) r2 = map[idx:1]+4"));
        Assert.That(Disassembler.Format(LdImm64(3, 0x1_0000_0002), 0), Is.EqualTo("(18) r3 = 0x100000002"));
        Assert.That(Disassembler.Format(LdImm64(3, 7, Pseudo.Func), 0), Is.EqualTo("(18) r3 = subprog[+7]"));
        var names = new DisassemblyNames { Immediate64 = (first, second) => $"map[id:{first.Imm}][0]+{second.Imm} (.bss)" };
        Assert.That(Disassembler.Format(LdImm64(1, 9, Pseudo.MapValue), 0, names), Is.EqualTo("(18) r1 = map[id:9][0]+0 (.bss)"));
    });

    [Test]
    public void Dump_NumbersInstructionsAndSkipsSecondSlot()
    {
        Instruction[] program = [Mov64Reg(6, 1), Ldx(OpCode.DW, 1, 6, 16), Call(118), .. LdImm64(1, 5, Pseudo.MapValue), Mov64Imm(0, 0), Exit()];
        Assert.That(Disassembler.Dump(program), Is.EqualTo(
            "   0: (bf) r6 = r1\n" +
            "   1: (79) r1 = *(u64 *)(r6 +16)\n" +
            "   2: (85) call bpf_jiffies64#118\n" +
            "   3: (18) r1 = map[id:5][0]+0\n" +
            "   5: (b7) r0 = 0\n" +
            "   6: (95) exit\n"));
    }
}
