using System.Runtime.InteropServices;

namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// One 8-byte BPF instruction (struct bpf_insn, include/uapi/linux/bpf.h): opcode, dst_reg (low nibble) and src_reg
/// (high nibble), a signed 16-bit offset and a signed 32-bit immediate, little-endian. A 64-bit immediate load
/// (ldimm64) takes two slots; the second slot's imm holds the upper half.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public readonly record struct Instruction(byte Opcode, byte Registers, short Offset, int Imm)
{
    public const int Size = 8;

    public Instruction(byte opcode, int dst, int src, short offset, int imm)
        : this(opcode, (byte)((dst & 0xf) | ((src & 0xf) << 4)), offset, imm)
    {
    }

    public int Dst => Registers & 0xf;

    public int Src => Registers >> 4;

    /// <summary>The instruction class (BPF_LD … BPF_ALU64): the low three bits of the opcode.</summary>
    public int Class => Opcode & 0x07;

    /// <summary>Reads instructions from little-endian bytes.</summary>
    public static Instruction[] Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % Size != 0)
        {
            throw new ArgumentException($"{bytes.Length} bytes is not a whole number of {Size}-byte instructions", nameof(bytes));
        }
        var result = new Instruction[bytes.Length / Size];
        for (int i = 0; i < result.Length; i++)
        {
            var b = bytes.Slice(i * Size, Size);
            result[i] = new Instruction(b[0], b[1], System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(b[2..]),
                System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b[4..]));
        }
        return result;
    }

    /// <summary>Writes the instruction as its 8 little-endian bytes.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = Opcode;
        destination[1] = Registers;
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(destination[2..], Offset);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Imm);
    }

    public Instruction WithImm(int imm) => this with { Imm = imm };

    public Instruction WithSrc(int src) => this with { Registers = (byte)((Registers & 0x0f) | ((src & 0xf) << 4)) };
}
