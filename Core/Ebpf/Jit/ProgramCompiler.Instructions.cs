using System.Reflection;
using System.Reflection.Emit;
using BpfSim.Core.Ebpf.Asm;
using OpCode = BpfSim.Core.Ebpf.Asm.OpCode;
using IlOp = System.Reflection.Emit.OpCode;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Jit;

internal sealed partial class ProgramCompiler
{
    private static readonly Type ContextRef = typeof(RunContext).MakeByRefType();
    private static readonly MethodInfo Div64 = Method(typeof(Interpreter), nameof(Interpreter.Div64));
    private static readonly MethodInfo Mod64 = Method(typeof(Interpreter), nameof(Interpreter.Mod64));
    private static readonly MethodInfo Div32 = Method(typeof(Interpreter), nameof(Interpreter.Div32));
    private static readonly MethodInfo Mod32 = Method(typeof(Interpreter), nameof(Interpreter.Mod32));
    private static readonly MethodInfo MovSx64 = Method(typeof(Interpreter), nameof(Interpreter.MovSx64));
    private static readonly MethodInfo MovSx32 = Method(typeof(Interpreter), nameof(Interpreter.MovSx32));
    private static readonly MethodInfo ByteSwap = Method(typeof(Interpreter), nameof(Interpreter.ByteSwap));
    private static readonly MethodInfo ToLittleEndian = Method(typeof(Interpreter), nameof(Interpreter.ToLittleEndian));
    private static readonly MethodInfo Read = Method(typeof(Interpreter), nameof(Interpreter.Read));
    private static readonly MethodInfo Write = Method(typeof(Interpreter), nameof(Interpreter.Write));
    private static readonly MethodInfo Atomic64 = Method(typeof(Interpreter), nameof(Interpreter.Atomic64));
    private static readonly MethodInfo Atomic32 = Method(typeof(Interpreter), nameof(Interpreter.Atomic32));
    private static readonly MethodInfo ThrowInvalid = Method(typeof(Interpreter), nameof(Interpreter.ThrowInvalid));
    private static readonly MethodInfo ThrowUnknownOpcode = Method(typeof(Interpreter), nameof(Interpreter.ThrowUnknownOpcode));
    private static readonly MethodInfo ThrowInvalidCallSource = Method(typeof(Interpreter), nameof(Interpreter.ThrowInvalidCallSource));
    private static readonly MethodInfo ThrowCallStackTooDeep = Method(typeof(Interpreter), nameof(Interpreter.ThrowCallStackTooDeep));
    private static readonly MethodInfo CallFunction = Method(typeof(Interpreter), nameof(Interpreter.CallFunction), ContextRef,
        typeof(long), typeof(int), typeof(FunctionTable), typeof(int), typeof(bool), typeof(ulong), typeof(ulong), typeof(ulong),
        typeof(ulong), typeof(ulong));

    /// <summary>One instruction, as the interpreter's case for its opcode (Interpreter.cs) runs it.</summary>
    /// <param name="pc">Its index.</param>
    /// <param name="after">How many instructions of its block follow it (for the countdown its faults report).</param>
    private void EmitInstruction(int pc, int after)
    {
        var insn = _program[pc];
        byte op = insn.Opcode;
        int cls = insn.Class;
        switch (cls)
        {
            case OpCode.Alu64:
            case OpCode.Alu:
                EmitAlu(pc, after, insn);
                return;
            case OpCode.Jmp:
            case OpCode.Jmp32:
                EmitJump(pc, after, insn);
                return;
            case OpCode.Ldx when OpCode.ModeOf(op) is OpCode.Mem or OpCode.MemSx && !(OpCode.ModeOf(op) == OpCode.MemSx && SizeOf(op) == 8):
                EmitLoad(pc, after, insn);
                return;
            case OpCode.St when OpCode.ModeOf(op) == OpCode.Mem:
            case OpCode.Stx when OpCode.ModeOf(op) == OpCode.Mem:
                EmitStore(pc, after, insn);
                return;
            case OpCode.Stx when op == (OpCode.Stx | OpCode.Atomic | OpCode.W) || op == (OpCode.Stx | OpCode.Atomic | OpCode.DW):
                EmitAtomic(pc, after, insn);
                return;
            case OpCode.Ld when op == OpCode.LdImm64:
                if (pc + 1 >= _program.Length)
                {
                    Throw(pc, after, "invalid bpf_ld_imm64 insn");
                    return;
                }
                _il.Emit(OpCodes.Ldc_I8, (long)((uint)insn.Imm | ((ulong)(uint)_program[pc + 1].Imm << 32)));
                _il.Emit(OpCodes.Stloc, _r[insn.Dst]);
                return;
            case OpCode.Ld when OpCode.ModeOf(op) is OpCode.Abs or OpCode.Ind && SizeOf(op) != 8:
                Throw(pc, after, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
                return;
            default:
                UnknownOpcode(pc, after, op);
                return;
        }
    }

    private static int SizeOf(byte op) => OpCode.SizeOf(op) switch
    {
        OpCode.B => 1,
        OpCode.H => 2,
        OpCode.W => 4,
        _ => 8,
    };

    private void Throw(int pc, int after, string message)
    {
        LoadFaultSite(pc, after);
        _il.Emit(OpCodes.Ldstr, message);
        _il.Emit(OpCodes.Call, ThrowInvalid);
    }

    private void UnknownOpcode(int pc, int after, byte op)
    {
        LoadFaultSite(pc, after);
        _il.Emit(OpCodes.Ldc_I4, (int)op);
        _il.Emit(OpCodes.Call, ThrowUnknownOpcode);
    }

    /// <summary>
    /// ALU64 and ALU: the 32-bit forms take the low halves of their operands (the immediate as 32 bits) and zero-extend
    /// their result, as the interpreter's casts to uint do.
    /// </summary>
    private void EmitAlu(int pc, int after, Instruction insn)
    {
        bool wide = insn.Class == OpCode.Alu64;
        var dst = _r[insn.Dst];
        var src = _r[insn.Src];
        bool x = (insn.Opcode & OpCode.X) != 0;
        switch (OpCode.OpOf(insn.Opcode))
        {
            case OpCode.Add: Binary(OpCodes.Add); return;
            case OpCode.Sub: Binary(OpCodes.Sub); return;
            case OpCode.Mul: Binary(OpCodes.Mul); return;
            case OpCode.Or: Binary(OpCodes.Or); return;
            case OpCode.And: Binary(OpCodes.And); return;
            case OpCode.Xor: Binary(OpCodes.Xor); return;
            case OpCode.Lsh: Shift(OpCodes.Shl); return;
            case OpCode.Rsh: Shift(OpCodes.Shr_Un); return;
            case OpCode.Arsh: Shift(OpCodes.Shr); return;
            case OpCode.Div: Routine(wide ? Div64 : Div32); return;
            case OpCode.Mod: Routine(wide ? Mod64 : Mod32); return;
            case OpCode.Neg when !x:
                LoadDst();
                _il.Emit(OpCodes.Neg);
                Store();
                return;
            case OpCode.Mov when !x || insn.Offset == 0:
                Operand();
                Store();
                return;
            case OpCode.Mov:
                // A sign-extending move (cpu v4), or the fault of a reserved offset.
                LoadFaultSite(pc, after);
                LoadInstruction(pc);
                _il.Emit(OpCodes.Ldloc, src);
                _il.Emit(OpCodes.Call, wide ? MovSx64 : MovSx32);
                Store();
                return;
            case OpCode.End when !wide || !x:
                // ALU64's bswap and ALU's to-big-endian swap; to little-endian on a little-endian machine truncates.
                LoadFaultSite(pc, after);
                LoadInstruction(pc);
                _il.Emit(OpCodes.Ldloc, dst);
                _il.Emit(OpCodes.Call, wide || x ? ByteSwap : ToLittleEndian);
                _il.Emit(OpCodes.Stloc, dst);
                return;
            default:
                UnknownOpcode(pc, after, insn.Opcode);
                return;
        }

        void LoadDst() => LoadRegister(insn.Dst, wide);

        void Operand() => LoadOperand(insn, wide);

        void Store()
        {
            if (!wide)
            {
                _il.Emit(OpCodes.Conv_U8);
            }
            _il.Emit(OpCodes.Stloc, dst);
        }

        void Binary(IlOp il)
        {
            LoadDst();
            Operand();
            _il.Emit(il);
            Store();
        }

        void Shift(IlOp il)
        {
            int mask = wide ? 63 : 31;
            LoadDst();
            if (x)
            {
                _il.Emit(OpCodes.Ldloc, src);
                _il.Emit(OpCodes.Conv_I4);
                _il.Emit(OpCodes.Ldc_I4, mask);
                _il.Emit(OpCodes.And);
            }
            else
            {
                _il.Emit(OpCodes.Ldc_I4, insn.Imm & mask);
            }
            _il.Emit(il);
            Store();
        }

        void Routine(MethodInfo routine)
        {
            LoadFaultSite(pc, after);
            LoadInstruction(pc);
            LoadDst();
            Operand();
            _il.Emit(OpCodes.Call, routine);
            Store();
        }
    }

    /// <summary>Pushes a register whole, or its low half for the 32-bit forms.</summary>
    private void LoadRegister(int register, bool wide)
    {
        _il.Emit(OpCodes.Ldloc, _r[register]);
        if (!wide)
        {
            _il.Emit(OpCodes.Conv_U4);
        }
    }

    /// <summary>Pushes the second operand: the src register (its low half for 32-bit forms) or the immediate,
    /// sign-extended to 64 bits or taken as 32.</summary>
    private void LoadOperand(Instruction insn, bool wide)
    {
        if ((insn.Opcode & OpCode.X) != 0)
        {
            LoadRegister(insn.Src, wide);
        }
        else if (wide)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)insn.Imm);
        }
        else
        {
            _il.Emit(OpCodes.Ldc_I4, insn.Imm);
        }
    }

    private void EmitLoad(int pc, int after, Instruction insn)
    {
        int size = SizeOf(insn.Opcode);
        LoadFaultSite(pc, after);
        _il.Emit(OpCodes.Ldc_I4, insn.Src);
        Address(insn.Src, insn.Offset);
        _il.Emit(OpCodes.Ldc_I4, size);
        _il.Emit(OpCodes.Call, Read);
        if (OpCode.ModeOf(insn.Opcode) == OpCode.MemSx)
        {
            _il.Emit(size switch { 1 => OpCodes.Conv_I1, 2 => OpCodes.Conv_I2, _ => OpCodes.Conv_I4 });
            _il.Emit(OpCodes.Conv_I8);
        }
        _il.Emit(OpCodes.Stloc, _r[insn.Dst]);
    }

    private void EmitStore(int pc, int after, Instruction insn)
    {
        LoadFaultSite(pc, after);
        _il.Emit(OpCodes.Ldc_I4, insn.Dst);
        Address(insn.Dst, insn.Offset);
        _il.Emit(OpCodes.Ldc_I4, SizeOf(insn.Opcode));
        if (insn.Class == OpCode.St)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)insn.Imm);
        }
        else
        {
            _il.Emit(OpCodes.Ldloc, _r[insn.Src]);
        }
        _il.Emit(OpCodes.Call, Write);
    }

    /// <summary>The interpreter's atomic routines work on a register file: R0 and the source go through the spill area.</summary>
    private void EmitAtomic(int pc, int after, Instruction insn)
    {
        Spill(0);
        Spill(insn.Src);
        LoadFaultSite(pc, after);
        LoadInstruction(pc);
        _il.Emit(OpCodes.Ldloc, _file);
        Address(insn.Dst, insn.Offset);
        _il.Emit(OpCodes.Call, SizeOf(insn.Opcode) == 8 ? Atomic64 : Atomic32);
        Unspill(0);
        Unspill(insn.Src);
    }

    private void Spill(int register)
    {
        FileSlot(register);
        _il.Emit(OpCodes.Ldloc, _r[register]);
        _il.Emit(OpCodes.Stind_I8);
    }

    private void Unspill(int register)
    {
        FileSlot(register);
        _il.Emit(OpCodes.Ldind_I8);
        _il.Emit(OpCodes.Stloc, _r[register]);
    }

    private void FileSlot(int register)
    {
        _il.Emit(OpCodes.Ldloc, _file);
        _il.Emit(OpCodes.Ldc_I4, register * sizeof(ulong));
        _il.Emit(OpCodes.Add);
    }

    /// <summary>Pushes a register plus the instruction's offset, sign-extended.</summary>
    private void Address(int register, short offset)
    {
        _il.Emit(OpCodes.Ldloc, _r[register]);
        if (offset != 0)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)offset);
            _il.Emit(OpCodes.Add);
        }
    }
}
