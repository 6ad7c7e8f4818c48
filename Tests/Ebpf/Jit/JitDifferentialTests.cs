using Bogus;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Jit;

/// <summary>
/// The JIT against the interpreter on seeded random programs, which no verifier has checked: every ALU, jump, load,
/// store and atomic form with random registers, immediates and offsets (some invalid), helper and kfunc calls (some
/// to ids that do not exist), bpf-to-bpf calls (some recursing past the frame limit), jumps out of the program,
/// unknown opcodes and budgets small enough to run out inside loops. Both engines must give the same
/// <see cref="EngineRun"/>: R0 or the fault, counts, frame depth, helper calls, the map value and the stack frames.
/// </summary>
[Category("Ebpf")]
public sealed class JitDifferentialTests
{
    private const int Programs = 2500;
    private const int MapValueSize = 64; // EngineRun's map value, which random offsets from R1 aim around

    [Test]
    public void RandomPrograms_RunAsOnTheInterpreter()
    {
        var random = new Randomizer(20261127);
        int faults = 0, budgetFaults = 0, exits = 0, helperCalls = 0;
        for (int n = 0; n < Programs; n++)
        {
            var program = RandomProgram(random);
            long budget = random.Bool(0.3f) ? random.Int(1, 60) : 5_000;
            ulong seed = random.ULong();
            var interpreted = EngineRun.Of(program, budget, seed, null);
            var jitted = EngineRun.Of(program, budget, seed, CompiledProgram.Compile(program));
            Assert.That(jitted.ToString(), Is.EqualTo(interpreted.ToString()),
                $"program {n} (budget {budget}):\n{Disassembler.Dump(program)}");
            faults += interpreted.Fault is not null ? 1 : 0;
            budgetFaults += interpreted.Fault == FaultKind.InstructionBudgetExhausted ? 1 : 0;
            exits += interpreted.Fault is null ? 1 : 0;
            helperCalls += interpreted.Calls.Count;
        }
        // The generator must reach both ends: programs that exit and programs that fault, the budget among the faults.
        Assert.Multiple(() =>
        {
            Assert.That(exits, Is.GreaterThan(Programs / 10), "programs that exit");
            Assert.That(faults, Is.GreaterThan(Programs / 10), "programs that fault");
            Assert.That(budgetFaults, Is.GreaterThan(Programs / 50), "programs that run out of budget");
            Assert.That(helperCalls, Is.GreaterThan(Programs / 5), "helper and kfunc calls");
        });
    }

    [Test]
    public void LongestCompiledProgram_RunsAsOnTheInterpreter_AndOneLongerIsRefused()
    {
        // A straight run of adds, a loop back over part of it, and an exit: the longest program a run compiles.
        var program = new Instruction[CompiledProgram.MaxInstructions];
        for (int i = 0; i < program.Length - 3; i++)
        {
            program[i] = Alu64Imm(OpCode.Add, i % 10, i);
        }
        program[^3] = Alu64Imm(OpCode.Sub, 9, 1);
        program[^2] = JmpImm(OpCode.Jsgt, 9, -5, (short)-100);
        program[^1] = Exit();
        var interpreted = EngineRun.Of(program, 5_000_000, 1, null);
        var jitted = EngineRun.Of(program, 5_000_000, 1, CompiledProgram.Compile(program));
        Assert.That(jitted.ToString(), Is.EqualTo(interpreted.ToString()));
        Assert.That(interpreted.Executed, Is.GreaterThan(CompiledProgram.MaxInstructions), "the loop ran");

        Assert.That(CompiledProgram.Compiles(program.Length + 1), Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => CompiledProgram.Compile([.. program, Exit()]));
    }

    private static Instruction[] RandomProgram(Randomizer random)
    {
        int length = random.Int(3, 40);
        var program = new List<Instruction>();
        while (program.Count < length)
        {
            program.AddRange(RandomInstruction(random, program.Count, length));
        }
        // Most programs end in an exit that folds the registers into R0, so a wrong register anywhere shows.
        if (random.Bool(0.9f))
        {
            program.AddRange(MixAndExit(random));
        }
        return [.. program];
    }

    private static IEnumerable<Instruction> MixAndExit(Randomizer random)
    {
        // What the program left on its stack, then its registers.
        yield return Ldx(OpCode.DW, 2, 10, (short)(-8 * random.Int(1, 4)));
        yield return Alu64Reg(OpCode.Xor, 0, 2);
        int from = random.Int(1, 9);
        yield return Alu64Reg(OpCode.Xor, 0, from);
        yield return Alu64Imm(OpCode.Lsh, 0, random.Int(0, 5));
        yield return Alu64Reg(OpCode.Add, 0, random.Int(1, 9));
        yield return Exit();
    }

    private static readonly byte[] s_aluOps =
    [
        OpCode.Add, OpCode.Sub, OpCode.Mul, OpCode.Div, OpCode.Or, OpCode.And, OpCode.Lsh, OpCode.Rsh, OpCode.Neg, OpCode.Mod,
        OpCode.Xor, OpCode.Mov, OpCode.Arsh, OpCode.End,
    ];

    private static readonly byte[] s_jumpOps =
    [
        OpCode.Jeq, OpCode.Jgt, OpCode.Jge, OpCode.Jset, OpCode.Jne, OpCode.Jsgt, OpCode.Jsge, OpCode.Jlt, OpCode.Jle, OpCode.Jslt,
        OpCode.Jsle,
    ];

    private static readonly byte[] s_sizes = [OpCode.B, OpCode.H, OpCode.W, OpCode.DW];

    private static readonly int[] s_atomicOps =
    [
        OpCode.Add, OpCode.Or, OpCode.And, OpCode.Xor, OpCode.Add | OpCode.Fetch, OpCode.Or | OpCode.Fetch, OpCode.And | OpCode.Fetch,
        OpCode.Xor | OpCode.Fetch, OpCode.Xchg, OpCode.Cmpxchg, 0x33,
    ];

    private static IEnumerable<Instruction> RandomInstruction(Randomizer random, int pc, int length)
    {
        int dst = random.Int(0, 9);
        int src = random.Int(0, 10);
        int choice = random.Int(0, 99);
        if (choice < 30)
        {
            byte op = random.ArrayElement(s_aluOps);
            byte cls = random.Bool() ? OpCode.Alu64 : OpCode.Alu;
            byte source = random.Bool() ? OpCode.X : OpCode.K;
            short offset = op switch
            {
                OpCode.Div or OpCode.Mod => (short)random.WeightedRandom([0, 1, 2], [0.6f, 0.35f, 0.05f]),
                OpCode.Mov => (short)random.WeightedRandom([0, 8, 16, 32, 7], [0.6f, 0.1f, 0.1f, 0.1f, 0.1f]),
                _ => 0,
            };
            int imm = op == OpCode.End ? random.ArrayElement([16, 32, 64, 8]) : Immediate(random);
            yield return new Instruction((byte)(cls | op | source), dst, src, offset, imm);
        }
        else if (choice < 45)
        {
            // Branches forward mostly, backward sometimes (loops the budget ends), out of the program rarely.
            short offset = (short)(random.Bool(0.8f) ? random.Int(0, Math.Max(0, length - pc)) : random.Int(-pc - 2, 0));
            byte cls = random.Bool() ? OpCode.Jmp : OpCode.Jmp32;
            byte op = random.ArrayElement(s_jumpOps);
            bool x = random.Bool();
            yield return new Instruction((byte)(cls | op | (x ? OpCode.X : OpCode.K)), dst, src, offset, random.Int(-3, 3));
        }
        else if (choice < 48)
        {
            short offset = (short)random.Int(-pc - 1, length - pc + 1);
            yield return random.Bool(0.8f) ? Ja(offset) : Gotol(offset);
        }
        else if (choice < 63)
        {
            // Loads and stores: through R10 (mostly in the frame), R1 (the map value) or whatever a register holds.
            int @base = random.WeightedRandom([10, 1, src], [0.5f, 0.35f, 0.15f]);
            byte size = random.ArrayElement(s_sizes);
            short offset = (short)(@base == 10 ? random.Int(-520, 4) : random.Int(-4, MapValueSize + 4));
            switch (random.Int(0, 3))
            {
                case 0: yield return Ldx(size, dst, @base, offset); break;
                case 1: yield return new Instruction((byte)(OpCode.Ldx | OpCode.MemSx | size), dst, @base, offset, 0); break;
                case 2: yield return St(size, @base, offset, Immediate(random)); break;
                default: yield return Stx(size, @base, src, offset); break;
            }
        }
        else if (choice < 68)
        {
            int @base = random.Bool() ? 10 : 1;
            short offset = (short)(@base == 10 ? -8 * random.Int(1, 4) : 8 * random.Int(0, 7) + random.Int(-1, 1));
            byte size = random.Bool() ? OpCode.DW : OpCode.W;
            if (size == OpCode.W && @base == 10)
            {
                offset = (short)(offset + 4 * random.Int(0, 1));
            }
            yield return Atomic(size, random.ArrayElement(s_atomicOps), @base, src, offset);
        }
        else if (choice < 76)
        {
            foreach (var insn in LdImm64(dst, random.ULong()))
            {
                yield return insn;
            }
        }
        else if (choice < 86)
        {
            yield return random.WeightedRandom(
                [Call(1), Call(2), CallKfunc(0), Call(99), CallKfunc(5), new Instruction(OpCode.Jmp | OpCode.Call, 0, 3, 0, 0)],
                [0.4f, 0.15f, 0.25f, 0.07f, 0.07f, 0.06f]);
        }
        else if (choice < 92)
        {
            // A bpf-to-bpf call forward (a subprogram) or backward (recursion the frame limit ends).
            yield return CallLocal(random.Bool(0.7f) ? random.Int(0, Math.Max(0, length - pc)) : random.Int(-pc - 1, -1));
        }
        else if (choice < 97)
        {
            yield return Exit();
        }
        else
        {
            // Anything: mostly unknown opcodes, and the legacy packet loads.
            yield return new Instruction((byte)random.Int(0, 255), dst, src, (short)random.Int(-4, 4), random.Int(-4, 64));
        }
    }

    private static int Immediate(Randomizer random) => random.WeightedRandom(
        [0, 1, -1, random.Int(-64, 64), random.Int(), int.MinValue, int.MaxValue, 63, 64, 31, 32],
        [0.1f, 0.1f, 0.1f, 0.3f, 0.2f, 0.04f, 0.04f, 0.03f, 0.03f, 0.03f, 0.03f]);
}
