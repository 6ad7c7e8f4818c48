using Bogus;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Jit;

/// <summary>
/// The JIT against the interpreter on hand-written edge cases and on every opcode byte: both engines must give the
/// same <see cref="EngineRun"/> (R0 or fault, counts, frame depth, helper calls, the map value and all eight stack
/// frames).
/// </summary>
[Category("Ebpf")]
public sealed class JitEdgeCaseTests
{
    /// <summary>Compiles once, then compares the engines at each budget.</summary>
    private static void AssertSame(Instruction[] program, IEnumerable<long> budgets, ulong seed = 0x1234_5678_9abc_def0, string what = "")
    {
        var compiled = CompiledProgram.Compile(program);
        foreach (long budget in budgets)
        {
            string interpreted = EngineRun.Of(program, budget, seed, null).ToString();
            string jitted = EngineRun.Of(program, budget, seed, compiled).ToString();
            Assert.That(jitted, Is.EqualTo(interpreted), $"{what} (budget {budget}):\n{Disassembler.Dump(program)}");
        }
    }

    /// <summary>Sets R0–R9 to values that exercise sign and width, R1 to the map value and R2 into the stack.</summary>
    private static IEnumerable<Instruction> Preamble()
    {
        yield return LdImm64(0, 0x8000_0000_ffff_fff0)[0];
        yield return LdImm64(0, 0x8000_0000_ffff_fff0)[1];
        yield return Mov64Reg(2, 10);
        yield return Alu64Imm(OpCode.Add, 2, -16);
        yield return St(OpCode.DW, 10, -16, -7);
        yield return St(OpCode.DW, 10, -8, 0x7fff_fff0);
        foreach (var i in LdImm64(3, 0xffff_ffff_ffff_ffff)) { yield return i; }
        foreach (var i in LdImm64(4, 0x0000_0001_8000_0000)) { yield return i; }
        yield return Mov64Imm(5, 33);
        yield return Mov64Imm(6, -1);
        foreach (var i in LdImm64(7, 0x8000_0000_0000_0000)) { yield return i; }
        yield return Mov64Imm(8, 0);
        yield return Mov64Imm(9, 65);
    }

    private static IEnumerable<Instruction> Fold()
    {
        for (int r = 1; r <= 9; r++)
        {
            yield return Alu64Imm(OpCode.Mul, 0, 0x1003);
            yield return Alu64Reg(OpCode.Xor, 0, r);
        }
        yield return Ldx(OpCode.DW, 2, 10, -8);
        yield return Alu64Reg(OpCode.Add, 0, 2);
        yield return Ldx(OpCode.DW, 2, 10, -16);
        yield return Alu64Reg(OpCode.Add, 0, 2);
        yield return Exit();
    }

    private static readonly int[] s_registers = [0, 1, 2, 3, 4, 6, 7, 10, 11, 15];
    private static readonly short[] s_offsets = [0, 1, -1, 2, 7, 8, 16, 32, -8, -16, 4, -512];
    private static readonly int[] s_imms = [0, 1, -1, 8, 16, 32, 64, 63, 31, 0xe1, 0xf1, 0x01, 0x41, 0x51, 0xa1, 0x33, int.MinValue, -3];

    /// <summary>Every opcode byte with many field combinations, in the middle of a block, at its end and at the program's end.</summary>
    [Test]
    public void EveryOpcode_InEveryPosition_RunsAsOnTheInterpreter()
    {
        var random = new Randomizer(7);
        const int perOpcode = 12;
        for (int op = 0; op < 256; op++)
        {
            for (int k = 0; k < perOpcode; k++)
            {
                var insn = new Instruction((byte)op, random.ArrayElement(s_registers), random.ArrayElement(s_registers),
                    random.ArrayElement(s_offsets), random.ArrayElement(s_imms));
                Instruction[] program;
                switch (k % 4)
                {
                    case 0: program = [.. Preamble(), insn, .. Fold()]; break;
                    case 1: program = [.. Preamble(), insn]; break;
                    case 2: program = [.. Preamble(), insn, Mov64Imm(0, 5), Exit()]; break;
                    default: program = [.. Preamble(), insn, Exit(), .. Fold()]; break;
                }
                AssertSame(program, [random.Bool(0.2f) ? random.Int(0, 20) : 1000], random.ULong(), $"opcode {op:x2}");
            }
        }
    }

    private static IEnumerable<TestCaseData> EdgeCases()
    {
        // ldimm64 whose second slot is a jump target (the slot runs as opcode 00).
        yield return Case("jump into ldimm64's second slot", [Ja(1), .. LdImm64(0, 0x1_0000_0002), Exit()]);
        yield return Case("branch into ldimm64's second slot", [Mov64Imm(0, 1), JmpImm(OpCode.Jeq, 0, 1, 1), .. LdImm64(0, 0x1_0000_0002), Exit()]);
        yield return Case("ldimm64 second slot that is itself an exit, jumped to",
            [Mov64Imm(0, 9), Ja(1), new(OpCode.LdImm64, 0, 0, 0, 5), Exit(), Mov64Imm(0, 7), Exit()]);
        yield return Case("ldimm64 second slot that is an exit, fallen past",
            [Mov64Imm(0, 9), JmpImm(OpCode.Jeq, 0, 9, 1), new(OpCode.LdImm64, 0, 0, 0, 5), Exit(), Alu64Imm(OpCode.Add, 0, 7), Exit()]);
        yield return Case("ldimm64 at the last slot", [Mov64Imm(0, 1), new(OpCode.LdImm64, 0, 0, 0, 5)]);
        yield return Case("ldimm64 at the last slot after a branch", [Mov64Imm(0, 1), JmpImm(OpCode.Jeq, 0, 1, 0), new(OpCode.LdImm64, 0, 0, 0, 5)]);
        yield return Case("ldimm64 filling the last two slots", [Mov64Imm(0, 1), .. LdImm64(0, 5)]);
        yield return Case("ldimm64 chain through second slots", [Ja(1), new(OpCode.LdImm64, 1, 0, 0, 5), new(OpCode.LdImm64, 2, 0, 0, 6), new(0, 0, 0, 0, 7), Mov64Reg(0, 2), Exit()]);
        yield return Case("only ldimm64", [new(OpCode.LdImm64, 0, 0, 0, 5)]);

        // Jumps to the last slot, out of range, negative, huge gotol.
        yield return Case("jump to the last slot", [Mov64Imm(0, 3), Ja(0), Exit()]);
        yield return Case("fall off the end", [Mov64Imm(0, 3)]);
        yield return Case("jump one past the end", [Mov64Imm(0, 3), Ja(1), Exit()]);
        yield return Case("jump before the start", [Mov64Imm(0, 3), Ja(-3), Exit()]);
        yield return Case("gotol int.MaxValue", [Mov64Imm(0, 3), Gotol(int.MaxValue), Exit()]);
        yield return Case("gotol int.MinValue", [Mov64Imm(0, 3), Gotol(int.MinValue), Exit()]);
        yield return Case("call int.MaxValue", [Mov64Imm(0, 3), CallLocal(int.MaxValue), Exit()]);
        yield return Case("branch out of range both ways",
            [Mov64Imm(0, 3), JmpImm(OpCode.Jeq, 0, 3, 100), JmpImm(OpCode.Jne, 0, 3, -100), Exit()]);
        yield return Case("branch out of range not taken then fall off", [Mov64Imm(0, 3), JmpImm(OpCode.Jeq, 0, 4, 100)]);
        yield return Case("self loop", [Mov64Imm(0, 3), Ja(-1)]);

        // Calls and returns at depth.
        yield return Case("return to one past the end", [Mov64Imm(0, 3), CallLocal(1), Mov64Imm(0, 2), Exit()]);
        yield return Case("call at the last slot", [Mov64Imm(0, 3), Ja(1), Exit(), CallLocal(-2)]);
        yield return Case("call to itself forever", [Mov64Imm(0, 3), CallLocal(-1), Exit()]);
        yield return Case("exit at depth 7 then unwind", Chain(7));
        yield return Case("call depth 8 faults", Chain(8));
        yield return Case("callee writes R10, R11-R15, R6-R9",
        [
            Mov64Imm(6, 6), Mov64Imm(11, 11), CallLocal(4), Alu64Reg(OpCode.Add, 0, 6), Alu64Reg(OpCode.Add, 0, 11),
            Alu64Reg(OpCode.Add, 0, 10), Exit(),
            Mov64Imm(6, 60), Mov64Imm(11, 110), Mov64Imm(15, 150), Mov64Imm(10, 100), Mov64Imm(0, 1), Exit(),
        ]);
        yield return Case("subprogram uses its own frame", [St(OpCode.DW, 10, -8, 5), CallLocal(2), Ldx(OpCode.DW, 0, 10, -8), Exit(),
            St(OpCode.DW, 10, -8, 7), Mov64Reg(0, 10), Exit()]);
        yield return Case("subprogram reached by fall-through also called",
            [Mov64Imm(0, 1), CallLocal(0), Alu64Imm(OpCode.Add, 0, 1), Exit()]);
        yield return Case("two calls to one callee, returns to both", [Mov64Imm(0, 1), CallLocal(3), CallLocal(2), Alu64Imm(OpCode.Add, 0, 100), Exit(),
            Alu64Imm(OpCode.Mul, 0, 3), Exit()]);
        yield return Case("call into ldimm64's second slot", [CallLocal(1), .. LdImm64(0, 0x5_0000_0006), Exit()]);
        yield return Case("ldimm64 in a callee", [CallLocal(1), Exit(), .. LdImm64(0, 0x5_0000_0006), Exit()]);
        yield return Case("helper in a callee at depth", [Mov64Imm(1, 4), CallLocal(1), Exit(), CallLocal(1), Exit(), Call(1), Exit()]);
        yield return Case("callee faults", [CallLocal(1), Exit(), Ldx(OpCode.DW, 0, 0, 0), Exit()]);
        yield return Case("R10 write then store", [Mov64Imm(10, 0), St(OpCode.DW, 10, -8, 1), Exit()]);
        yield return Case("R10 moved then store", [Mov64Reg(1, 10), Alu64Imm(OpCode.Add, 10, -8), Stx(OpCode.DW, 10, 1, 0), Ldx(OpCode.DW, 0, 1, -8), Exit()]);
        yield return Case("helper sees R1-R5 after R11+ writes", [Mov64Imm(11, 7), Mov64Reg(1, 11), Call(1), Alu64Reg(OpCode.Add, 0, 11), Exit()]);
        yield return Case("unknown helper", [Call(77), Exit()]);
        yield return Case("unknown kfunc", [CallKfunc(77), Exit()]);
        yield return Case("call src 15", [new(OpCode.Jmp | OpCode.Call, 0, 15, 0, 1), Exit()]);
        yield return Case("helper faults", [Mov64Imm(1, 0), Call(2), Exit()]);
        yield return Case("helper reads the stack", [St(OpCode.DW, 10, -8, 42), Mov64Reg(1, 10), Alu64Imm(OpCode.Add, 1, -8), Call(2), Exit()]);

        // Atomics with R0 and the source aliased.
        foreach (int aop in new[] { OpCode.Add, OpCode.Add | OpCode.Fetch, OpCode.Xchg, OpCode.Cmpxchg, 0x02 })
        {
            foreach (byte size in new[] { OpCode.W, OpCode.DW })
            {
                yield return Case($"atomic {aop:x2} size {size:x2} src 0",
                    [St(OpCode.DW, 10, -8, 5), Mov64Imm(0, 5), Atomic(size, aop, 10, 0, -8), Ldx(OpCode.DW, 1, 10, -8), Alu64Imm(OpCode.Lsh, 1, 8), Alu64Reg(OpCode.Add, 0, 1), Exit()]);
                yield return Case($"atomic {aop:x2} size {size:x2} dst 0",
                    [St(OpCode.DW, 10, -8, 5), Mov64Reg(0, 10), Mov64Imm(1, 5), Atomic(size, aop, 0, 1, -8), Ldx(OpCode.DW, 2, 10, -8), Alu64Imm(OpCode.Lsh, 2, 8), Alu64Reg(OpCode.Add, 0, 2), Alu64Reg(OpCode.Add, 0, 1), Exit()]);
                yield return Case($"atomic {aop:x2} size {size:x2} dst=src=0",
                    [Mov64Reg(0, 10), Alu64Imm(OpCode.Add, 0, -8), Stx(OpCode.DW, 0, 0, 0), Atomic(size, aop, 0, 0, 0), Ldx(OpCode.DW, 2, 10, -8), Alu64Reg(OpCode.Xor, 0, 2), Exit()]);
                yield return Case($"atomic {aop:x2} size {size:x2} src 13",
                    [St(OpCode.DW, 10, -8, 5), Mov64Imm(0, 5), Mov64Imm(13, 9), Atomic(size, aop, 10, 13, -8), Alu64Reg(OpCode.Add, 0, 13), Ldx(OpCode.DW, 2, 10, -8), Alu64Reg(OpCode.Xor, 0, 2), Exit()]);
                yield return Case($"atomic {aop:x2} size {size:x2} src 10",
                    [Mov64Reg(0, 10), Alu64Imm(OpCode.Add, 0, -8), Stx(OpCode.DW, 10, 0, -8), Mov64Reg(0, 10), Atomic(size, aop, 10, 10, -8), Alu64Reg(OpCode.Sub, 0, 10), Exit()]);
            }
        }

        // Division by 0 and -1, signed and unsigned, with reserved offsets.
        foreach (short off in new short[] { 0, 1, 2, -1 })
        {
            foreach (byte cls in new[] { OpCode.Alu, OpCode.Alu64 })
            {
                foreach (byte aop in new[] { OpCode.Div, OpCode.Mod })
                {
                    foreach (int divisor in new[] { 0, -1, 3, -3 })
                    {
                        yield return Case($"{cls:x2} {aop:x2} off {off} by {divisor} K",
                            [.. LdImm64(0, 0x8000_0000_8000_0000), new((byte)(cls | aop | OpCode.K), 0, 0, off, divisor), Exit()]);
                        yield return Case($"{cls:x2} {aop:x2} off {off} by {divisor} X",
                            [.. LdImm64(0, 0x8000_0000_8000_0000), .. LdImm64(1, unchecked((ulong)(long)divisor)), new((byte)(cls | aop | OpCode.X), 0, 1, off, 0), Exit()]);
                        yield return Case($"{cls:x2} {aop:x2} off {off} by {divisor} X high bits",
                            [.. LdImm64(0, 0x8000_0000_8000_0000), .. LdImm64(1, 0xffff_ffff_0000_0000 | (uint)divisor), new((byte)(cls | aop | OpCode.X), 0, 1, off, 0), Exit()]);
                    }
                }
            }
        }

        // Budget exhaustion in awkward places.
        yield return Case("budget in a block with a helper", [Mov64Imm(1, 1), Call(1), Mov64Imm(0, 2), Call(1), Exit()], 3);
        yield return Case("budget in a callee", [CallLocal(1), Exit(), Mov64Imm(0, 1), Mov64Imm(0, 2), Mov64Imm(0, 3), Exit()], 3);
        yield return Case("budget in a callee at depth with stores", [Mov64Imm(0, 9), CallLocal(1), Exit(), St(OpCode.DW, 10, -8, 1), CallLocal(1), Exit(), St(OpCode.DW, 10, -8, 2), Ldx(OpCode.DW, 0, 10, -16), Mov64Imm(0, 3), Exit()], 7);
        yield return Case("budget at a return", [CallLocal(1), Mov64Imm(0, 1), Exit(), Exit()], 2);
        yield return Case("budget at an out-of-range jump", [Mov64Imm(0, 1), Ja(5)], 2);
        yield return Case("budget exactly at exit", [Mov64Imm(0, 1), Exit()], 2);
        yield return Case("budget zero", [Mov64Imm(0, 1), Exit()], 0);
        yield return Case("budget negative", [Mov64Imm(0, 1), Exit()], -5);
        yield return Case("budget one less than exit", [Mov64Imm(0, 1), Exit()], 1);
        yield return Case("budget ends before a fault in the block", [Mov64Imm(0, 1), Ldx(OpCode.DW, 0, 0, 0), Exit()], 1);
        yield return Case("budget ends at an ldimm64", [Mov64Imm(0, 1), .. LdImm64(0, 7), Exit()], 1);
        yield return Case("budget ends at a too-deep call", Chain(8), 8);
        yield return Case("budget ends in a callee after R10 write", [CallLocal(1), Exit(), Mov64Imm(10, 5), Mov64Imm(10, 6), Exit()], 2);
        yield return Case("budget ends in a callee after R11 write", [Mov64Imm(11, 4), CallLocal(1), Exit(), Mov64Imm(11, 5), Mov64Reg(0, 11), Call(1), Exit()], 4);

        // JMP32 and JMP sign handling.
        foreach (byte jop in new[] { OpCode.Jeq, OpCode.Jgt, OpCode.Jge, OpCode.Jset, OpCode.Jne, OpCode.Jsgt, OpCode.Jsge, OpCode.Jlt, OpCode.Jle, OpCode.Jslt, OpCode.Jsle })
        {
            foreach (ulong a in new ulong[] { 0, 1, 0xffff_ffff, 0x1_0000_0000, 0x8000_0000, 0xffff_ffff_8000_0000, 0x7fff_ffff_ffff_ffff })
            {
                foreach (int imm in new[] { 0, -1, int.MinValue, 1 })
                {
                    yield return Case($"jmp {jop:x2} {a:x} vs {imm}",
                        [.. LdImm64(1, a), Mov64Imm(0, 1), JmpImm(jop, 1, imm, 1), Mov64Imm(0, 2), Mov64Imm(2, imm), Jmp32Imm(jop, 1, imm, 1), Alu64Imm(OpCode.Add, 0, 10),
                            Jmp32Reg(jop, 1, 2, 1), Alu64Imm(OpCode.Add, 0, 100), JmpReg(jop, 1, 2, 1), Alu64Imm(OpCode.Add, 0, 1000), Exit()]);
                }
            }
        }
    }

    private static TestCaseData Case(string name, Instruction[] program, long budget = 1000)
        => new TestCaseData(program, budget).SetArgDisplayNames(name + $" (budget {budget})");

    /// <summary>A chain of calls <paramref name="depth"/> deep, each callee adding to R0 before and after.</summary>
    private static Instruction[] Chain(int depth)
    {
        var program = new List<Instruction> { Mov64Imm(0, 1) };
        for (int d = 0; d < depth; d++)
        {
            program.Add(Alu64Imm(OpCode.Mul, 0, 3));
            program.Add(St(OpCode.DW, 10, -8, d));
            program.Add(CallLocal(1));
            program.Add(Exit());
        }
        program.Add(Mov64Reg(1, 10));
        program.Add(Call(1));
        program.Add(Exit());
        return [.. program];
    }

    [TestCaseSource(nameof(EdgeCases))]
    public void EdgeCase_RunsAsOnTheInterpreter(Instruction[] program, long budget)
    {
        long from = Math.Min(budget, 0), to = Math.Min(budget, 40);
        AssertSame(program, [.. Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i), budget]);
    }

    /// <summary>Random programs over every register (R10–R15 included), exits in callees, ldimm64 second slots as targets.</summary>
    [Test]
    public void WideRandomPrograms_RunAsOnTheInterpreter()
    {
        const int programs = 1000;
        var random = new Randomizer(99);
        var stats = new Dictionary<string, int>();
        for (int n = 0; n < programs; n++)
        {
            var program = WideRandom.Program(random);
            long budget = random.Bool(0.5f) ? random.Int(0, 80) : 5_000;
            ulong seed2 = random.ULong();
            var interpreted = EngineRun.Of(program, budget, seed2, null);
            var jitted = EngineRun.Of(program, budget, seed2, CompiledProgram.Compile(program));
            Assert.That(jitted.ToString(), Is.EqualTo(interpreted.ToString()), $"program {n} (budget {budget}):\n{Disassembler.Dump(program)}");
            string key = interpreted.Fault?.ToString() ?? "exit";
            stats[key] = stats.GetValueOrDefault(key) + 1;
            stats["frames>1"] = stats.GetValueOrDefault("frames>1") + (interpreted.Frames > 1 ? 1 : 0);
            stats["calls"] = stats.GetValueOrDefault("calls") + (interpreted.Calls.Count > 0 ? 1 : 0);
        }
        TestContext.Out.WriteLine(string.Join(", ", stats.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
        // The generator must reach what it is for: exits, budgets running out, nested frames, calls, each kind of fault.
        Assert.Multiple(() =>
        {
            foreach (string key in new[] { "exit", "frames>1", "calls", nameof(FaultKind.InstructionBudgetExhausted), nameof(FaultKind.CallStackTooDeep),
                         nameof(FaultKind.InvalidMemoryAccess), nameof(FaultKind.JumpOutOfRange), nameof(FaultKind.InvalidInstruction) })
            {
                Assert.That(stats.GetValueOrDefault(key), Is.GreaterThan(programs / 100), key);
            }
        });
    }
}

internal static class WideRandom
{
    private static readonly byte[] s_sizes = [OpCode.B, OpCode.H, OpCode.W, OpCode.DW];

    public static Instruction[] Program(Randomizer random)
    {
        int length = random.Int(2, 30);
        var program = new List<Instruction>();
        while (program.Count < length)
        {
            program.AddRange(Instruction(random, program.Count, length));
        }
        if (random.Bool(0.8f))
        {
            program.Add(Ldx(OpCode.DW, 2, 10, (short)(-8 * random.Int(1, 3))));
            program.Add(Alu64Reg(OpCode.Xor, 0, 2));
            program.Add(Alu64Reg(OpCode.Add, 0, random.Int(0, 15)));
            program.Add(Alu64Reg(OpCode.Xor, 0, random.Int(0, 15)));
            program.Add(Exit());
        }
        return [.. program];
    }

    private static int Reg(Randomizer random) => random.WeightedRandom([random.Int(0, 9), 10, random.Int(11, 15)], [0.8f, 0.08f, 0.12f]);

    private static int Imm(Randomizer random) => random.WeightedRandom(
        [0, 1, -1, random.Int(-64, 64), random.Int(), int.MinValue, int.MaxValue, 8, 16, 32, 64],
        [0.1f, 0.1f, 0.1f, 0.3f, 0.2f, 0.04f, 0.04f, 0.03f, 0.03f, 0.03f, 0.03f]);

    private static IEnumerable<Instruction> Instruction(Randomizer random, int pc, int length)
    {
        int dst = Reg(random);
        int src = Reg(random);
        int choice = random.Int(0, 99);
        short near = (short)random.Int(-pc - 2, length - pc + 1);
        if (choice < 25)
        {
            byte op = (byte)(random.Int(0, 13) << 4);
            byte cls = random.Bool() ? OpCode.Alu64 : OpCode.Alu;
            short offset = (short)random.WeightedRandom([0, 1, 8, 16, 32, random.Int(-3, 40)], [0.6f, 0.1f, 0.08f, 0.08f, 0.08f, 0.06f]);
            int imm = op == OpCode.End ? random.ArrayElement([16, 32, 64, 8, 0]) : Imm(random);
            yield return new((byte)(cls | op | (random.Bool() ? OpCode.X : OpCode.K)), dst, src, offset, imm);
        }
        else if (choice < 42)
        {
            byte op = (byte)(random.ArrayElement([1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13]) << 4);
            byte cls = random.Bool() ? OpCode.Jmp : OpCode.Jmp32;
            yield return new((byte)(cls | op | (random.Bool() ? OpCode.X : OpCode.K)), dst, src, near, Imm(random));
        }
        else if (choice < 47)
        {
            yield return random.Bool(0.7f) ? Ja(near) : Gotol(near);
        }
        else if (choice < 60)
        {
            int @base = random.WeightedRandom([10, 1, src], [0.5f, 0.3f, 0.2f]);
            byte size = random.ArrayElement(s_sizes);
            short offset = (short)(@base == 10 ? random.Int(-520, 4) : random.Int(-4, 68));
            switch (random.Int(0, 3))
            {
                case 0: yield return Ldx(size, dst, @base, offset); break;
                case 1: yield return new((byte)(OpCode.Ldx | OpCode.MemSx | size), dst, @base, offset, 0); break;
                case 2: yield return St(size, @base, offset, Imm(random)); break;
                default: yield return Stx(size, @base, src, offset); break;
            }
        }
        else if (choice < 66)
        {
            int @base = random.Bool() ? 10 : 1;
            short offset = (short)(@base == 10 ? -8 * random.Int(1, 3) : 8 * random.Int(0, 7));
            int op = random.ArrayElement([0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x33, 0xf0]);
            yield return Atomic(random.Bool() ? OpCode.DW : OpCode.W, op, @base, random.Bool(0.3f) ? 0 : src, offset);
        }
        else if (choice < 73)
        {
            foreach (var insn in LdImm64(dst, random.ULong()))
            {
                yield return insn;
            }
        }
        else if (choice < 80)
        {
            yield return random.WeightedRandom([Call(1), Call(2), CallKfunc(0), Call(9), new(OpCode.Jmp | OpCode.Call, 0, 4, 0, 0)],
                [0.5f, 0.15f, 0.2f, 0.1f, 0.05f]);
        }
        else if (choice < 88)
        {
            yield return CallLocal(random.Bool(0.75f) ? random.Int(-1, Math.Max(0, length - pc)) : near);
        }
        else if (choice < 95)
        {
            yield return Exit();
        }
        else
        {
            yield return new((byte)random.Int(0, 255), dst, src, (short)random.Int(-4, 4), random.Int(-4, 64));
        }
    }
}
