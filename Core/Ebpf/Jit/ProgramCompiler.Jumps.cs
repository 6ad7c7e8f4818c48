using System.Reflection.Emit;
using BpfSim.Core.Ebpf.Asm;
using OpCode = BpfSim.Core.Ebpf.Asm.OpCode;
using IlOp = System.Reflection.Emit.OpCode;
using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Jit;

internal sealed partial class ProgramCompiler
{
    private void EmitJump(int pc, int after, Instruction insn)
    {
        byte op = insn.Opcode;
        switch (ControlFlow.KindOf(insn))
        {
            case Flow.Jump:
                GoTo(ControlFlow.JumpTarget(_program, pc));
                return;
            case Flow.Branch:
                EmitBranch(pc, insn);
                return;
            case Flow.Exit:
                EmitExit();
                return;
            case Flow.SubprogramCall:
                EmitSubprogramCall(pc, insn);
                return;
        }
        if (op != (OpCode.Jmp | OpCode.Call))
        {
            UnknownOpcode(pc, after, op);
            return;
        }
        if (insn.Src is not (0 or Pseudo.KfuncCall))
        {
            LoadFaultSite(pc, after);
            _il.Emit(OpCodes.Ldc_I4, insn.Src);
            _il.Emit(OpCodes.Call, ThrowInvalidCallSource);
            return;
        }
        // A helper or kfunc: R0 gets its result, R1–R5 keep the arguments (___bpf_prog_run's JMP_CALL).
        bool kfunc = insn.Src == Pseudo.KfuncCall;
        LoadFaultSite(pc, after);
        LoadContext();
        _il.Emit(OpCodes.Call, Method(typeof(JitSupport), kfunc ? nameof(JitSupport.Kfuncs) : nameof(JitSupport.Helpers)));
        _il.Emit(OpCodes.Ldc_I4, insn.Imm);
        _il.Emit(kfunc ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0);
        for (int r = 1; r <= 5; r++)
        {
            _il.Emit(OpCodes.Ldloc, _r[r]);
        }
        _il.Emit(OpCodes.Call, CallFunction);
        _il.Emit(OpCodes.Stloc, _r[0]);
    }

    private void EmitBranch(int pc, Instruction insn)
    {
        bool wide = insn.Class == OpCode.Jmp;
        LoadRegister(insn.Dst, wide);
        LoadOperand(insn, wide);
        var target = TargetLabel(ControlFlow.JumpTarget(_program, pc));
        int jop = OpCode.OpOf(insn.Opcode);
        if (jop == OpCode.Jset)
        {
            _il.Emit(OpCodes.And);
            if (wide)
            {
                _il.Emit(OpCodes.Ldc_I8, 0L);
                _il.Emit(OpCodes.Bne_Un, target);
            }
            else
            {
                _il.Emit(OpCodes.Brtrue, target);
            }
            return;
        }
        _il.Emit(jop switch
        {
            OpCode.Jeq => OpCodes.Beq,
            OpCode.Jne => OpCodes.Bne_Un,
            OpCode.Jgt => OpCodes.Bgt_Un,
            OpCode.Jge => OpCodes.Bge_Un,
            OpCode.Jlt => OpCodes.Blt_Un,
            OpCode.Jle => OpCodes.Ble_Un,
            OpCode.Jsgt => OpCodes.Bgt,
            OpCode.Jsge => OpCodes.Bge,
            OpCode.Jslt => OpCodes.Blt,
            _ => OpCodes.Ble, // Jsle: KindOf lets no other operation through
        }, target);
    }

    private void EmitExit()
    {
        if (_flow.HasSubprogramCalls)
        {
            _il.Emit(OpCodes.Ldloc, _depth!);
            _il.Emit(OpCodes.Brtrue, _return);
        }
        LoadContext();
        _il.Emit(OpCodes.Ldloc, _remaining);
        _il.Emit(OpCodes.Call, Method(typeof(JitSupport), nameof(JitSupport.Finish)));
        _il.Emit(OpCodes.Ldloc, _r[0]);
        _il.Emit(OpCodes.Ret);
    }

    /// <summary>
    /// A bpf-to-bpf call as the interpreter makes it: the depth checked, the caller's R1–R10 and return point saved,
    /// a new frame cleared for the callee with its own R10; the callee starts with the caller's R1–R9.
    /// </summary>
    private void EmitSubprogramCall(int pc, Instruction insn)
    {
        var deepEnough = _il.DefineLabel();
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4_1);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldc_I4, AddressSpace.MaxCallFrames);
        _il.Emit(OpCodes.Blt, deepEnough);
        LoadFaultSite(pc, 0);
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4_2);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Call, ThrowCallStackTooDeep);
        _il.MarkLabel(deepEnough);

        for (int r = 1; r <= SavedRegisters; r++)
        {
            SavedSlot(r);
            _il.Emit(OpCodes.Ldloc, _r[r]);
            _il.Emit(OpCodes.Stind_I8);
        }
        ReturnToSlot();
        _il.Emit(OpCodes.Ldc_I4, _returnSites.Count);
        _il.Emit(OpCodes.Stind_I4);
        _returnSites.Add(pc + 1);

        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4_1);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stloc, _depth!);
        LoadContext();
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Call, Method(typeof(JitSupport), nameof(JitSupport.EnterFrame)));
        _il.Emit(OpCodes.Stloc, _r[10]);
        GoTo(ControlFlow.JumpTarget(_program, pc));
    }
}
