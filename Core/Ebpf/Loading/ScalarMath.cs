using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The verifier's arithmetic on known constants (a tnum with no unknown bits): the result of an ALU operation on two of
/// them, and the outcome of a conditional jump between two of them (is_branch_taken), so that the load-time checks
/// follow only the edges the verifier follows.
/// </summary>
internal static class ScalarMath
{
    /// <summary>
    /// <paramref name="op"/> on <paramref name="a"/> and <paramref name="b"/> in 64 or 32 bits (zero-extended), as the
    /// interpreter computes it; null for an operation this does not fold (signed division, sign-extending moves, byte
    /// swaps).
    /// </summary>
    public static ulong? Fold(int op, ulong a, ulong b, bool is64, short offset)
    {
        if (offset != 0)
        {
            return null;
        }
        if (!is64)
        {
            a = (uint)a;
            b = (uint)b;
        }
        int mask = is64 ? 63 : 31;
        ulong? r = op switch
        {
            OpCode.Mov => b,
            OpCode.Add => a + b,
            OpCode.Sub => a - b,
            OpCode.Mul => a * b,
            OpCode.Div => b == 0 ? 0 : a / b,
            OpCode.Mod => b == 0 ? a : a % b,
            OpCode.Or => a | b,
            OpCode.And => a & b,
            OpCode.Xor => a ^ b,
            OpCode.Lsh => a << (int)(b & (ulong)mask),
            OpCode.Rsh => a >> (int)(b & (ulong)mask),
            OpCode.Arsh => is64 ? (ulong)((long)a >> (int)(b & 63)) : (uint)((int)(uint)a >> (int)(b & 31)),
            OpCode.Neg => 0 - a,
            _ => null,
        };
        return r is { } v && !is64 ? (uint)v : r;
    }

    /// <summary>Whether conditional jump <paramref name="op"/> between two known values is taken (is_branch_taken).</summary>
    public static bool Decide(int op, ulong a, ulong b, bool is32)
    {
        if (is32)
        {
            a = (uint)a;
            b = (uint)b;
        }
        long sa = is32 ? (int)(uint)a : (long)a, sb = is32 ? (int)(uint)b : (long)b;
        return op switch
        {
            OpCode.Jeq => a == b,
            OpCode.Jne => a != b,
            OpCode.Jgt => a > b,
            OpCode.Jge => a >= b,
            OpCode.Jlt => a < b,
            OpCode.Jle => a <= b,
            OpCode.Jsgt => sa > sb,
            OpCode.Jsge => sa >= sb,
            OpCode.Jslt => sa < sb,
            OpCode.Jsle => sa <= sb,
            OpCode.Jset => (a & b) != 0,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }
}
