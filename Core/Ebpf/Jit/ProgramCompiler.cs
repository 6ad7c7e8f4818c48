using System.Reflection;
using System.Reflection.Emit;
using BpfSim.Core.Ebpf.Asm;
using OpCode = BpfSim.Core.Ebpf.Asm.OpCode;
using IlOp = System.Reflection.Emit.OpCode;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Jit;

/// <summary>
/// Emits one program's IL: registers R0–R15 as locals (so the runtime keeps them in machine registers), a label per
/// block, and the interpreter's routines for every memory access, helper call, division and fault. Blocks charge
/// the budget on entry; one that would overrun it hands its registers to <see cref="Interpreter.Resume"/>, which
/// runs the few instructions left and raises the budget fault where the interpreter would.
/// </summary>
/// <remarks>Arguments of the emitted method: 0 the <see cref="CompiledProgram"/>, 1 the run's context (by reference),
/// 2–6 R1–R5.</remarks>
internal sealed partial class ProgramCompiler
{
    private const int Registers = 16;
    private const int SavedRegisters = 10; // R1–R10, as the interpreter's JMP_CALL_ARGS frame
    private const BindingFlags Internal = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

    private readonly Instruction[] _program;
    private readonly ControlFlow _flow;
    private readonly ILGenerator _il;
    private readonly LocalBuilder[] _r = new LocalBuilder[Registers];
    private readonly LocalBuilder _remaining;
    private readonly LocalBuilder _resumeAt;
    private readonly LocalBuilder _file;
    private readonly LocalBuilder? _depth;
    private readonly LocalBuilder? _saved;
    private readonly LocalBuilder? _returnTo;
    private readonly Label?[] _labels;
    private readonly SortedDictionary<int, Label> _outOfRange = [];
    private readonly List<(Label Label, int Leader)> _budgetExits = [];
    private readonly List<int> _returnSites = [];
    private readonly Label _return;
    private readonly Label _budgetExit;

    private ProgramCompiler(Instruction[] program, ILGenerator il)
    {
        _program = program;
        _flow = ControlFlow.Of(program);
        _il = il;
        _labels = new Label?[program.Length];
        for (int i = 0; i < Registers; i++)
        {
            _r[i] = il.DeclareLocal(typeof(ulong));
        }
        _remaining = il.DeclareLocal(typeof(long));
        _resumeAt = il.DeclareLocal(typeof(int));
        _file = il.DeclareLocal(typeof(nint));
        if (_flow.HasSubprogramCalls)
        {
            _depth = il.DeclareLocal(typeof(int));
            _saved = il.DeclareLocal(typeof(nint));
            _returnTo = il.DeclareLocal(typeof(nint));
        }
        _return = il.DefineLabel();
        _budgetExit = il.DefineLabel();
    }

    /// <summary>Builds the method and binds it to <paramref name="owner"/>.</summary>
    public static CompiledProgram.Body Compile(CompiledProgram owner, string name)
    {
        var method = new DynamicMethod(name, typeof(ulong),
            [typeof(CompiledProgram), typeof(RunContext).MakeByRefType(), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong)],
            typeof(CompiledProgram).Module, skipVisibility: true)
        {
            // Every register is written before it is read; the spill areas are written before they are read.
            InitLocals = false,
        };
        new ProgramCompiler(owner.Program, method.GetILGenerator()).Emit();
        return method.CreateDelegate<CompiledProgram.Body>(owner);
    }

    private void Emit()
    {
        EmitStart();
        for (int pc = 0; pc < _program.Length; pc++)
        {
            if (_flow.IsReached(pc) && _flow.IsLeader(pc))
            {
                EmitBlock(pc);
            }
        }
        EmitReturnFromSubprogram();
        EmitBudgetExits();
        EmitOutOfRangeStubs();
    }

    private void EmitStart()
    {
        for (int i = 0; i < Registers; i++)
        {
            if (i is >= 1 and <= 5)
            {
                _il.Emit(OpCodes.Ldarg, (short)(i + 1));
            }
            else
            {
                _il.Emit(OpCodes.Ldc_I8, 0L);
            }
            _il.Emit(OpCodes.Stloc, _r[i]);
        }
        LoadContext();
        _il.Emit(OpCodes.Ldc_I4, _program.Length);
        _il.Emit(OpCodes.Call, Method(typeof(JitSupport), nameof(JitSupport.Start)));
        _il.Emit(OpCodes.Stloc, _remaining);
        _il.Emit(OpCodes.Ldc_I4_0);
        _il.Emit(OpCodes.Call, Method(typeof(AddressSpace), nameof(AddressSpace.FramePointer)));
        _il.Emit(OpCodes.Stloc, _r[10]);
        Localloc(Registers * sizeof(ulong), _file);
        if (_flow.HasSubprogramCalls)
        {
            Localloc(AddressSpace.MaxCallFrames * SavedRegisters * sizeof(ulong), _saved!);
            Localloc(AddressSpace.MaxCallFrames * sizeof(int), _returnTo!);
            _il.Emit(OpCodes.Ldc_I4_0);
            _il.Emit(OpCodes.Stloc, _depth!);
        }
        _il.Emit(OpCodes.Br, LabelOf(0));
    }

    private void Localloc(int bytes, LocalBuilder into)
    {
        _il.Emit(OpCodes.Ldc_I4, bytes);
        _il.Emit(OpCodes.Conv_U);
        _il.Emit(OpCodes.Localloc);
        _il.Emit(OpCodes.Stloc, into);
    }

    /// <summary>A block: its budget charged on entry, then its instructions, then a jump to what follows it.</summary>
    private void EmitBlock(int leader)
    {
        var block = new List<int>();
        int pc = leader;
        while (true)
        {
            block.Add(pc);
            var kind = ControlFlow.KindOf(_program[pc]);
            if (kind != Flow.Straight || (_program[pc].Opcode == OpCode.LdImm64 && pc + 1 >= _program.Length))
            {
                break;
            }
            int next = ControlFlow.FallThrough(_program, pc);
            if (next >= _program.Length || _flow.IsLeader(next))
            {
                break;
            }
            pc = next;
        }

        _il.MarkLabel(LabelOf(leader));
        var overrun = _il.DefineLabel();
        _budgetExits.Add((overrun, leader));
        _il.Emit(OpCodes.Ldloc, _remaining);
        _il.Emit(OpCodes.Ldc_I8, (long)block.Count);
        _il.Emit(OpCodes.Blt, overrun);
        _il.Emit(OpCodes.Ldloc, _remaining);
        _il.Emit(OpCodes.Ldc_I8, (long)block.Count);
        _il.Emit(OpCodes.Sub);
        _il.Emit(OpCodes.Stloc, _remaining);

        for (int j = 0; j < block.Count; j++)
        {
            // What the interpreter's countdown reads at this instruction: the block's charge less the ones after it.
            EmitInstruction(block[j], block.Count - 1 - j);
        }

        int last = block[^1];
        var lastKind = ControlFlow.KindOf(_program[last]);
        if (lastKind is Flow.Straight or Flow.Branch && !(_program[last].Opcode == OpCode.LdImm64 && last + 1 >= _program.Length))
        {
            GoTo(ControlFlow.FallThrough(_program, last));
        }
    }

    /// <summary>Jumps to an instruction, or to the fault of a jump past the program.</summary>
    private void GoTo(int pc) => _il.Emit(OpCodes.Br, TargetLabel(pc));

    private Label TargetLabel(int pc) => pc >= 0 && pc < _program.Length ? LabelOf(pc) : OutOfRange(pc);

    private Label LabelOf(int pc) => _labels[pc] ??= _il.DefineLabel();

    private Label OutOfRange(int pc)
    {
        if (!_outOfRange.TryGetValue(pc, out var label))
        {
            label = _il.DefineLabel();
            _outOfRange[pc] = label;
        }
        return label;
    }

    /// <summary>An exit at depth &gt; 0: the caller's R1–R10 back, then on after its call instruction.</summary>
    private void EmitReturnFromSubprogram()
    {
        if (!_flow.HasSubprogramCalls)
        {
            return;
        }
        _il.MarkLabel(_return);
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4_1);
        _il.Emit(OpCodes.Sub);
        _il.Emit(OpCodes.Stloc, _depth!);
        for (int r = 1; r <= SavedRegisters; r++)
        {
            SavedSlot(r);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Stloc, _r[r]);
        }
        ReturnToSlot();
        _il.Emit(OpCodes.Ldind_I4);
        _il.Emit(OpCodes.Switch, _returnSites.Select(TargetLabel).ToArray());
        _il.Emit(OpCodes.Ldc_I8, 0L);
        _il.Emit(OpCodes.Ret);
    }

    /// <summary>
    /// The blocks' way out when the budget cannot cover them: each block's stub names its first instruction, and one
    /// shared exit hands the registers to the interpreter, which runs on from there. One exit, not one per block,
    /// keeps a block's IL small: past about 60 KB of IL the runtime compiles a method without optimising it.
    /// </summary>
    private void EmitBudgetExits()
    {
        foreach (var (label, leader) in _budgetExits)
        {
            _il.MarkLabel(label);
            _il.Emit(OpCodes.Ldc_I4, leader);
            _il.Emit(OpCodes.Stloc, _resumeAt);
            _il.Emit(OpCodes.Br, _budgetExit);
        }
        _il.MarkLabel(_budgetExit);
        for (int r = 0; r < Registers; r++)
        {
            _il.Emit(OpCodes.Ldloc, _file);
            _il.Emit(OpCodes.Ldc_I4, r * sizeof(ulong));
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Ldloc, _r[r]);
            _il.Emit(OpCodes.Stind_I8);
        }
        LoadProgram();
        _il.Emit(OpCodes.Ldloc, _resumeAt);
        LoadContext();
        _il.Emit(OpCodes.Ldloc, _file);
        _il.Emit(OpCodes.Ldloc, _remaining);
        _il.Emit(OpCodes.Call, Method(typeof(Interpreter), nameof(Interpreter.Resume)));
        _il.Emit(OpCodes.Ret);
    }

    private void EmitOutOfRangeStubs()
    {
        foreach (var (pc, label) in _outOfRange)
        {
            _il.MarkLabel(label);
            LoadContext();
            _il.Emit(OpCodes.Ldloc, _remaining);
            LoadProgram();
            _il.Emit(OpCodes.Ldc_I4, pc);
            _il.Emit(OpCodes.Call, Method(typeof(Interpreter), "ThrowJumpOutOfRange", typeof(RunContext).MakeByRefType(),
                typeof(long), typeof(Instruction[]), typeof(int)));
            _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Ret);
        }
    }

    private void LoadContext() => _il.Emit(OpCodes.Ldarg_1);

    private void LoadProgram()
    {
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Call, typeof(CompiledProgram).GetProperty(nameof(CompiledProgram.Program), BindingFlags.Instance | BindingFlags.NonPublic)!.GetMethod!);
    }

    /// <summary>The countdown as the interpreter has it at an instruction with <paramref name="after"/> more in its block.</summary>
    private void LoadRemaining(int after)
    {
        _il.Emit(OpCodes.Ldloc, _remaining);
        if (after != 0)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)after);
            _il.Emit(OpCodes.Add);
        }
    }

    /// <summary>Pushes (context, countdown, pc): the first arguments of the interpreter's routines.</summary>
    private void LoadFaultSite(int pc, int after)
    {
        LoadContext();
        LoadRemaining(after);
        _il.Emit(OpCodes.Ldc_I4, pc);
    }

    /// <summary>Pushes the instruction as the interpreter's routines take it.</summary>
    private void LoadInstruction(int pc)
    {
        _il.Emit(OpCodes.Ldc_I8, Word(_program[pc]));
        _il.Emit(OpCodes.Call, Method(typeof(Interpreter), nameof(Interpreter.Decode)));
    }

    private static long Word(Instruction insn)
        => insn.Opcode | ((long)insn.Registers << 8) | ((long)(ushort)insn.Offset << 16) | ((long)insn.Imm << 32);

    private void SavedSlot(int register)
    {
        _il.Emit(OpCodes.Ldloc, _saved!);
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4, SavedRegisters * sizeof(ulong));
        _il.Emit(OpCodes.Mul);
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldc_I4, (register - 1) * sizeof(ulong));
        _il.Emit(OpCodes.Add);
    }

    private void ReturnToSlot()
    {
        _il.Emit(OpCodes.Ldloc, _returnTo!);
        _il.Emit(OpCodes.Ldloc, _depth!);
        _il.Emit(OpCodes.Ldc_I4, sizeof(int));
        _il.Emit(OpCodes.Mul);
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Add);
    }

    private static MethodInfo Method(Type type, string name, params Type[] parameters)
    {
        var method = parameters.Length == 0 ? type.GetMethod(name, Internal) : type.GetMethod(name, Internal, parameters);
        return method ?? throw new InvalidOperationException($"{type.Name}.{name} not found for the JIT");
    }
}
