using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Vm;

public static partial class Interpreter
{
    // An instruction read as one little-endian ulong: opcode in bits 0-7, dst 8-11, src 12-15, offset 16-31,
    // imm 32-63 (struct bpf_insn's layout).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong Dst(ref ulong reg, ulong w) => ref Unsafe.Add(ref reg, (nint)((w >> 8) & 0xf));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Src(ref ulong reg, ulong w) => Unsafe.Add(ref reg, (nint)((w >> 12) & 0xf));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DstIndex(ulong w) => (int)(w >> 8) & 0xf;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SrcIndex(ulong w) => (int)(w >> 12) & 0xf;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static short Off(ulong w) => (short)(w >> 16);

    /// <summary>imm sign-extended to 64 bits (ALU64, JMP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Imm(ulong w) => (ulong)(long)(int)(w >> 32);

    /// <summary>imm as 32 bits (ALU, JMP32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Imm32(ulong w) => (uint)(w >> 32);

    internal static Instruction Decode(ulong w) => Unsafe.As<ulong, Instruction>(ref w);
}
