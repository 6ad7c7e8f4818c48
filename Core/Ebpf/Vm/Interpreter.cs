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
    public static ulong Run(scoped ReadOnlySpan<Instruction> program, int entry, ref RunContext context, scoped ReadOnlySpan<ulong> args)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(entry);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(entry, program.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(args.Length, 5, nameof(args));
        var memory = context.Memory;
        memory.Enter();
        try
        {
            return Execute(program, entry, ref context, args);
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

    [SkipLocalsInit]
    private static ulong Execute(scoped ReadOnlySpan<Instruction> program, int entry, ref RunContext ctx, scoped ReadOnlySpan<ulong> args)
    {
        // 16 registers so that any 4-bit register number stays inside the file.
        Span<ulong> file = stackalloc ulong[16];
        file.Clear();
        args.CopyTo(file[1..]);
        ref ulong reg = ref MemoryMarshal.GetReference(file);
        Span<ulong> saved = stackalloc ulong[AddressSpace.MaxCallFrames * SavedRegisters];
        Span<int> returnTo = stackalloc int[AddressSpace.MaxCallFrames];

        ctx.Memory.ClearFrame(0);
        Unsafe.Add(ref reg, 10) = AddressSpace.FramePointer(0);
        ctx.MaxFrames = 1;
        ref Instruction code = ref MemoryMarshal.GetReference(program);
        int length = program.Length;
        long budget = ctx.InstructionBudget;
        long executed = 0;
        int depth = 0;
        int pc = entry;
        int current = entry;

        while (true)
        {
            if ((uint)pc >= (uint)length)
            {
                ThrowJumpOutOfRange(ref ctx, executed, current, pc);
            }
            if (executed == budget)
            {
                ThrowBudget(ref ctx, executed, pc);
            }
            executed++;
            current = pc++;
            Instruction insn = Unsafe.Add(ref code, current);
            int dst = insn.Registers & 0xf;
            int src = insn.Registers >> 4;
            ref ulong d = ref Unsafe.Add(ref reg, dst);
            ulong s = Unsafe.Add(ref reg, src);
            ulong imm = (ulong)(long)insn.Imm;
            uint imm32 = (uint)insn.Imm;

            switch (insn.Opcode)
            {
                // ALU64: 64-bit operands; imm sign-extended to 64 bits.
                case OpCode.Alu64 | OpCode.Add | OpCode.K: d += imm; break;
                case OpCode.Alu64 | OpCode.Add | OpCode.X: d += s; break;
                case OpCode.Alu64 | OpCode.Sub | OpCode.K: d -= imm; break;
                case OpCode.Alu64 | OpCode.Sub | OpCode.X: d -= s; break;
                case OpCode.Alu64 | OpCode.Mul | OpCode.K: d *= imm; break;
                case OpCode.Alu64 | OpCode.Mul | OpCode.X: d *= s; break;
                case OpCode.Alu64 | OpCode.Div | OpCode.K: d = Div64(ref ctx, executed, current, insn, d, imm); break;
                case OpCode.Alu64 | OpCode.Div | OpCode.X: d = Div64(ref ctx, executed, current, insn, d, s); break;
                case OpCode.Alu64 | OpCode.Or | OpCode.K: d |= imm; break;
                case OpCode.Alu64 | OpCode.Or | OpCode.X: d |= s; break;
                case OpCode.Alu64 | OpCode.And | OpCode.K: d &= imm; break;
                case OpCode.Alu64 | OpCode.And | OpCode.X: d &= s; break;
                case OpCode.Alu64 | OpCode.Lsh | OpCode.K: d <<= (int)(imm & 63); break;
                case OpCode.Alu64 | OpCode.Lsh | OpCode.X: d <<= (int)(s & 63); break;
                case OpCode.Alu64 | OpCode.Rsh | OpCode.K: d >>= (int)(imm & 63); break;
                case OpCode.Alu64 | OpCode.Rsh | OpCode.X: d >>= (int)(s & 63); break;
                case OpCode.Alu64 | OpCode.Neg: d = 0 - d; break;
                case OpCode.Alu64 | OpCode.Mod | OpCode.K: d = Mod64(ref ctx, executed, current, insn, d, imm); break;
                case OpCode.Alu64 | OpCode.Mod | OpCode.X: d = Mod64(ref ctx, executed, current, insn, d, s); break;
                case OpCode.Alu64 | OpCode.Xor | OpCode.K: d ^= imm; break;
                case OpCode.Alu64 | OpCode.Xor | OpCode.X: d ^= s; break;
                case OpCode.Alu64 | OpCode.Mov | OpCode.K: d = imm; break;
                case OpCode.Alu64 | OpCode.Mov | OpCode.X: d = insn.Offset == 0 ? s : MovSx64(ref ctx, executed, current, insn, s); break;
                case OpCode.Alu64 | OpCode.Arsh | OpCode.K: d = (ulong)((long)d >> (int)(imm & 63)); break;
                case OpCode.Alu64 | OpCode.Arsh | OpCode.X: d = (ulong)((long)d >> (int)(s & 63)); break;
                case OpCode.Alu64 | OpCode.End | OpCode.ToLe: d = ByteSwap(ref ctx, executed, current, insn, d); break;

                // ALU: 32-bit operands, the result zero-extended into the 64-bit register.
                case OpCode.Alu | OpCode.Add | OpCode.K: d = (uint)d + imm32; break;
                case OpCode.Alu | OpCode.Add | OpCode.X: d = (uint)d + (uint)s; break;
                case OpCode.Alu | OpCode.Sub | OpCode.K: d = (uint)d - imm32; break;
                case OpCode.Alu | OpCode.Sub | OpCode.X: d = (uint)d - (uint)s; break;
                case OpCode.Alu | OpCode.Mul | OpCode.K: d = (uint)d * imm32; break;
                case OpCode.Alu | OpCode.Mul | OpCode.X: d = (uint)d * (uint)s; break;
                case OpCode.Alu | OpCode.Div | OpCode.K: d = Div32(ref ctx, executed, current, insn, (uint)d, imm32); break;
                case OpCode.Alu | OpCode.Div | OpCode.X: d = Div32(ref ctx, executed, current, insn, (uint)d, (uint)s); break;
                case OpCode.Alu | OpCode.Or | OpCode.K: d = (uint)d | imm32; break;
                case OpCode.Alu | OpCode.Or | OpCode.X: d = (uint)d | (uint)s; break;
                case OpCode.Alu | OpCode.And | OpCode.K: d = (uint)d & imm32; break;
                case OpCode.Alu | OpCode.And | OpCode.X: d = (uint)d & (uint)s; break;
                case OpCode.Alu | OpCode.Lsh | OpCode.K: d = (uint)d << (int)(imm32 & 31); break;
                case OpCode.Alu | OpCode.Lsh | OpCode.X: d = (uint)d << (int)(s & 31); break;
                case OpCode.Alu | OpCode.Rsh | OpCode.K: d = (uint)d >> (int)(imm32 & 31); break;
                case OpCode.Alu | OpCode.Rsh | OpCode.X: d = (uint)d >> (int)(s & 31); break;
                case OpCode.Alu | OpCode.Neg: d = 0u - (uint)d; break;
                case OpCode.Alu | OpCode.Mod | OpCode.K: d = Mod32(ref ctx, executed, current, insn, (uint)d, imm32); break;
                case OpCode.Alu | OpCode.Mod | OpCode.X: d = Mod32(ref ctx, executed, current, insn, (uint)d, (uint)s); break;
                case OpCode.Alu | OpCode.Xor | OpCode.K: d = (uint)d ^ imm32; break;
                case OpCode.Alu | OpCode.Xor | OpCode.X: d = (uint)d ^ (uint)s; break;
                case OpCode.Alu | OpCode.Mov | OpCode.K: d = imm32; break;
                case OpCode.Alu | OpCode.Mov | OpCode.X: d = insn.Offset == 0 ? (uint)s : MovSx32(ref ctx, executed, current, insn, s); break;
                case OpCode.Alu | OpCode.Arsh | OpCode.K: d = (uint)((int)d >> (int)(imm32 & 31)); break;
                case OpCode.Alu | OpCode.Arsh | OpCode.X: d = (uint)((int)d >> (int)(s & 31)); break;
                case OpCode.Alu | OpCode.End | OpCode.ToLe: d = ToLittleEndian(ref ctx, executed, current, insn, d); break;
                case OpCode.Alu | OpCode.End | OpCode.ToBe: d = ByteSwap(ref ctx, executed, current, insn, d); break;

                // JMP: 64-bit comparisons, imm sign-extended; the offset counts from the next instruction.
                case OpCode.Jmp | OpCode.Ja: pc += insn.Offset; break;
                case OpCode.Jmp | OpCode.Jeq | OpCode.K: if (d == imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jeq | OpCode.X: if (d == s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jne | OpCode.K: if (d != imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jne | OpCode.X: if (d != s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jgt | OpCode.K: if (d > imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jgt | OpCode.X: if (d > s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jge | OpCode.K: if (d >= imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jge | OpCode.X: if (d >= s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jlt | OpCode.K: if (d < imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jlt | OpCode.X: if (d < s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jle | OpCode.K: if (d <= imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jle | OpCode.X: if (d <= s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jset | OpCode.K: if ((d & imm) != 0) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jset | OpCode.X: if ((d & s) != 0) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsgt | OpCode.K: if ((long)d > (long)imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsgt | OpCode.X: if ((long)d > (long)s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsge | OpCode.K: if ((long)d >= (long)imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsge | OpCode.X: if ((long)d >= (long)s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jslt | OpCode.K: if ((long)d < (long)imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jslt | OpCode.X: if ((long)d < (long)s) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsle | OpCode.K: if ((long)d <= (long)imm) { pc += insn.Offset; } break;
                case OpCode.Jmp | OpCode.Jsle | OpCode.X: if ((long)d <= (long)s) { pc += insn.Offset; } break;

                // JMP32: the low halves compared; JA here is gotol, whose offset is the 32-bit imm.
                case OpCode.Jmp32 | OpCode.Ja: pc += insn.Imm; break;
                case OpCode.Jmp32 | OpCode.Jeq | OpCode.K: if ((uint)d == imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jeq | OpCode.X: if ((uint)d == (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jne | OpCode.K: if ((uint)d != imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jne | OpCode.X: if ((uint)d != (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jgt | OpCode.K: if ((uint)d > imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jgt | OpCode.X: if ((uint)d > (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jge | OpCode.K: if ((uint)d >= imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jge | OpCode.X: if ((uint)d >= (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jlt | OpCode.K: if ((uint)d < imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jlt | OpCode.X: if ((uint)d < (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jle | OpCode.K: if ((uint)d <= imm32) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jle | OpCode.X: if ((uint)d <= (uint)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jset | OpCode.K: if (((uint)d & imm32) != 0) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jset | OpCode.X: if (((uint)d & (uint)s) != 0) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsgt | OpCode.K: if ((int)d > insn.Imm) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsgt | OpCode.X: if ((int)d > (int)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsge | OpCode.K: if ((int)d >= insn.Imm) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsge | OpCode.X: if ((int)d >= (int)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jslt | OpCode.K: if ((int)d < insn.Imm) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jslt | OpCode.X: if ((int)d < (int)s) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsle | OpCode.K: if ((int)d <= insn.Imm) { pc += insn.Offset; } break;
                case OpCode.Jmp32 | OpCode.Jsle | OpCode.X: if ((int)d <= (int)s) { pc += insn.Offset; } break;

                // LDX: zero-extending loads; MEMSX: sign-extending loads (cpu v4).
                case OpCode.Ldx | OpCode.Mem | OpCode.B: d = Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 1); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.H: d = Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 2); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.W: d = Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 4); break;
                case OpCode.Ldx | OpCode.Mem | OpCode.DW: d = Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 8); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.B: d = (ulong)(sbyte)Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 1); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.H: d = (ulong)(short)Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 2); break;
                case OpCode.Ldx | OpCode.MemSx | OpCode.W: d = (ulong)(int)Read(ref ctx, executed, current, src, s + (ulong)(long)insn.Offset, 4); break;

                // ST: store the immediate; STX: store a register. The address is dst + offset.
                case OpCode.St | OpCode.Mem | OpCode.B: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 1, imm); break;
                case OpCode.St | OpCode.Mem | OpCode.H: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 2, imm); break;
                case OpCode.St | OpCode.Mem | OpCode.W: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 4, imm); break;
                case OpCode.St | OpCode.Mem | OpCode.DW: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 8, imm); break;
                case OpCode.Stx | OpCode.Mem | OpCode.B: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 1, s); break;
                case OpCode.Stx | OpCode.Mem | OpCode.H: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 2, s); break;
                case OpCode.Stx | OpCode.Mem | OpCode.W: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 4, s); break;
                case OpCode.Stx | OpCode.Mem | OpCode.DW: Write(ref ctx, executed, current, dst, d + (ulong)(long)insn.Offset, 8, s); break;
                case OpCode.Stx | OpCode.Atomic | OpCode.W:
                    Atomic32(ref ctx, executed, current, insn, ref reg, d + (ulong)(long)insn.Offset);
                    break;
                case OpCode.Stx | OpCode.Atomic | OpCode.DW:
                    Atomic64(ref ctx, executed, current, insn, ref reg, d + (ulong)(long)insn.Offset);
                    break;

                case OpCode.LdImm64:
                    if (pc >= length)
                    {
                        ThrowInvalid(ref ctx, executed, current, "invalid bpf_ld_imm64 insn");
                    }
                    d = imm32 | ((ulong)(uint)Unsafe.Add(ref code, pc).Imm << 32);
                    pc++;
                    break;

                case OpCode.Jmp | OpCode.Call:
                    switch (insn.Src)
                    {
                        case 0:
                            reg = CallFunction(ref ctx, executed, current, ctx.Helpers, insn.Imm, ref reg, kfunc: false);
                            break;
                        case Pseudo.KfuncCall:
                            reg = CallFunction(ref ctx, executed, current, ctx.Kfuncs, insn.Imm, ref reg, kfunc: true);
                            break;
                        case Pseudo.Call:
                            if (depth + 1 >= AddressSpace.MaxCallFrames)
                            {
                                ThrowFault(ref ctx, executed, FaultKind.CallStackTooDeep, current,
                                    $"the call stack of {depth + 2} frames is too deep");
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
                            pc += insn.Imm;
                            break;
                        default:
                            ThrowInvalid(ref ctx, executed, current, $"invalid call insn src_reg {insn.Src}");
                            break;
                    }
                    break;

                case OpCode.Jmp | OpCode.Exit:
                    if (depth == 0)
                    {
                        ctx.InstructionsExecuted = executed;
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
                    ThrowInvalid(ref ctx, executed, current, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
                    break;

                default:
                    ThrowInvalid(ref ctx, executed, current, $"unknown opcode {insn.Opcode:x2}");
                    break;
            }
        }
    }
}
