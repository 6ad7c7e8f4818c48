namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// Builds instructions the way the kernel's own macros do (BPF_ALU64_IMM, BPF_LDX_MEM, BPF_JMP_IMM, ... in
/// include/linux/filter.h), for hand-assembled programs in tests and benchmarks. Operations and sizes are
/// <see cref="OpCode"/> constants: <c>Insn.Alu64Imm(OpCode.Add, 1, 5)</c> is <c>r1 += 5</c>.
/// </summary>
public static class Insn
{
    /// <summary>BPF_ALU64_IMM: <c>dst op= imm</c> on 64 bits (imm sign-extended).</summary>
    public static Instruction Alu64Imm(byte op, int dst, int imm, short offset = 0) => new((byte)(OpCode.Alu64 | op | OpCode.K), dst, 0, offset, imm);

    /// <summary>BPF_ALU64_REG: <c>dst op= src</c> on 64 bits; offset 1 makes div/mod signed.</summary>
    public static Instruction Alu64Reg(byte op, int dst, int src, short offset = 0) => new((byte)(OpCode.Alu64 | op | OpCode.X), dst, src, offset, 0);

    /// <summary>BPF_ALU32_IMM: <c>wdst op= imm</c>, zero-extended.</summary>
    public static Instruction Alu32Imm(byte op, int dst, int imm, short offset = 0) => new((byte)(OpCode.Alu | op | OpCode.K), dst, 0, offset, imm);

    /// <summary>BPF_ALU32_REG: <c>wdst op= wsrc</c>, zero-extended.</summary>
    public static Instruction Alu32Reg(byte op, int dst, int src, short offset = 0) => new((byte)(OpCode.Alu | op | OpCode.X), dst, src, offset, 0);

    /// <summary>BPF_MOV64_IMM: <c>dst = imm</c> (sign-extended).</summary>
    public static Instruction Mov64Imm(int dst, int imm) => Alu64Imm(OpCode.Mov, dst, imm);

    /// <summary>BPF_MOV64_REG: <c>dst = src</c>.</summary>
    public static Instruction Mov64Reg(int dst, int src) => Alu64Reg(OpCode.Mov, dst, src);

    /// <summary>BPF_MOV32_IMM: <c>wdst = imm</c>.</summary>
    public static Instruction Mov32Imm(int dst, int imm) => Alu32Imm(OpCode.Mov, dst, imm);

    /// <summary>BPF_MOVSX64_REG: <c>dst = (s8|s16|s32)src</c>.</summary>
    public static Instruction MovSx64(int dst, int src, short bits) => Alu64Reg(OpCode.Mov, dst, src, bits);

    /// <summary>BPF_MOVSX32_REG: <c>wdst = (s8|s16)wsrc</c>.</summary>
    public static Instruction MovSx32(int dst, int src, short bits) => Alu32Reg(OpCode.Mov, dst, src, bits);

    /// <summary>BPF_NEG on 64 bits.</summary>
    public static Instruction Neg64(int dst) => new(OpCode.Alu64 | OpCode.Neg, dst, 0, 0, 0);

    /// <summary>BPF_NEG on 32 bits.</summary>
    public static Instruction Neg32(int dst) => new(OpCode.Alu | OpCode.Neg, dst, 0, 0, 0);

    /// <summary>BPF_ENDIAN: <c>dst = le16/le32/le64</c> (<see cref="OpCode.ToLe"/>) or be (<see cref="OpCode.ToBe"/>).</summary>
    public static Instruction Endian(byte order, int dst, int bits) => new((byte)(OpCode.Alu | OpCode.End | order), dst, 0, 0, bits);

    /// <summary>BPF_BSWAP (cpu v4): <c>dst = bswap16/32/64 dst</c>.</summary>
    public static Instruction Bswap(int dst, int bits) => new(OpCode.Alu64 | OpCode.End, dst, 0, 0, bits);

    /// <summary>BPF_LD_IMM64: both slots of <c>dst = value</c>, with an optional pseudo source.</summary>
    public static Instruction[] LdImm64(int dst, ulong value, int pseudo = 0) =>
    [
        new(OpCode.LdImm64, dst, pseudo, 0, (int)(uint)value),
        new(0, 0, 0, 0, (int)(uint)(value >> 32)),
    ];

    /// <summary>BPF_LDX_MEM: <c>dst = *(size *)(src + offset)</c>, zero-extended.</summary>
    public static Instruction Ldx(byte size, int dst, int src, short offset) => new((byte)(OpCode.Ldx | OpCode.Mem | size), dst, src, offset, 0);

    /// <summary>BPF_LDX_MEMSX (cpu v4): <c>dst = *(s8|s16|s32 *)(src + offset)</c>, sign-extended.</summary>
    public static Instruction LdxSx(byte size, int dst, int src, short offset) => new((byte)(OpCode.Ldx | OpCode.MemSx | size), dst, src, offset, 0);

    /// <summary>BPF_ST_MEM: <c>*(size *)(dst + offset) = imm</c>.</summary>
    public static Instruction St(byte size, int dst, short offset, int imm) => new((byte)(OpCode.St | OpCode.Mem | size), dst, 0, offset, imm);

    /// <summary>BPF_STX_MEM: <c>*(size *)(dst + offset) = src</c>.</summary>
    public static Instruction Stx(byte size, int dst, int src, short offset) => new((byte)(OpCode.Stx | OpCode.Mem | size), dst, src, offset, 0);

    /// <summary>BPF_ATOMIC_OP: an atomic on <c>*(size *)(dst + offset)</c> with src; op is an ALU op (| Fetch), Xchg or Cmpxchg.</summary>
    public static Instruction Atomic(byte size, int op, int dst, int src, short offset) => new((byte)(OpCode.Stx | OpCode.Atomic | size), dst, src, offset, op);

    /// <summary>BPF_JMP_IMM: <c>if dst op imm goto pc+offset</c> (64-bit compare).</summary>
    public static Instruction JmpImm(byte op, int dst, int imm, short offset) => new((byte)(OpCode.Jmp | op | OpCode.K), dst, 0, offset, imm);

    /// <summary>BPF_JMP_REG: <c>if dst op src goto pc+offset</c>.</summary>
    public static Instruction JmpReg(byte op, int dst, int src, short offset) => new((byte)(OpCode.Jmp | op | OpCode.X), dst, src, offset, 0);

    /// <summary>BPF_JMP32_IMM: the 32-bit compare.</summary>
    public static Instruction Jmp32Imm(byte op, int dst, int imm, short offset) => new((byte)(OpCode.Jmp32 | op | OpCode.K), dst, 0, offset, imm);

    /// <summary>BPF_JMP32_REG: the 32-bit compare of two registers.</summary>
    public static Instruction Jmp32Reg(byte op, int dst, int src, short offset) => new((byte)(OpCode.Jmp32 | op | OpCode.X), dst, src, offset, 0);

    /// <summary>BPF_JMP_A: <c>goto pc+offset</c>.</summary>
    public static Instruction Ja(short offset) => new(OpCode.Jmp | OpCode.Ja, 0, 0, offset, 0);

    /// <summary>BPF_JMP32_A (cpu v4 gotol): <c>goto pc+imm</c> with a 32-bit offset.</summary>
    public static Instruction Gotol(int offset) => new(OpCode.Jmp32 | OpCode.Ja, 0, 0, 0, offset);

    /// <summary>BPF_EMIT_CALL: a helper by id.</summary>
    public static Instruction Call(int helperId) => new(OpCode.Jmp | OpCode.Call, 0, 0, 0, helperId);

    /// <summary>A kfunc call (src BPF_PSEUDO_KFUNC_CALL), imm the loader's index.</summary>
    public static Instruction CallKfunc(int index) => new(OpCode.Jmp | OpCode.Call, 0, Pseudo.KfuncCall, 0, index);

    /// <summary>A bpf-to-bpf call (src BPF_PSEUDO_CALL) to pc+offset+1.</summary>
    public static Instruction CallLocal(int offset) => new(OpCode.Jmp | OpCode.Call, 0, Pseudo.Call, 0, offset);

    /// <summary>BPF_EXIT_INSN.</summary>
    public static Instruction Exit() => new(OpCode.Jmp | OpCode.Exit, 0, 0, 0, 0);
}
