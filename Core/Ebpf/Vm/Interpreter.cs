using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// Runs BPF instructions exactly as the kernel defines them (kernel/bpf/core.c ___bpf_prog_run, after the
/// verifier's fixups in do_misc_fixups; Documentation/bpf/standardization/instruction-set.rst), up to cpu v4. The
/// reference a JIT is checked against: one switch over the opcode byte, registers in a stack-allocated file, every
/// memory access checked against its region.
/// </summary>
/// <remarks>
/// <para>What the kernel leaves to its verifier, the interpreter checks as it goes: memory bounds and rights, jump
/// targets, call depth, and an instruction budget in place of the proof that the program terminates. Register
/// numbers above 10 and writes to R10 are not checked (the verifier rejects them; here they touch only the
/// interpreter's own register file).</para>
/// <para>Division follows the verifier's rewrite: x / 0 = 0; x % 0 = x (ALU32: x's low half, zero-extended);
/// signed x / -1 = -x and x % -1 = 0, so INT_MIN / -1 wraps to INT_MIN instead of trapping.</para>
/// <para>After a helper or kfunc call R1–R5 keep the argument values, as in ___bpf_prog_run (the verifier makes
/// them unreadable, so programs cannot tell). A bpf-to-bpf call runs the callee on its own frame, as
/// JMP_CALL_ARGS does: the callee starts with the caller's R1–R9 and a new R10, and on exit the caller gets its
/// R1–R10 back with the callee's R0.</para>
/// </remarks>
public static partial class Interpreter
{
    private const int SavedRegisters = 10;

    /// <summary>
    /// Runs a program from an instruction until it exits from that frame.
    /// </summary>
    /// <param name="program">The instructions, every pseudo source already resolved by the loader: the 64-bit
    /// immediate of an ldimm64 is the value the register receives, whatever its src says.</param>
    /// <param name="entry">The index of the first instruction to run.</param>
    /// <param name="context">The address space, function tables, budget and counters of this call.</param>
    /// <param name="args">R1, R2, ... (at most five); the others start at 0.</param>
    /// <returns>R0 at the exit.</returns>
    /// <exception cref="BpfFault">The program faulted; <see cref="RunContext.InstructionsExecuted"/> counts up to it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">entry is not an instruction, or more than five arguments.</exception>
    /// <exception cref="InvalidOperationException">The address space is already running a program.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static ulong Run(scoped ReadOnlySpan<Instruction> program, int entry, ref RunContext context, scoped ReadOnlySpan<ulong> args)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(entry);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(entry, program.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(args.Length, 5, nameof(args));
        if (!BitConverter.IsLittleEndian)
        {
            // Instructions are decoded as little-endian words; a big-endian host would need byte swaps throughout.
            throw new PlatformNotSupportedException("the BPF interpreter runs on little-endian hosts");
        }
        var memory = context.Memory;
        memory.Enter();
        try
        {
            return Execute(ref MemoryMarshal.GetReference(program), program.Length, entry, ref context, args);
        }
        catch (BpfFault fault)
        {
            fault.InstructionsExecuted = context.InstructionsExecuted;
            throw;
        }
        finally
        {
            memory.Leave();
        }
    }

    // The program comes as its first instruction and length rather than a span: a span argument is kept in memory,
    // and copying it there cost every call a stalled load (two 8-byte stores read back as one 16-byte load).
    private static ulong Execute(ref Instruction code, int length, int entry, ref RunContext ctx, scoped ReadOnlySpan<ulong> args)
        => Execute(ref code, length, entry, ref ctx, args, 1, 0, fresh: true);

    /// <summary>
    /// Runs on from <paramref name="pc"/> at depth 0 with all sixteen registers given and <paramref name="remaining"/>
    /// instructions left of the budget: the JIT's way out of a block whose instructions would run past the budget, so
    /// that the instructions before the budget's end, and their faults, are this loop's.
    /// </summary>
    /// <remarks>Such a block ends at its first jump, subprogram call or exit, and the budget runs out before that one
    /// runs, so this never returns, calls or exits a frame: it faults (the budget, or an earlier fault). A return would
    /// mean the JIT cut a block wrongly, and is refused rather than taken as the program's result.</remarks>
    internal static ulong Resume(Instruction[] program, int pc, ref RunContext ctx, ref ulong registers, long remaining)
    {
        Execute(ref MemoryMarshal.GetArrayDataReference(program), program.Length, pc, ref ctx,
            MemoryMarshal.CreateReadOnlySpan(ref registers, 16), 0, remaining, fresh: false);
        throw new InvalidOperationException($"a compiled block from instruction {pc} ran to its end on a budget that could not cover it");
    }

    [SkipLocalsInit]
    private static ulong Execute(ref Instruction code, int length, int entry, ref RunContext ctx, scoped ReadOnlySpan<ulong> initial,
        int firstRegister, long resumeWith, bool fresh)
    {
        // 16 registers so that any 4-bit register number stays inside the file.
        Span<ulong> file = stackalloc ulong[16];
        file.Clear();
        initial.CopyTo(file[firstRegister..]);
        ref ulong reg = ref MemoryMarshal.GetReference(file);
        Span<ulong> saved = stackalloc ulong[AddressSpace.MaxCallFrames * SavedRegisters];
        Span<int> returnTo = stackalloc int[AddressSpace.MaxCallFrames];

        // One countdown instead of a count and a limit: the loop keeps one register fewer.
        long remaining = resumeWith;
        if (fresh)
        {
            ctx.Memory.ClearFrame(0);
            Unsafe.Add(ref reg, 10) = AddressSpace.FramePointer(0);
            ctx.MaxFrames = 1;
            // The length is read from the context on every instruction (an L1 load off a register the loop has anyway)
            // rather than kept in a register: with it there, the countdown below found no callee-saved register left
            // and went through the stack on every instruction, a store and a reload on the loop's critical path.
            ctx.ProgramLength = length;
            remaining = ctx.InstructionBudget;
        }
        int depth = 0;
        int pc = entry;

        while (true)
        {
            if ((uint)pc >= (uint)ctx.ProgramLength)
            {
                ThrowJumpOutOfRange(ref ctx, remaining, ref code, ctx.ProgramLength, pc);
            }
            if (--remaining < 0)
            {
                ThrowBudget(ref ctx, pc);
            }
            // The whole instruction in one register, fields taken out where a case needs them: decoding
            // everything up front kept five values alive across the switch and spilled them.
            ulong w = Unsafe.As<Instruction, ulong>(ref Unsafe.Add(ref code, pc++));

            switch ((byte)w)
            {
                // ALU64: 64-bit operands; Imm(w) sign-extended to 64 bits.
                case OpCode.Alu64 | OpCode.Add | OpCode.K: Dst(ref reg, w) += Imm(w); break;
                case OpCode.Alu64 | OpCode.Add | OpCode.X: Dst(ref reg, w) += Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Sub | OpCode.K: Dst(ref reg, w) -= Imm(w); break;
                case OpCode.Alu64 | OpCode.Sub | OpCode.X: Dst(ref reg, w) -= Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Mul | OpCode.K: Dst(ref reg, w) *= Imm(w); break;
                case OpCode.Alu64 | OpCode.Mul | OpCode.X: Dst(ref reg, w) *= Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Div | OpCode.K: Dst(ref reg, w) = Div64(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w), Imm(w)); break;
                case OpCode.Alu64 | OpCode.Div | OpCode.X: Dst(ref reg, w) = Div64(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w), Src(ref reg, w)); break;
                case OpCode.Alu64 | OpCode.Or | OpCode.K: Dst(ref reg, w) |= Imm(w); break;
                case OpCode.Alu64 | OpCode.Or | OpCode.X: Dst(ref reg, w) |= Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.And | OpCode.K: Dst(ref reg, w) &= Imm(w); break;
                case OpCode.Alu64 | OpCode.And | OpCode.X: Dst(ref reg, w) &= Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Lsh | OpCode.K: Dst(ref reg, w) <<= (int)(Imm(w) & 63); break;
                case OpCode.Alu64 | OpCode.Lsh | OpCode.X: Dst(ref reg, w) <<= (int)(Src(ref reg, w) & 63); break;
                case OpCode.Alu64 | OpCode.Rsh | OpCode.K: Dst(ref reg, w) >>= (int)(Imm(w) & 63); break;
                case OpCode.Alu64 | OpCode.Rsh | OpCode.X: Dst(ref reg, w) >>= (int)(Src(ref reg, w) & 63); break;
                case OpCode.Alu64 | OpCode.Neg: Dst(ref reg, w) = 0 - Dst(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Mod | OpCode.K: Dst(ref reg, w) = Mod64(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w), Imm(w)); break;
                case OpCode.Alu64 | OpCode.Mod | OpCode.X: Dst(ref reg, w) = Mod64(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w), Src(ref reg, w)); break;
                case OpCode.Alu64 | OpCode.Xor | OpCode.K: Dst(ref reg, w) ^= Imm(w); break;
                case OpCode.Alu64 | OpCode.Xor | OpCode.X: Dst(ref reg, w) ^= Src(ref reg, w); break;
                case OpCode.Alu64 | OpCode.Mov | OpCode.K: Dst(ref reg, w) = Imm(w); break;
                case OpCode.Alu64 | OpCode.Mov | OpCode.X: Dst(ref reg, w) = Off(w) == 0 ? Src(ref reg, w) : MovSx64(ref ctx, remaining, pc - 1, Decode(w), Src(ref reg, w)); break;
                case OpCode.Alu64 | OpCode.Arsh | OpCode.K: Dst(ref reg, w) = (ulong)((long)Dst(ref reg, w) >> (int)(Imm(w) & 63)); break;
                case OpCode.Alu64 | OpCode.Arsh | OpCode.X: Dst(ref reg, w) = (ulong)((long)Dst(ref reg, w) >> (int)(Src(ref reg, w) & 63)); break;
                case OpCode.Alu64 | OpCode.End | OpCode.ToLe: Dst(ref reg, w) = ByteSwap(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w)); break;

                // ALU: 32-bit operands, the result zero-extended into the 64-bit register.
                case OpCode.Alu | OpCode.Add | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) + Imm32(w); break;
                case OpCode.Alu | OpCode.Add | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) + (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.Sub | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) - Imm32(w); break;
                case OpCode.Alu | OpCode.Sub | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) - (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.Mul | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) * Imm32(w); break;
                case OpCode.Alu | OpCode.Mul | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) * (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.Div | OpCode.K: Dst(ref reg, w) = Div32(ref ctx, remaining, pc - 1, Decode(w), (uint)Dst(ref reg, w), Imm32(w)); break;
                case OpCode.Alu | OpCode.Div | OpCode.X: Dst(ref reg, w) = Div32(ref ctx, remaining, pc - 1, Decode(w), (uint)Dst(ref reg, w), (uint)Src(ref reg, w)); break;
                case OpCode.Alu | OpCode.Or | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) | Imm32(w); break;
                case OpCode.Alu | OpCode.Or | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) | (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.And | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) & Imm32(w); break;
                case OpCode.Alu | OpCode.And | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) & (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.Lsh | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) << (int)(Imm32(w) & 31); break;
                case OpCode.Alu | OpCode.Lsh | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) << (int)(Src(ref reg, w) & 31); break;
                case OpCode.Alu | OpCode.Rsh | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) >> (int)(Imm32(w) & 31); break;
                case OpCode.Alu | OpCode.Rsh | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) >> (int)(Src(ref reg, w) & 31); break;
                case OpCode.Alu | OpCode.Neg: Dst(ref reg, w) = 0u - (uint)Dst(ref reg, w); break;
                case OpCode.Alu | OpCode.Mod | OpCode.K: Dst(ref reg, w) = Mod32(ref ctx, remaining, pc - 1, Decode(w), (uint)Dst(ref reg, w), Imm32(w)); break;
                case OpCode.Alu | OpCode.Mod | OpCode.X: Dst(ref reg, w) = Mod32(ref ctx, remaining, pc - 1, Decode(w), (uint)Dst(ref reg, w), (uint)Src(ref reg, w)); break;
                case OpCode.Alu | OpCode.Xor | OpCode.K: Dst(ref reg, w) = (uint)Dst(ref reg, w) ^ Imm32(w); break;
                case OpCode.Alu | OpCode.Xor | OpCode.X: Dst(ref reg, w) = (uint)Dst(ref reg, w) ^ (uint)Src(ref reg, w); break;
                case OpCode.Alu | OpCode.Mov | OpCode.K: Dst(ref reg, w) = Imm32(w); break;
                case OpCode.Alu | OpCode.Mov | OpCode.X: Dst(ref reg, w) = Off(w) == 0 ? (uint)Src(ref reg, w) : MovSx32(ref ctx, remaining, pc - 1, Decode(w), Src(ref reg, w)); break;
                case OpCode.Alu | OpCode.Arsh | OpCode.K: Dst(ref reg, w) = (uint)((int)Dst(ref reg, w) >> (int)(Imm32(w) & 31)); break;
                case OpCode.Alu | OpCode.Arsh | OpCode.X: Dst(ref reg, w) = (uint)((int)Dst(ref reg, w) >> (int)(Src(ref reg, w) & 31)); break;
                case OpCode.Alu | OpCode.End | OpCode.ToLe: Dst(ref reg, w) = ToLittleEndian(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w)); break;
                case OpCode.Alu | OpCode.End | OpCode.ToBe: Dst(ref reg, w) = ByteSwap(ref ctx, remaining, pc - 1, Decode(w), Dst(ref reg, w)); break;

                // JMP: 64-bit comparisons, Imm(w) sign-extended; the offset counts from the next instruction.
                case OpCode.Jmp | OpCode.Ja: pc += Off(w); break;
                case OpCode.Jmp | OpCode.Jeq | OpCode.K: if (Dst(ref reg, w) == Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jeq | OpCode.X: if (Dst(ref reg, w) == Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jne | OpCode.K: if (Dst(ref reg, w) != Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jne | OpCode.X: if (Dst(ref reg, w) != Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jgt | OpCode.K: if (Dst(ref reg, w) > Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jgt | OpCode.X: if (Dst(ref reg, w) > Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jge | OpCode.K: if (Dst(ref reg, w) >= Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jge | OpCode.X: if (Dst(ref reg, w) >= Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jlt | OpCode.K: if (Dst(ref reg, w) < Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jlt | OpCode.X: if (Dst(ref reg, w) < Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jle | OpCode.K: if (Dst(ref reg, w) <= Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jle | OpCode.X: if (Dst(ref reg, w) <= Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jset | OpCode.K: if ((Dst(ref reg, w) & Imm(w)) != 0) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jset | OpCode.X: if ((Dst(ref reg, w) & Src(ref reg, w)) != 0) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsgt | OpCode.K: if ((long)Dst(ref reg, w) > (long)Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsgt | OpCode.X: if ((long)Dst(ref reg, w) > (long)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsge | OpCode.K: if ((long)Dst(ref reg, w) >= (long)Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsge | OpCode.X: if ((long)Dst(ref reg, w) >= (long)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jslt | OpCode.K: if ((long)Dst(ref reg, w) < (long)Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jslt | OpCode.X: if ((long)Dst(ref reg, w) < (long)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsle | OpCode.K: if ((long)Dst(ref reg, w) <= (long)Imm(w)) { pc += Off(w); } break;
                case OpCode.Jmp | OpCode.Jsle | OpCode.X: if ((long)Dst(ref reg, w) <= (long)Src(ref reg, w)) { pc += Off(w); } break;

                // JMP32: the low halves compared; JA here is gotol, whose offset is the 32-bit Imm(w).
                case OpCode.Jmp32 | OpCode.Ja: pc += (int)(w >> 32); break;
                case OpCode.Jmp32 | OpCode.Jeq | OpCode.K: if ((uint)Dst(ref reg, w) == Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jeq | OpCode.X: if ((uint)Dst(ref reg, w) == (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jne | OpCode.K: if ((uint)Dst(ref reg, w) != Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jne | OpCode.X: if ((uint)Dst(ref reg, w) != (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jgt | OpCode.K: if ((uint)Dst(ref reg, w) > Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jgt | OpCode.X: if ((uint)Dst(ref reg, w) > (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jge | OpCode.K: if ((uint)Dst(ref reg, w) >= Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jge | OpCode.X: if ((uint)Dst(ref reg, w) >= (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jlt | OpCode.K: if ((uint)Dst(ref reg, w) < Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jlt | OpCode.X: if ((uint)Dst(ref reg, w) < (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jle | OpCode.K: if ((uint)Dst(ref reg, w) <= Imm32(w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jle | OpCode.X: if ((uint)Dst(ref reg, w) <= (uint)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jset | OpCode.K: if (((uint)Dst(ref reg, w) & Imm32(w)) != 0) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jset | OpCode.X: if (((uint)Dst(ref reg, w) & (uint)Src(ref reg, w)) != 0) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsgt | OpCode.K: if ((int)Dst(ref reg, w) > (int)(w >> 32)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsgt | OpCode.X: if ((int)Dst(ref reg, w) > (int)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsge | OpCode.K: if ((int)Dst(ref reg, w) >= (int)(w >> 32)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsge | OpCode.X: if ((int)Dst(ref reg, w) >= (int)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jslt | OpCode.K: if ((int)Dst(ref reg, w) < (int)(w >> 32)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jslt | OpCode.X: if ((int)Dst(ref reg, w) < (int)Src(ref reg, w)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsle | OpCode.K: if ((int)Dst(ref reg, w) <= (int)(w >> 32)) { pc += Off(w); } break;
                case OpCode.Jmp32 | OpCode.Jsle | OpCode.X: if ((int)Dst(ref reg, w) <= (int)Src(ref reg, w)) { pc += Off(w); } break;

                // LDX: zero-extending loads; MEMSX: sign-extending loads (cpu v4).
                case OpCode.Ldx | OpCode.Mem | OpCode.B: Dst(ref reg, w) = Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 1); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.H: Dst(ref reg, w) = Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 2); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.W: Dst(ref reg, w) = Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 4); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.DW: Dst(ref reg, w) = Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 8); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.B: Dst(ref reg, w) = (ulong)(sbyte)Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 1); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.H: Dst(ref reg, w) = (ulong)(short)Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 2); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.W: Dst(ref reg, w) = (ulong)(int)Read(ref ctx, remaining, pc - 1, SrcIndex(w), Src(ref reg, w) + (ulong)(long)Off(w), 4); break;

                // ST: store the immediate; STX: store a register. The address is dst + offset.
                case OpCode.St | OpCode.Mem | OpCode.B: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 1, Imm(w)); break;
                case OpCode.St | OpCode.Mem | OpCode.H: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 2, Imm(w)); break;
                case OpCode.St | OpCode.Mem | OpCode.W: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 4, Imm(w)); break;
                case OpCode.St | OpCode.Mem | OpCode.DW: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 8, Imm(w)); break;
                case OpCode.Stx | OpCode.Mem | OpCode.B: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 1, Src(ref reg, w)); break;
                case OpCode.Stx | OpCode.Mem | OpCode.H: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 2, Src(ref reg, w)); break;
                case OpCode.Stx | OpCode.Mem | OpCode.W: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 4, Src(ref reg, w)); break;
                case OpCode.Stx | OpCode.Mem | OpCode.DW: Write(ref ctx, remaining, pc - 1, DstIndex(w), Dst(ref reg, w) + (ulong)(long)Off(w), 8, Src(ref reg, w)); break;
                case OpCode.Stx | OpCode.Atomic | OpCode.W:
                    Atomic32(ref ctx, remaining, pc - 1, Decode(w), ref reg, Dst(ref reg, w) + (ulong)(long)Off(w));
                    break;
                case OpCode.Stx | OpCode.Atomic | OpCode.DW:
                    Atomic64(ref ctx, remaining, pc - 1, Decode(w), ref reg, Dst(ref reg, w) + (ulong)(long)Off(w));
                    break;

                case OpCode.LdImm64:
                    if (pc >= ctx.ProgramLength)
                    {
                        ThrowInvalid(ref ctx, remaining, pc - 1, "invalid bpf_ld_imm64 insn");
                    }
                    Dst(ref reg, w) = Imm32(w) | ((ulong)(uint)Unsafe.Add(ref code, pc).Imm << 32);
                    pc++;
                    break;

                case OpCode.Jmp | OpCode.Call:
                    switch (SrcIndex(w))
                    {
                        case 0:
                            reg = CallFunction(ref ctx, remaining, pc - 1, ctx.Helpers, (int)(w >> 32), ref reg, kfunc: false);
                            break;
                        case Pseudo.KfuncCall:
                            reg = CallFunction(ref ctx, remaining, pc - 1, ctx.Kfuncs, (int)(w >> 32), ref reg, kfunc: true);
                            break;
                        case Pseudo.Call:
                            if (depth + 1 >= AddressSpace.MaxCallFrames)
                            {
                                ThrowCallStackTooDeep(ref ctx, remaining, pc - 1, depth + 2);
                            }
                            file.Slice(1, SavedRegisters).CopyTo(saved.Slice(depth * SavedRegisters, SavedRegisters));
                            returnTo[depth] = pc;
                            depth++;
                            if (depth + 1 > ctx.MaxFrames)
                            {
                                ctx.MaxFrames = depth + 1;
                            }
                            ctx.Memory.ClearFrame(depth);
                            Unsafe.Add(ref reg, 10) = AddressSpace.FramePointer(depth);
                            pc += (int)(w >> 32);
                            break;
                        default:
                            ThrowInvalidCallSource(ref ctx, remaining, pc - 1, SrcIndex(w));
                            break;
                    }
                    break;

                case OpCode.Jmp | OpCode.Exit:
                    if (depth == 0)
                    {
                        ctx.InstructionsExecuted = ctx.InstructionBudget - remaining;
                        return reg;
                    }
                    depth--;
                    saved.Slice(depth * SavedRegisters, SavedRegisters).CopyTo(file.Slice(1, SavedRegisters));
                    pc = returnTo[depth];
                    break;

                case OpCode.Ld | OpCode.Abs | OpCode.W:
                case OpCode.Ld | OpCode.Abs | OpCode.H:
                case OpCode.Ld | OpCode.Abs | OpCode.B:
                case OpCode.Ld | OpCode.Ind | OpCode.W:
                case OpCode.Ld | OpCode.Ind | OpCode.H:
                case OpCode.Ld | OpCode.Ind | OpCode.B:
                    ThrowInvalid(ref ctx, remaining, pc - 1, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
                    break;

                default:
                    ThrowUnknownOpcode(ref ctx, remaining, pc - 1, (byte)w);
                    break;
            }
        }
    }
}
