using BenchmarkDotNet.Attributes;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Bench.Ebpf;

/// <summary>
/// The BPF interpreter's cost: per executed instruction in an ALU/jump loop and in a load/store loop (stack, an
/// array-backed map value, a call-scoped span region), and per call of a trivial program (entry, exit, the
/// address space's enter/leave and the zeroing of the first stack frame) — each on the interpreter and as the JIT's
/// compiled code (<c>_Jit</c>), which runs the same instructions with the same checks.
/// </summary>
[MemoryDiagnoser]
public class InterpreterBench
{
    private const int Iterations = 10_000;
    private const int Calls = 1024;

    private Instruction[] _alu = null!;
    private Instruction[] _memory = null!;
    private Instruction[] _trivial = null!;
    private AddressSpace _space = null!;
    private RegionHandle _sock;
    private ulong[] _args = null!;
    private CompiledProgram _aluJit = null!;
    private CompiledProgram _memoryJit = null!;
    private CompiledProgram _trivialJit = null!;
    private byte[] _sockBytes = null!;

    /// <summary>Instructions the ALU loop executes: 2 before, 7 per iteration, exit.</summary>
    public const int AluInstructions = 2 + 7 * Iterations + 1;

    /// <summary>Instructions the load/store loop executes: 4 before, 10 per iteration, exit.</summary>
    public const int MemoryInstructions = 4 + 10 * Iterations + 1;

    [GlobalSetup]
    public void Setup()
    {
        _alu =
        [
            Mov64Imm(0, 0), Mov64Imm(1, Iterations),
            Alu64Reg(OpCode.Add, 0, 1), Alu64Imm(OpCode.Xor, 0, 0x55), Mov64Reg(2, 0), Alu64Imm(OpCode.Rsh, 2, 3),
            Alu32Reg(OpCode.Add, 0, 2), Alu64Imm(OpCode.Sub, 1, 1), JmpImm(OpCode.Jne, 1, 0, -7),
            Exit(),
        ];
        _memory =
        [
            // r6 = a map value, r7 = the call-scoped "socket" (from R2, R3).
            Mov64Reg(6, 2), Mov64Reg(7, 3), Mov64Imm(0, 0), Mov64Imm(1, Iterations),
            Ldx(OpCode.DW, 3, 10, -8), Alu64Imm(OpCode.Add, 3, 1), Stx(OpCode.DW, 10, 3, -8),
            Ldx(OpCode.W, 4, 6, 0), Alu64Reg(OpCode.Add, 4, 3), Stx(OpCode.W, 6, 4, 4),
            Ldx(OpCode.W, 5, 7, 8), Stx(OpCode.W, 7, 5, 12),
            Alu64Imm(OpCode.Sub, 1, 1), JmpImm(OpCode.Jne, 1, 0, -10),
            Exit(),
        ];
        _trivial = [Mov64Imm(0, 0), Exit()];
        _space = new AddressSpace();
        var value = _space.Map(new byte[64], RegionKind.MapValue, MemoryAccess.ReadWrite, "value");
        _sock = _space.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock");
        _sockBytes = new byte[256];
        _args = [0, AddressSpace.AddressOf(value), AddressSpace.AddressOf(_sock)];
        _aluJit = CompiledProgram.Compile(_alu);
        _memoryJit = CompiledProgram.Compile(_memory);
        _trivialJit = CompiledProgram.Compile(_trivial);
    }

    [Benchmark(OperationsPerInvoke = AluInstructions)]
    public ulong AluJmpLoop_PerInstruction()
    {
        var context = new RunContext(_space);
        return Interpreter.Run(_alu, 0, ref context, []);
    }

    [Benchmark(OperationsPerInvoke = MemoryInstructions)]
    public ulong LoadStoreLoop_PerInstruction()
    {
        var context = new RunContext(_space);
        context.Bind(_sock, _sockBytes);
        return Interpreter.Run(_memory, 0, ref context, _args);
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong TrivialProgram_PerCall()
    {
        ulong sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            var context = new RunContext(_space);
            sum += Interpreter.Run(_trivial, 0, ref context, []);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = AluInstructions)]
    public ulong AluJmpLoop_PerInstruction_Jit()
    {
        var context = new RunContext(_space);
        return _aluJit.Run(ref context, []);
    }

    [Benchmark(OperationsPerInvoke = MemoryInstructions)]
    public ulong LoadStoreLoop_PerInstruction_Jit()
    {
        var context = new RunContext(_space);
        context.Bind(_sock, _sockBytes);
        return _memoryJit.Run(ref context, _args);
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong TrivialProgram_PerCall_Jit()
    {
        ulong sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            var context = new RunContext(_space);
            sum += _trivialJit.Run(ref context, []);
        }
        return sum;
    }
}
