using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

public static partial class Interpreter
{
    // Division and modulo as the program runs after do_misc_fixups (kernel/bpf/verifier.c) rewrote it: the
    // divisor 0 and, for the signed forms, -1 are patched around so that no division ever traps.

    internal static ulong Div64(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong dividend, ulong divisor)
    {
        if (insn.Offset == 0)
        {
            return divisor == 0 ? 0 : dividend / divisor;
        }
        CheckSigned(ref ctx, remaining, pc, insn);
        return divisor switch
        {
            0 => 0,
            ulong.MaxValue => 0 - dividend, // s/ -1 is a negation: LLONG_MIN stays LLONG_MIN.
            _ => (ulong)((long)dividend / (long)divisor),
        };
    }

    internal static ulong Mod64(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong dividend, ulong divisor)
    {
        if (insn.Offset == 0)
        {
            return divisor == 0 ? dividend : dividend % divisor;
        }
        CheckSigned(ref ctx, remaining, pc, insn);
        return divisor switch
        {
            0 => dividend,
            ulong.MaxValue => 0,
            _ => (ulong)((long)dividend % (long)divisor), // truncated: the sign of the dividend.
        };
    }

    internal static uint Div32(ref RunContext ctx, long remaining, int pc, Instruction insn, uint dividend, uint divisor)
    {
        if (insn.Offset == 0)
        {
            return divisor == 0 ? 0 : dividend / divisor;
        }
        CheckSigned(ref ctx, remaining, pc, insn);
        return divisor switch
        {
            0 => 0,
            uint.MaxValue => 0 - dividend,
            _ => (uint)((int)dividend / (int)divisor),
        };
    }

    internal static uint Mod32(ref RunContext ctx, long remaining, int pc, Instruction insn, uint dividend, uint divisor)
    {
        if (insn.Offset == 0)
        {
            return divisor == 0 ? dividend : dividend % divisor;
        }
        CheckSigned(ref ctx, remaining, pc, insn);
        return divisor switch
        {
            0 => dividend,
            uint.MaxValue => 0,
            _ => (uint)((int)dividend % (int)divisor),
        };
    }

    private static void CheckSigned(ref RunContext ctx, long remaining, int pc, Instruction insn)
    {
        if (insn.Offset != OpCode.SignedOffset)
        {
            ThrowInvalid(ref ctx, remaining, pc, "BPF_ALU uses reserved fields");
        }
    }

    internal static ulong MovSx64(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong value)
    {
        switch (insn.Offset)
        {
            case 8: return (ulong)(sbyte)value;
            case 16: return (ulong)(short)value;
            case 32: return (ulong)(int)value;
            default:
                ThrowInvalid(ref ctx, remaining, pc, "BPF_MOV uses reserved fields");
                return 0;
        }
    }

    internal static uint MovSx32(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong value)
    {
        switch (insn.Offset)
        {
            case 8: return (uint)(sbyte)value;
            case 16: return (uint)(short)value;
            default:
                ThrowInvalid(ref ctx, remaining, pc, "BPF_MOV uses reserved fields");
                return 0;
        }
    }

    /// <summary>BPF_END to big-endian, and cpu v4's unconditional bswap: the simulated machine is little-endian.</summary>
    internal static ulong ByteSwap(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong value)
    {
        switch (insn.Imm)
        {
            case 16: return BinaryPrimitives.ReverseEndianness((ushort)value);
            case 32: return BinaryPrimitives.ReverseEndianness((uint)value);
            case 64: return BinaryPrimitives.ReverseEndianness(value);
            default:
                ThrowInvalid(ref ctx, remaining, pc, "BPF_END uses reserved fields");
                return 0;
        }
    }

    /// <summary>BPF_END to little-endian on a little-endian machine: only the truncation to the width remains.</summary>
    internal static ulong ToLittleEndian(ref RunContext ctx, long remaining, int pc, Instruction insn, ulong value)
    {
        switch (insn.Imm)
        {
            case 16: return (ushort)value;
            case 32: return (uint)value;
            case 64: return value;
            default:
                ThrowInvalid(ref ctx, remaining, pc, "BPF_END uses reserved fields");
                return 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Read(ref RunContext ctx, long remaining, int pc, int reg, ulong address, int size)
    {
        ref byte p = ref ctx.TryResolve(address, size, MemoryAccess.Read);
        if (Unsafe.IsNullRef(ref p))
        {
            return ReadSlow(ref ctx, remaining, pc, reg, address, size);
        }
        return LoadSized(ref p, size);
    }

    /// <summary>A load the fast path refused: a packet program's xdp_md field (a rewritten context load), or a fault.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadSlow(ref RunContext ctx, long remaining, int pc, int reg, ulong address, int size)
    {
        if (ctx.TryLoadPacketContext(address, size, out ulong value))
        {
            return value;
        }
        ThrowMemory(ref ctx, remaining, pc, reg, address, size, MemoryAccess.Read);
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Write(ref RunContext ctx, long remaining, int pc, int reg, ulong address, int size, ulong value)
    {
        ref byte p = ref ctx.TryResolve(address, size, MemoryAccess.Write);
        if (Unsafe.IsNullRef(ref p))
        {
            ThrowMemory(ref ctx, remaining, pc, reg, address, size, MemoryAccess.Write);
        }
        StoreSized(ref p, size, value);
    }

    internal static void Atomic64(ref RunContext ctx, long remaining, int pc, Instruction insn, ref ulong reg, ulong address)
    {
        ref byte p = ref ctx.TryResolve(address, 8, MemoryAccess.ReadWrite);
        if (Unsafe.IsNullRef(ref p))
        {
            ThrowMemory(ref ctx, remaining, pc, insn.Dst, address, 8, MemoryAccess.ReadWrite);
        }
        ref ulong src = ref Unsafe.Add(ref reg, insn.Src);
        ulong old = LoadSized(ref p, 8);
        switch (insn.Imm)
        {
            case OpCode.Add: StoreSized(ref p, 8, old + src); break;
            case OpCode.Or: StoreSized(ref p, 8, old | src); break;
            case OpCode.And: StoreSized(ref p, 8, old & src); break;
            case OpCode.Xor: StoreSized(ref p, 8, old ^ src); break;
            case OpCode.Add | OpCode.Fetch: StoreSized(ref p, 8, old + src); src = old; break;
            case OpCode.Or | OpCode.Fetch: StoreSized(ref p, 8, old | src); src = old; break;
            case OpCode.And | OpCode.Fetch: StoreSized(ref p, 8, old & src); src = old; break;
            case OpCode.Xor | OpCode.Fetch: StoreSized(ref p, 8, old ^ src); src = old; break;
            case OpCode.Xchg: StoreSized(ref p, 8, src); src = old; break;
            case OpCode.Cmpxchg:
                if (old == reg)
                {
                    StoreSized(ref p, 8, src);
                }
                reg = old;
                break;
            default:
                ThrowInvalid(ref ctx, remaining, pc, $"BPF_ATOMIC uses invalid atomic opcode {insn.Imm:x2}");
                break;
        }
    }

    /// <summary>The 32-bit atomics: memory and operands are the low halves; fetched values are zero-extended.</summary>
    internal static void Atomic32(ref RunContext ctx, long remaining, int pc, Instruction insn, ref ulong reg, ulong address)
    {
        ref byte p = ref ctx.TryResolve(address, 4, MemoryAccess.ReadWrite);
        if (Unsafe.IsNullRef(ref p))
        {
            ThrowMemory(ref ctx, remaining, pc, insn.Dst, address, 4, MemoryAccess.ReadWrite);
        }
        ref ulong src = ref Unsafe.Add(ref reg, insn.Src);
        uint old = (uint)LoadSized(ref p, 4);
        uint operand = (uint)src;
        switch (insn.Imm)
        {
            case OpCode.Add: StoreSized(ref p, 4, old + operand); break;
            case OpCode.Or: StoreSized(ref p, 4, old | operand); break;
            case OpCode.And: StoreSized(ref p, 4, old & operand); break;
            case OpCode.Xor: StoreSized(ref p, 4, old ^ operand); break;
            case OpCode.Add | OpCode.Fetch: StoreSized(ref p, 4, old + operand); src = old; break;
            case OpCode.Or | OpCode.Fetch: StoreSized(ref p, 4, old | operand); src = old; break;
            case OpCode.And | OpCode.Fetch: StoreSized(ref p, 4, old & operand); src = old; break;
            case OpCode.Xor | OpCode.Fetch: StoreSized(ref p, 4, old ^ operand); src = old; break;
            case OpCode.Xchg: StoreSized(ref p, 4, operand); src = old; break;
            case OpCode.Cmpxchg:
                if (old == (uint)reg)
                {
                    StoreSized(ref p, 4, operand);
                }
                reg = old;
                break;
            default:
                ThrowInvalid(ref ctx, remaining, pc, $"BPF_ATOMIC uses invalid atomic opcode {insn.Imm:x2}");
                break;
        }
    }

    private static ulong CallFunction(ref RunContext ctx, long remaining, int pc, FunctionTable? table, int id, ref ulong reg,
        bool kfunc)
        => CallFunction(ref ctx, remaining, pc, table, id, kfunc, Unsafe.Add(ref reg, 1), Unsafe.Add(ref reg, 2),
            Unsafe.Add(ref reg, 3), Unsafe.Add(ref reg, 4), Unsafe.Add(ref reg, 5));

    /// <summary>A helper or kfunc call with R1–R5 as values (the JIT keeps its registers in locals, not a file).</summary>
    internal static ulong CallFunction(ref RunContext ctx, long remaining, int pc, FunctionTable? table, int id, bool kfunc,
        ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (table is null || !table.TryGet(id, out var function))
        {
            ThrowFault(ref ctx, remaining, FaultKind.UnknownFunction, pc, kfunc
                ? $"kernel function #{id} is not in the kfunc table"
                : $"invalid func {HelperNames.TryGetName(id) ?? "unknown"}#{id}");
            return 0;
        }
        ctx.ProgramCounter = pc;
        ctx.InstructionsExecuted = ctx.InstructionBudget - remaining;
        return function(ref ctx, r1, r2, r3, r4, r5);
    }

    /// <summary>Loads 1, 2, 4 or 8 bytes, little-endian (bpfel), zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong LoadSized(ref byte p, int size)
    {
        ulong value = size switch
        {
            1 => p,
            2 => Unsafe.ReadUnaligned<ushort>(ref p),
            4 => Unsafe.ReadUnaligned<uint>(ref p),
            _ => Unsafe.ReadUnaligned<ulong>(ref p),
        };
        if (!BitConverter.IsLittleEndian && size > 1)
        {
            value = BinaryPrimitives.ReverseEndianness(value) >> (64 - 8 * size);
        }
        return value;
    }

    /// <summary>Stores the low 1, 2, 4 or 8 bytes of a value, little-endian.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreSized(ref byte p, int size, ulong value)
    {
        if (!BitConverter.IsLittleEndian)
        {
            value = BinaryPrimitives.ReverseEndianness(value) >> (64 - 8 * size);
        }
        switch (size)
        {
            case 1: p = (byte)value; break;
            case 2: Unsafe.WriteUnaligned(ref p, (ushort)value); break;
            case 4: Unsafe.WriteUnaligned(ref p, (uint)value); break;
            default: Unsafe.WriteUnaligned(ref p, value); break;
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowMemory(ref RunContext ctx, long remaining, int pc, int reg, ulong address, int size, MemoryAccess access)
    {
        ctx.InstructionsExecuted = ctx.InstructionBudget - remaining;
        throw ctx.MemoryFault(pc, reg, address, size, access);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowFault(ref RunContext ctx, long remaining, FaultKind kind, int pc, string message)
    {
        ctx.InstructionsExecuted = ctx.InstructionBudget - remaining;
        throw new BpfFault(kind, pc, message);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowInvalid(ref RunContext ctx, long remaining, int pc, string message)
        => ThrowFault(ref ctx, remaining, FaultKind.InvalidInstruction, pc, message);

    // The messages are made in these helpers, not in the loop: an interpolated string there puts its handler among
    // the loop's locals (zeroed by every call's prologue) and costs the loop registers.

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowUnknownOpcode(ref RunContext ctx, long remaining, int pc, byte opcode)
        => ThrowInvalid(ref ctx, remaining, pc, $"unknown opcode {opcode:x2}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowInvalidCallSource(ref RunContext ctx, long remaining, int pc, int src)
        => ThrowInvalid(ref ctx, remaining, pc, $"invalid call insn src_reg {src}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowCallStackTooDeep(ref RunContext ctx, long remaining, int pc, int frames)
        => ThrowFault(ref ctx, remaining, FaultKind.CallStackTooDeep, pc, $"the call stack of {frames} frames is too deep");

    /// <remarks>Takes the program as its first instruction and length, so the loop need not keep a span in memory.</remarks>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowJumpOutOfRange(ref RunContext ctx, long remaining, ref Instruction code, int length, int to)
    {
        var program = MemoryMarshal.CreateReadOnlySpan(ref code, length);
        // The loop does not keep the previous pc (a register it cannot spare): find the instruction that leads here.
        int from = JumpSource(program, to);
        ThrowFault(ref ctx, remaining, FaultKind.JumpOutOfRange, from, to == from + 1 && to == program.Length
            ? "last insn is not an exit or jmp"
            : $"jump out of range from insn {from} to {to}");
    }

    /// <summary>A jump or fall-through to <paramref name="to"/>, outside the program: the fault the loop raises there.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowJumpOutOfRange(ref RunContext ctx, long remaining, Instruction[] program, int to)
        => ThrowJumpOutOfRange(ref ctx, remaining, ref MemoryMarshal.GetArrayDataReference(program), program.Length, to);

    /// <summary>The first instruction whose jump, call or fall-through reaches <paramref name="target"/>.</summary>
    private static int JumpSource(ReadOnlySpan<Instruction> program, int target)
    {
        for (int i = 0; i < program.Length; i++)
        {
            var insn = program[i];
            int cls = insn.Class;
            if (cls is OpCode.Jmp or OpCode.Jmp32)
            {
                int op = OpCode.OpOf(insn.Opcode);
                int offset = insn.Opcode == (OpCode.Jmp32 | OpCode.Ja) || (op == OpCode.Call && insn.Src == Pseudo.Call) ? insn.Imm : insn.Offset;
                if (op != OpCode.Exit && (op != OpCode.Call || insn.Src == Pseudo.Call) && i + 1 + offset == target)
                {
                    return i;
                }
            }
        }
        return target - 1;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowBudget(ref RunContext ctx, int pc)
        => ThrowFault(ref ctx, 0, FaultKind.InstructionBudgetExhausted, pc,
            $"BPF program is too large. Processed {ctx.InstructionBudget + 1} insn");
}
