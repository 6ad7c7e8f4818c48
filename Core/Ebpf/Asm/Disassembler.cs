using System.Globalization;
using System.Text;

namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// Instructions as text, in the format of <c>bpftool prog dump xlated</c>: print_bpf_insn() of kernel/bpf/disasm.c
/// with bpftool's callbacks (tools/bpf/bpftool/xlated_dumper.c), e.g. <c>(79) r1 = *(u64 *)(r6 +16)</c>.
/// </summary>
public static class Disassembler
{
    private static readonly string?[] s_aluOps =
    [
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", null, null,
    ];

    private static readonly string?[] s_jmpOps =
    [
        "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", null, null,
    ];

    private static readonly string[] s_sizes = ["u32", "u16", "u8", "u64"];

    private static readonly string?[] s_signedSizes = ["s32", "s16", "s8", null];

    /// <summary>
    /// The whole program as bpftool prints it: one line per instruction, <c>"%4u: "</c> and the instruction, each
    /// ending in a newline; the second slot of a 64-bit immediate load has no line of its own.
    /// </summary>
    public static string Dump(ReadOnlySpan<Instruction> program, DisassemblyNames? names = null)
    {
        var text = new StringBuilder();
        for (int i = 0; i < program.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i,4}: ").Append(Format(program, i, names)).Append('\n');
            if (program[i].Opcode == OpCode.LdImm64)
            {
                i++;
            }
        }
        return text.ToString();
    }

    /// <summary>One instruction without its index, e.g. <c>(bf) r6 = r1</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is not an instruction of the program.</exception>
    public static string Format(ReadOnlySpan<Instruction> program, int index, DisassemblyNames? names = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, program.Length);
        var insn = program[index];
        var next = index + 1 < program.Length ? program[index + 1] : default;
        return string.Create(CultureInfo.InvariantCulture, $"({insn.Opcode:x2}) {Body(insn, next, names)}");
    }

    private static string Body(Instruction insn, Instruction next, DisassemblyNames? names)
    {
        byte code = insn.Opcode;
        int cls = OpCode.ClassOf(code);
        return cls switch
        {
            OpCode.Alu or OpCode.Alu64 => Alu(insn, cls == OpCode.Alu64),
            OpCode.Stx => Stx(insn),
            OpCode.St => OpCode.ModeOf(code) == OpCode.Mem
                ? $"*({Size(code)} *)(r{insn.Dst} {Signed(insn.Offset)}) = {insn.Imm}"
                : OpCode.ModeOf(code) == 0xc0 ? "nospec" : $"BUG_st_{code:x2}",
            OpCode.Ldx => OpCode.ModeOf(code) switch
            {
                OpCode.Mem => $"r{insn.Dst} = *({Size(code)} *)(r{insn.Src} {Signed(insn.Offset)})",
                OpCode.MemSx => $"r{insn.Dst} = *({Str(s_signedSizes[OpCode.SizeOf(code) >> 3])} *)(r{insn.Src} {Signed(insn.Offset)})",
                _ => $"BUG_ldx_{code:x2}",
            },
            OpCode.Ld => Ld(insn, next, names),
            _ => Jmp(insn, cls == OpCode.Jmp32, names),
        };
    }

    private static string Alu(Instruction insn, bool is64)
    {
        byte code = insn.Opcode;
        int op = OpCode.OpOf(code);
        char r = is64 ? 'r' : 'w';
        if (op == OpCode.End)
        {
            return is64
                ? $"r{insn.Dst} = bswap{insn.Imm} r{insn.Dst}"
                : $"r{insn.Dst} = {(OpCode.SourceOf(code) == OpCode.ToBe ? "be" : "le")}{insn.Imm} r{insn.Dst}";
        }
        if (op == OpCode.Neg)
        {
            return $"{r}{insn.Dst} = -{r}{insn.Dst}";
        }
        if (code == (OpCode.Alu64 | OpCode.Mov | OpCode.X) && insn.Offset == 1)
        {
            // BPF_ADDR_SPACE_CAST (arena pointers).
            return $"r{insn.Dst} = addr_space_cast(r{insn.Src}, {(uint)insn.Imm >> 16}, {(ushort)insn.Imm})";
        }
        if (code == (OpCode.Alu64 | OpCode.Mov | OpCode.X) && insn.Offset == -1)
        {
            // BPF_ADDR_PERCPU, internal to the kernel.
            return $"r{insn.Dst} = &(void __percpu *)(r{insn.Src})";
        }
        bool signed = (op == OpCode.Div || op == OpCode.Mod) && insn.Offset == OpCode.SignedOffset;
        string name = signed ? (op == OpCode.Div ? "s/=" : "s%=") : Str(s_aluOps[op >> 4]);
        if (OpCode.SourceOf(code) == OpCode.X)
        {
            string cast = op == OpCode.Mov && insn.Offset is 8 or 16 or 32 ? $"(s{insn.Offset})" : "";
            return $"{r}{insn.Dst} {name} {cast}{r}{insn.Src}";
        }
        return $"{r}{insn.Dst} {name} {insn.Imm}";
    }

    private static string Stx(Instruction insn)
    {
        byte code = insn.Opcode;
        string size = Size(code);
        string at = $"(r{insn.Dst} {Signed(insn.Offset)})";
        if (OpCode.ModeOf(code) == OpCode.Mem)
        {
            return $"*({size} *){at} = r{insn.Src}";
        }
        if (OpCode.ModeOf(code) != OpCode.Atomic)
        {
            return $"BUG_{code:x2}";
        }
        string bits = OpCode.SizeOf(code) == OpCode.DW ? "64" : "";
        int imm = insn.Imm;
        switch (imm)
        {
            case OpCode.Add or OpCode.And or OpCode.Or or OpCode.Xor:
                return $"lock *({size} *){at} {s_aluOps[imm >> 4]} r{insn.Src}";
            case OpCode.Add | OpCode.Fetch or OpCode.And | OpCode.Fetch or OpCode.Or | OpCode.Fetch or OpCode.Xor | OpCode.Fetch:
                string verb = (imm & 0xf0) switch
                {
                    OpCode.Add => "add",
                    OpCode.And => "and",
                    OpCode.Or => "or",
                    _ => "xor",
                };
                return $"r{insn.Src} = atomic{bits}_fetch_{verb}(({size} *){at}, r{insn.Src})";
            case OpCode.Cmpxchg:
                return $"r0 = atomic{bits}_cmpxchg(({size} *){at}, r0, r{insn.Src})";
            case OpCode.Xchg:
                return $"r{insn.Src} = atomic{bits}_xchg(({size} *){at}, r{insn.Src})";
            default:
                return $"BUG_{code:x2}";
        }
    }

    private static string Ld(Instruction insn, Instruction next, DisassemblyNames? names)
    {
        byte code = insn.Opcode;
        return OpCode.ModeOf(code) switch
        {
            OpCode.Abs => $"r0 = *({Size(code)} *)skb[{insn.Imm}]",
            OpCode.Ind => $"r0 = *({Size(code)} *)skb[r{insn.Src} + {insn.Imm}]",
            OpCode.Imm when OpCode.SizeOf(code) == OpCode.DW =>
                $"r{insn.Dst} = {names?.Immediate64?.Invoke(insn, next) ?? Immediate64(insn, next)}",
            _ => $"BUG_ld_{code:x2}",
        };
    }

    /// <summary>bpftool's print_imm: maps by id, map values with their offset, subprograms, else the value in hex.</summary>
    private static string Immediate64(Instruction insn, Instruction next) => insn.Src switch
    {
        Pseudo.MapFd => $"map[id:{(uint)insn.Imm}]",
        Pseudo.MapValue => $"map[id:{(uint)insn.Imm}][0]+{(uint)next.Imm}",
        Pseudo.MapIdxValue => $"map[idx:{(uint)insn.Imm}]+{(uint)next.Imm}",
        Pseudo.Func => $"subprog[{Signed(insn.Imm)}]",
        _ => $"0x{((ulong)(uint)next.Imm << 32) | (uint)insn.Imm:x}",
    };

    private static string Jmp(Instruction insn, bool is32, DisassemblyNames? names)
    {
        byte code = insn.Opcode;
        int op = OpCode.OpOf(code);
        char r = is32 ? 'w' : 'r';
        if (op == OpCode.Call)
        {
            if (insn.Src == Pseudo.Call)
            {
                return $"call pc{Signed(insn.Imm)}";
            }
            return $"call {CallName(insn, names)}#{insn.Imm}";
        }
        if (code == (OpCode.Jmp | OpCode.Ja))
        {
            return $"goto pc{Signed(insn.Offset)}";
        }
        if (code == (OpCode.Jmp | OpCode.Jcond) && insn.Src == 0)
        {
            return $"may_goto pc{Signed(insn.Offset)}";
        }
        if (code == (OpCode.Jmp32 | OpCode.Ja))
        {
            return $"gotol pc{Signed(insn.Imm)}";
        }
        if (code == (OpCode.Jmp | OpCode.Exit))
        {
            return "exit";
        }
        string name = Str(s_jmpOps[op >> 4]);
        return OpCode.SourceOf(code) == OpCode.X
            ? $"if {r}{insn.Dst} {name} {r}{insn.Src} goto pc{Signed(insn.Offset)}"
            : $"if {r}{insn.Dst} {name} 0x{(uint)insn.Imm:x} goto pc{Signed(insn.Offset)}";
    }

    /// <summary>__func_get_name: the kernel's helper names first, then the callbacks, then disasm.c's defaults.</summary>
    private static string CallName(Instruction insn, DisassemblyNames? names)
    {
        if (insn.Src == 0 && HelperNames.TryGetName(insn.Imm) is { } known)
        {
            return known;
        }
        string? named = insn.Src == Pseudo.KfuncCall ? names?.Kfunc?.Invoke(insn.Imm) : insn.Src == 0 ? names?.Helper?.Invoke(insn.Imm) : null;
        return named ?? (insn.Src == Pseudo.KfuncCall ? "kernel-function" : "unknown");
    }

    private static string Size(byte code) => s_sizes[OpCode.SizeOf(code) >> 3];

    private static string Signed(int value) => value.ToString("+0;-0", CultureInfo.InvariantCulture);

    // glibc prints a null %s as "(null)"; opcodes print_bpf_insn has no name for come out the same way.
    private static string Str(string? name) => name ?? "(null)";
}
