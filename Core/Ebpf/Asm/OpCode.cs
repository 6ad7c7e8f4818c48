namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// The opcode byte's fields and their values (include/uapi/linux/bpf_common.h, include/uapi/linux/bpf.h;
/// Documentation/bpf/standardization/instruction-set.rst). The constants are flat, as the kernel's <c>BPF_*</c>
/// macros are, and combine with <c>|</c>: <c>OpCode.Alu64 | OpCode.Add | OpCode.X</c> is 0x0f.
/// </summary>
/// <remarks>
/// <code>
///   arithmetic and jump:  +----------------+--------+--------------+
///                         |   4 bits op    | 1 bit  | 3 bits class |
///                         |                | source |              |
///                         +----------------+--------+--------------+
///   load and store:       +--------+--------+--------------+
///                         | 3 bits | 2 bits | 3 bits class |
///                         |  mode  |  size  |              |
///                         +--------+--------+--------------+
/// </code>
/// </remarks>
public static class OpCode
{
    // Classes (BPF_CLASS, the low three bits).
    public const byte Ld = 0x00;
    public const byte Ldx = 0x01;
    public const byte St = 0x02;
    public const byte Stx = 0x03;
    public const byte Alu = 0x04;
    public const byte Jmp = 0x05;
    public const byte Jmp32 = 0x06;
    public const byte Alu64 = 0x07;

    // Sizes (BPF_SIZE) of loads and stores.
    public const byte W = 0x00;
    public const byte H = 0x08;
    public const byte B = 0x10;
    public const byte DW = 0x18;

    // Modes (BPF_MODE) of loads and stores.
    public const byte Imm = 0x00;
    public const byte Abs = 0x20;
    public const byte Ind = 0x40;
    public const byte Mem = 0x60;
    public const byte MemSx = 0x80;
    public const byte Atomic = 0xc0;

    // Sources (BPF_SRC): the immediate or the src register; for BPF_END the byte order.
    public const byte K = 0x00;
    public const byte X = 0x08;
    public const byte ToLe = 0x00;
    public const byte ToBe = 0x08;

    // Arithmetic operations (BPF_OP of ALU and ALU64).
    public const byte Add = 0x00;
    public const byte Sub = 0x10;
    public const byte Mul = 0x20;
    public const byte Div = 0x30;
    public const byte Or = 0x40;
    public const byte And = 0x50;
    public const byte Lsh = 0x60;
    public const byte Rsh = 0x70;
    public const byte Neg = 0x80;
    public const byte Mod = 0x90;
    public const byte Xor = 0xa0;
    public const byte Mov = 0xb0;
    public const byte Arsh = 0xc0;
    public const byte End = 0xd0;

    // Jump operations (BPF_OP of JMP and JMP32).
    public const byte Ja = 0x00;
    public const byte Jeq = 0x10;
    public const byte Jgt = 0x20;
    public const byte Jge = 0x30;
    public const byte Jset = 0x40;
    public const byte Jne = 0x50;
    public const byte Jsgt = 0x60;
    public const byte Jsge = 0x70;
    public const byte Call = 0x80;
    public const byte Exit = 0x90;
    public const byte Jlt = 0xa0;
    public const byte Jle = 0xb0;
    public const byte Jslt = 0xc0;
    public const byte Jsle = 0xd0;
    public const byte Jcond = 0xe0;

    // Atomic operations: the imm of a BPF_STX | BPF_ATOMIC instruction is an ALU op, optionally with BPF_FETCH.
    public const int Fetch = 0x01;
    public const int Xchg = 0xe0 | Fetch;
    public const int Cmpxchg = 0xf0 | Fetch;

    /// <summary>The offset of a signed BPF_DIV/BPF_MOD (cpu v4 sdiv, smod).</summary>
    public const short SignedOffset = 1;

    /// <summary>The first slot of a 64-bit immediate load (BPF_LD | BPF_IMM | BPF_DW).</summary>
    public const byte LdImm64 = Ld | Imm | DW;

    /// <summary>BPF_CLASS: the instruction class.</summary>
    public static int ClassOf(byte opcode) => opcode & 0x07;

    /// <summary>BPF_SIZE: the access size field of a load or store.</summary>
    public static int SizeOf(byte opcode) => opcode & 0x18;

    /// <summary>BPF_MODE: the mode field of a load or store.</summary>
    public static int ModeOf(byte opcode) => opcode & 0xe0;

    /// <summary>BPF_OP: the operation of an arithmetic or jump instruction.</summary>
    public static int OpOf(byte opcode) => opcode & 0xf0;

    /// <summary>BPF_SRC: whether the operand is the immediate (<see cref="K"/>) or a register (<see cref="X"/>).</summary>
    public static int SourceOf(byte opcode) => opcode & 0x08;

    /// <summary>The number of bytes a load or store of this size field moves (bpf_size_to_bytes).</summary>
    public static int BytesOf(int size) => size switch
    {
        W => 4,
        H => 2,
        B => 1,
        _ => 8,
    };
}
