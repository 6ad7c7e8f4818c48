using System.Numerics;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using Bogus;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>
/// Every ALU/ALU64 operation, register and immediate forms, on seeded random operands biased to the edges, against
/// the spec's formulas computed independently in arbitrary precision (BigInteger): truncated signed division, the
/// division-by-zero rules, masked shifts, and wrapping to 32 or 64 bits.
/// </summary>
[Category("Ebpf")]
public sealed class AluPropertyTests(VmEngine engine) : VmEngineFixture(engine)
{
    private const int CasesPerOperation = 300;
    private static readonly BigInteger s_two64 = BigInteger.One << 64;
    private static readonly BigInteger s_two32 = BigInteger.One << 32;

    private static readonly (byte Op, bool Signed)[] s_operations =
    [
        (OpCode.Add, false), (OpCode.Sub, false), (OpCode.Mul, false), (OpCode.Div, false), (OpCode.Div, true),
        (OpCode.Or, false), (OpCode.And, false), (OpCode.Lsh, false), (OpCode.Rsh, false), (OpCode.Mod, false),
        (OpCode.Mod, true), (OpCode.Xor, false), (OpCode.Mov, false), (OpCode.Arsh, false),
    ];

    private static readonly ulong[] s_edges =
    [
        0, 1, 2, 3, 31, 32, 63, 64, ulong.MaxValue, ulong.MaxValue - 1, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff,
        0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x1_0000_0000, 0xffff_ffff_8000_0000, 0xffff_ffff_0000_0000,
    ];

    [TestCase(true, true, 101)]
    [TestCase(true, false, 102)]
    [TestCase(false, true, 103)]
    [TestCase(false, false, 104)]
    public void RandomOperands_MatchSpecFormula(bool is64, bool register, int seed)
    {
        var random = new Randomizer(seed);
        var memory = new AddressSpace();
        foreach (var (op, signed) in s_operations)
        {
            for (int i = 0; i < CasesPerOperation; i++)
            {
                ulong a = Pick(random);
                ulong b = Pick(random);
                int imm = (int)(uint)b;
                // The spec's operand: a register, or imm sign-extended (ALU64) / taken as 32 bits (ALU).
                ulong operand = register ? b : (ulong)(long)imm;
                short offset = signed ? OpCode.SignedOffset : (short)0;
                Instruction insn = (is64, register) switch
                {
                    (true, true) => Alu64Reg(op, 0, 1, offset),
                    (true, false) => Alu64Imm(op, 0, imm, offset),
                    (false, true) => Alu32Reg(op, 0, 1, offset),
                    (false, false) => Alu32Imm(op, 0, imm, offset),
                };
                var context = new RunContext(memory);
                ulong actual = TestVm.Execute([.. LdImm64(0, a), .. LdImm64(1, b), insn, Exit()], ref context, []);
                ulong expected = is64 ? Spec64(op, signed, a, operand) : Spec32(op, signed, (uint)a, (uint)operand);
                if (actual != expected)
                {
                    Assert.Fail($"{Disassembler.Format([insn], 0)} with dst=0x{a:x} src=0x{b:x}: got 0x{actual:x}, spec 0x{expected:x}");
                }
            }
        }
    }

    private static ulong Pick(Randomizer random) => random.Number(3) switch
    {
        0 => s_edges[random.Number(s_edges.Length - 1)],
        1 => (ulong)random.Number(-100, 100),
        _ => random.ULong(),
    };

    private static BigInteger Unsigned(ulong v) => new(v);

    private static BigInteger Signed(ulong v) => new((long)v);

    private static ulong Wrap64(BigInteger v) => (ulong)(((v % s_two64) + s_two64) % s_two64);

    private static ulong Spec64(byte op, bool signed, ulong dst, ulong src)
    {
        BigInteger d = signed ? Signed(dst) : Unsigned(dst);
        BigInteger s = signed ? Signed(src) : Unsigned(src);
        int shift = (int)(src & 63);
        return op switch
        {
            OpCode.Add => Wrap64(Unsigned(dst) + Unsigned(src)),
            OpCode.Sub => Wrap64(Unsigned(dst) - Unsigned(src)),
            OpCode.Mul => Wrap64(Unsigned(dst) * Unsigned(src)),
            // dst = (src != 0) ? (dst / src) : 0, BigInteger.Divide truncating toward zero.
            OpCode.Div => src == 0 ? 0 : Wrap64(BigInteger.Divide(d, s)),
            // dst = (src != 0) ? (dst % src) : dst; a % n = a - n * trunc(a / n).
            OpCode.Mod => src == 0 ? dst : Wrap64(d - s * BigInteger.Divide(d, s)),
            OpCode.Or => dst | src,
            OpCode.And => dst & src,
            OpCode.Xor => dst ^ src,
            OpCode.Lsh => Wrap64(Unsigned(dst) << shift),
            OpCode.Rsh => Wrap64(Unsigned(dst) >> shift),
            OpCode.Arsh => Wrap64(Signed(dst) >> shift),
            OpCode.Mov => src,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }

    private static ulong Spec32(byte op, bool signed, uint dst, uint src)
    {
        BigInteger d = signed ? new BigInteger((int)dst) : new BigInteger(dst);
        BigInteger s = signed ? new BigInteger((int)src) : new BigInteger(src);
        int shift = (int)(src & 31);
        BigInteger result = op switch
        {
            OpCode.Add => new BigInteger(dst) + src,
            OpCode.Sub => new BigInteger(dst) - src,
            OpCode.Mul => new BigInteger(dst) * src,
            OpCode.Div => src == 0 ? 0 : BigInteger.Divide(d, s),
            // ALU modulo by zero: the dividend, its upper 32 bits zeroed.
            OpCode.Mod => src == 0 ? dst : d - s * BigInteger.Divide(d, s),
            OpCode.Or => dst | src,
            OpCode.And => dst & src,
            OpCode.Xor => dst ^ src,
            OpCode.Lsh => new BigInteger(dst) << shift,
            OpCode.Rsh => new BigInteger(dst) >> shift,
            OpCode.Arsh => new BigInteger((int)dst) >> shift,
            OpCode.Mov => src,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        return (ulong)(((result % s_two32) + s_two32) % s_two32);
    }
}
