using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.CoRe;

// bpf_core_patch_insn and bpf_core_poison_insn (tools/lib/bpf/relo_core.c).
public sealed partial class CoreRelocator
{
    // Opcode fields (include/uapi/linux/bpf_common.h): class in bits 0-2, size in 3-4, mode in 5-7, source bit 3.
    private const byte ClassLd = 0x00;
    private const byte ClassLdx = 0x01;
    private const byte ClassSt = 0x02;
    private const byte ClassStx = 0x03;
    private const byte ClassAlu = 0x04;
    private const byte ClassAlu64 = 0x07;
    private const byte SourceX = 0x08;
    private const byte SizeMask = 0x18;
    private const byte ModeMask = 0xe0;
    private const byte LdImm64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
    private const byte JmpCall = 0x85; // BPF_JMP | BPF_CALL

    /// <summary>
    /// Patches the instruction at <paramref name="index"/> with <paramref name="result"/>, as bpf_core_patch_insn does:
    /// an ALU immediate, a load's or store's offset (and its size, when the field's size changed and that is safe),
    /// or a 64-bit immediate load. A poisoned result turns the instruction (both halves of an ldimm64) into
    /// <c>call 0xbad2310</c>, which fails only if the program reaches it.
    /// </summary>
    /// <exception cref="CoreRelocationException">
    /// The instruction cannot carry the relocation (a register-source ALU, a jump, a malformed ldimm64), does not hold
    /// the value the local BTF predicts, or the new offset does not fit in 16 bits.
    /// </exception>
    public static void Apply(Span<Instruction> insns, int index, CoreResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if ((uint)index >= (uint)insns.Length)
        {
            throw new CoreRelocationException($"insn #{index}: past the end of the program ({insns.Length} instructions)");
        }
        var insn = insns[index];
        if (result.Poison)
        {
            Poison(insns, index);
            return;
        }
        ulong orig = result.OriginalValue;
        ulong value = result.Value;
        switch (insn.Class)
        {
            case ClassAlu or ClassAlu64:
                if ((insn.Opcode & SourceX) != 0)
                {
                    throw Bad(index, insn, "an ALU instruction with a register source");
                }
                if (result.Validate && (ulong)(long)insn.Imm != orig)
                {
                    throw new CoreRelocationException($"insn #{index} (ALU/ALU64): unexpected value: got {insn.Imm}, expected {orig} -> {value}");
                }
                insns[index] = insn.WithImm((int)value);
                return;
            case ClassLdx or ClassSt or ClassStx:
                if (result.Validate && (ulong)(long)insn.Offset != orig)
                {
                    throw new CoreRelocationException($"insn #{index} (LDX/ST/STX): unexpected value: got {insn.Offset}, expected {orig} -> {value}");
                }
                if (value > (ulong)short.MaxValue)
                {
                    throw new CoreRelocationException($"insn #{index} (LDX/ST/STX): offset {value} is too big");
                }
                if (result.FailMemSizeAdjust)
                {
                    // The field changed size and is not a pointer or unsigned integer: reading it would be wrong.
                    Poison(insns, index);
                    return;
                }
                byte opcode = insn.Opcode;
                if (result.NewSize != result.OriginalSize)
                {
                    int bytes = SizeBytes(opcode);
                    if (bytes != result.OriginalSize)
                    {
                        throw new CoreRelocationException($"insn #{index} (LDX/ST/STX): unexpected mem size: got {bytes}, expected {result.OriginalSize}");
                    }
                    byte size = result.NewSize switch
                    {
                        8 => 0x18,
                        4 => 0x00,
                        2 => 0x08,
                        1 => 0x10,
                        _ => throw new CoreRelocationException($"insn #{index} (LDX/ST/STX): invalid new mem size {result.NewSize}"),
                    };
                    opcode = (byte)((opcode & ModeMask) | size | (opcode & 0x07));
                }
                insns[index] = insn with { Opcode = opcode, Offset = (short)value };
                return;
            case ClassLd:
                if (insn.Opcode != LdImm64 || insn.Src != 0 || insn.Offset != 0 || index + 1 >= insns.Length
                    || insns[index + 1].Opcode != 0 || insns[index + 1].Registers != 0 || insns[index + 1].Offset != 0)
                {
                    throw Bad(index, insn, "an LDIMM64 of unexpected form");
                }
                ulong imm = (uint)insn.Imm | ((ulong)(uint)insns[index + 1].Imm << 32);
                if (result.Validate && imm != orig)
                {
                    throw new CoreRelocationException($"insn #{index} (LDIMM64): unexpected value: got {imm}, expected {orig} -> {value}");
                }
                insns[index] = insn.WithImm((int)(uint)value);
                insns[index + 1] = insns[index + 1].WithImm((int)(uint)(value >> 32));
                return;
            default:
                throw Bad(index, insn, "an instruction CO-RE cannot relocate");
        }
    }

    private static void Poison(Span<Instruction> insns, int index)
    {
        // Poison the second half of an ldimm64 too, so the verifier does not complain of opcode 00 first.
        if (insns[index].Opcode == LdImm64 && index + 1 < insns.Length)
        {
            insns[index + 1] = new Instruction(JmpCall, 0, 0, 0, PoisonHelper);
        }
        insns[index] = new Instruction(JmpCall, 0, 0, 0, PoisonHelper);
    }

    private static int SizeBytes(byte opcode) => (opcode & SizeMask) switch
    {
        0x18 => 8,
        0x00 => 4,
        0x08 => 2,
        _ => 1,
    };

    private static CoreRelocationException Bad(int index, Instruction insn, string what) =>
        new($"insn #{index}: trying to relocate {what} (code 0x{insn.Opcode:x2}, src {insn.Src}, dst {insn.Dst}, off {insn.Offset}, imm {insn.Imm})");
}
