using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>Runs hand-assembled programs on a fresh address space.</summary>
internal static class TestVm
{
    /// <summary>The engine the current test runs its programs on (<see cref="VmEngineFixture"/> sets it).</summary>
    [ThreadStatic]
    public static VmEngine Engine;

    // A program array compiles once, so that runs of the same array measure the compiled code, not the compiler.
    private static readonly ConditionalWeakTable<Instruction[], CompiledProgram> s_compiled = [];

    /// <summary>Runs a program from instruction 0 on the current test's engine.</summary>
    public static ulong Execute(Instruction[] program, ref RunContext context, scoped ReadOnlySpan<ulong> args)
        => Engine == VmEngine.Jit
            ? s_compiled.GetValue(program, p => CompiledProgram.Compile(p)).Run(ref context, args)
            : Interpreter.Run(program, 0, ref context, args);

    public static ulong Run(params Instruction[] program) => Run(program, []);

    public static ulong Run(Instruction[] program, ulong[] args, FunctionTable? helpers = null, FunctionTable? kfuncs = null,
        AddressSpace? memory = null, long budget = RunContext.DefaultInstructionBudget)
    {
        var context = new RunContext(memory ?? new AddressSpace(), helpers, kfuncs) { InstructionBudget = budget };
        return Execute(program, ref context, args);
    }

    /// <summary>The fault a program raises (fails the test if it exits normally).</summary>
    public static BpfFault Fault(Instruction[] program, ulong[]? args = null, AddressSpace? memory = null,
        FunctionTable? helpers = null, long budget = RunContext.DefaultInstructionBudget)
        => Assert.Throws<BpfFault>(() => Run(program, args ?? [], helpers, null, memory, budget))!;

    /// <summary><c>r0 = a; r1 = b; op; exit</c> with both operands loaded whole.</summary>
    public static ulong Binary(Instruction op, ulong a, ulong b)
        => Run([.. Insn.LdImm64(0, a), .. Insn.LdImm64(1, b), op, Insn.Exit()]);
}
