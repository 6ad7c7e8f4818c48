using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Jit;

/// <summary>
/// A program translated to .NET IL, one method per program, which the runtime compiles to machine code (the role of
/// arch/x86/net/bpf_jit_comp.c). It behaves exactly as <see cref="Interpreter"/> on the same instructions: the same
/// result, memory effects, faults (kind, instruction, message), executed-instruction count and frame depth, because
/// every check, helper call and fault goes through the interpreter's own routines; what goes is the dispatch per
/// instruction, and the budget is charged once per straight-line block instead of once per instruction.
/// </summary>
public sealed class CompiledProgram
{
    /// <summary>
    /// The longest program a run compiles; longer ones stay in the interpreter. The runtime's compile time grows faster
    /// than a method's size (a branchy program of 20,000 instructions took over a second), and past a few thousand
    /// instructions it compiles without optimising anyway. Clang's struct_ops and XDP programs are far shorter.
    /// </summary>
    public const int MaxInstructions = 16_384;

    internal delegate ulong Body(ref RunContext context, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5);

    private readonly Body _body;

    private CompiledProgram(Instruction[] program, string name)
    {
        Program = program;
        _body = ProgramCompiler.Compile(this, name);
    }

    /// <summary>The instructions, as compiled (the code's fault paths read them).</summary>
    internal Instruction[] Program { get; }

    /// <summary>Compiles a program whose every pseudo source the loader has resolved, to run from instruction 0.</summary>
    /// <param name="program">The instructions (copied).</param>
    /// <param name="name">The program's name, for the runtime's method name (profilers show it).</param>
    /// <exception cref="ArgumentOutOfRangeException">The program is empty (the interpreter refuses to run it the same way),
    /// or longer than <see cref="MaxInstructions"/> (run it in the interpreter).</exception>
    public static CompiledProgram Compile(ReadOnlySpan<Instruction> program, string name = "bpf_prog")
    {
        ArgumentOutOfRangeException.ThrowIfZero(program.Length, nameof(program));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(program.Length, MaxInstructions, nameof(program));
        return new CompiledProgram(program.ToArray(), name);
    }

    /// <summary>Whether a program of <paramref name="length"/> instructions is compiled (1 to <see cref="MaxInstructions"/>).</summary>
    public static bool Compiles(int length) => length is > 0 and <= MaxInstructions;

    /// <summary>Runs the program from instruction 0 until it exits; as <see cref="Interpreter.Run"/> with entry 0.</summary>
    /// <param name="context">The address space, function tables, budget and counters of this call.</param>
    /// <param name="args">R1, R2, ... (at most five); the others start at 0.</param>
    /// <returns>R0 at the exit.</returns>
    /// <exception cref="BpfFault">The program faulted; <see cref="RunContext.InstructionsExecuted"/> counts up to it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">More than five arguments.</exception>
    /// <exception cref="InvalidOperationException">The address space is already running a program.</exception>
    public ulong Run(ref RunContext context, scoped ReadOnlySpan<ulong> args)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(args.Length, 5, nameof(args));
        ulong r1 = args.Length > 0 ? args[0] : 0;
        ulong r2 = args.Length > 1 ? args[1] : 0;
        ulong r3 = args.Length > 2 ? args[2] : 0;
        ulong r4 = args.Length > 3 ? args[3] : 0;
        ulong r5 = args.Length > 4 ? args[4] : 0;
        var memory = context.Memory;
        memory.Enter();
        try
        {
            return _body(ref context, r1, r2, r3, r4, r5);
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
}
