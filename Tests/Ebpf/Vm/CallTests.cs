using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>Helper, kfunc and bpf-to-bpf calls: arguments, return values, frames and their limits.</summary>
[Category("Ebpf")]
public sealed class CallTests(VmEngine engine) : VmEngineFixture(engine)
{
    private static FunctionTable Table(int id, BpfFunction function)
    {
        var table = new FunctionTable();
        table.Add(id, "f", function);
        return table;
    }

    [Test]
    public void Helper_GetsR1ToR5AndReturnsInR0()
    {
        var helpers = Table(118, (ref RunContext _, ulong a, ulong b, ulong c, ulong d, ulong e) => a * 10000 + b * 1000 + c * 100 + d * 10 + e);
        ulong r0 = Run([Mov64Imm(1, 1), Mov64Imm(2, 2), Mov64Imm(3, 3), Mov64Imm(4, 4), Mov64Imm(5, 5), Call(118), Exit()], [], helpers);
        Assert.That(r0, Is.EqualTo(12345UL));
    }

    [Test]
    public void Helper_LeavesR1ToR5AsTheyWere()
    {
        var helpers = Table(5, (ref RunContext _, ulong a, ulong b, ulong c, ulong d, ulong e) => 0);
        ulong r0 = Run([Mov64Imm(1, 11), Mov64Imm(5, 15), Call(5), Mov64Reg(0, 1), Alu64Reg(OpCode.Add, 0, 5), Exit()], [], helpers);
        Assert.That(r0, Is.EqualTo(26UL));
    }

    [Test]
    public void Helper_SeesCallSiteAndCountSoFar()
    {
        int pc = -1;
        long executed = -1;
        var helpers = Table(7, (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) =>
        {
            pc = c.ProgramCounter;
            executed = c.InstructionsExecuted;
            return 0;
        });
        Run([Mov64Imm(1, 0), Mov64Imm(2, 0), Call(7), Exit()], [], helpers);
        Assert.That((pc, executed), Is.EqualTo((2, 3L)));
    }

    [Test]
    public void Helper_ReadsAndWritesThroughPointerArguments()
    {
        var helpers = Table(1, (ref RunContext c, ulong key, ulong b, ulong d, ulong e, ulong f) =>
        {
            ulong k = c.Load(key, 4);
            c.Store(key, 4, k * 2);
            return k;
        });
        ulong r0 = Run([St(OpCode.W, 10, -4, 21), Mov64Reg(1, 10), Alu64Imm(OpCode.Add, 1, -4), Call(1), Ldx(OpCode.W, 1, 10, -4),
            Alu64Reg(OpCode.Add, 0, 1), Exit()], [], helpers);
        Assert.That(r0, Is.EqualTo(63UL));
    }

    [Test]
    public void Helper_BadPointer_FaultsAtTheCall()
    {
        var helpers = Table(1, (ref RunContext c, ulong key, ulong b, ulong d, ulong e, ulong f) => c.Load(key, 8));
        var fault = Fault([Mov64Reg(1, 10), Call(1), Exit()], helpers: helpers);
        Assert.That(fault.ProgramCounter, Is.EqualTo(1));
        Assert.That(fault.Message, Is.EqualTo("invalid indirect access to stack off=0 size=8"));
        Assert.That(fault.InstructionsExecuted, Is.EqualTo(2));
    }

    [Test]
    public void Helper_TransientRegion_IsValidForTheRunOnly()
    {
        var memory = new AddressSpace();
        var storage = new byte[16];
        storage[4] = 99;
        var helpers = Table(1, (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f)
            => AddressSpace.AddressOf(c.Memory.MapTransient(storage, 4, 8, RegionKind.MapValue, MemoryAccess.ReadWrite, "value")));
        ulong value = Run([Call(1), Ldx(OpCode.B, 0, 0, 0), Exit()], [], helpers, memory: memory);
        Assert.That(value, Is.EqualTo(99UL));
        ulong pointer = Run([Call(1), Exit()], [], helpers, memory: memory);
        Assert.That(Fault([Ldx(OpCode.B, 0, 1, 0), Exit()], [pointer], memory).Message, Does.StartWith("BUG: unable to handle page fault"));
    }

    [Test]
    public void UnknownHelper_FaultsWithKernelName()
    {
        var fault = Fault([Call(118), Exit()]);
        Assert.That(fault.Kind, Is.EqualTo(FaultKind.UnknownFunction));
        Assert.That(fault.Message, Is.EqualTo("invalid func bpf_jiffies64#118"));
    }

    [Test]
    public void Kfunc_IsCalledThroughKfuncTable()
    {
        var kfuncs = Table(3, (ref RunContext _, ulong a, ulong b, ulong c, ulong d, ulong e) => a + b);
        ulong r0 = Run([Mov64Imm(1, 40), Mov64Imm(2, 2), CallKfunc(3), Exit()], [], null, kfuncs);
        Assert.That(r0, Is.EqualTo(42UL));
    }

    [Test]
    public void BpfToBpfCall_ReturnsR0AndRestoresCallerRegisters()
    {
        // main: r1 = 5; r6 = 7; call f; r0 += r6; r0 += r1; exit
        // f:    r0 = r1; r0 *= 3; r6 = 100; r1 = 0; exit
        Instruction[] program =
        [
            Mov64Imm(1, 5), Mov64Imm(6, 7), CallLocal(3), Alu64Reg(OpCode.Add, 0, 6), Alu64Reg(OpCode.Add, 0, 1), Exit(),
            Mov64Reg(0, 1), Alu64Imm(OpCode.Mul, 0, 3), Mov64Imm(6, 100), Mov64Imm(1, 0), Exit(),
        ];
        Assert.That(Run(program), Is.EqualTo(15UL + 7 + 5));
    }

    [Test]
    public void BpfToBpfCall_GetsItsOwnFrameAndCanUseCallerStackThroughPointer()
    {
        // main: *(fp-8) = 1; r1 = fp-8; call f; r0 = *(fp-8); exit
        // f:    *(fp-8) = 50 (own frame); r2 = *(fp-8); *(r1+0) += r2 via load/add/store; exit
        Instruction[] program =
        [
            St(OpCode.DW, 10, -8, 1), Mov64Reg(1, 10), Alu64Imm(OpCode.Add, 1, -8), CallLocal(2), Ldx(OpCode.DW, 0, 10, -8), Exit(),
            St(OpCode.DW, 10, -8, 50), Ldx(OpCode.DW, 2, 10, -8), Ldx(OpCode.DW, 3, 1, 0), Alu64Reg(OpCode.Add, 3, 2), Stx(OpCode.DW, 1, 3, 0), Exit(),
        ];
        Assert.That(Run(program), Is.EqualTo(51UL));
    }

    /// <summary>A chain of <paramref name="frames"/> frames: each function calls the next until the last returns 1.</summary>
    private static Instruction[] Chain(int frames)
    {
        var program = new List<Instruction>();
        for (int i = 0; i < frames - 1; i++)
        {
            program.Add(CallLocal(1));
            program.Add(Exit());
        }
        program.Add(Mov64Imm(0, 1));
        program.Add(Exit());
        return [.. program];
    }

    [Test]
    public void CallDepthOfEight_Runs()
    {
        var context = new RunContext(new AddressSpace());
        Assert.That(TestVm.Execute(Chain(8), ref context, []), Is.EqualTo(1UL));
        Assert.That(context.MaxFrames, Is.EqualTo(8));
    }

    [Test]
    public void CallDepthOfNine_Faults()
    {
        var fault = Fault(Chain(9));
        Assert.That(fault.Kind, Is.EqualTo(FaultKind.CallStackTooDeep));
        Assert.That(fault.Message, Is.EqualTo("the call stack of 9 frames is too deep"));
        Assert.That(fault.ProgramCounter, Is.EqualTo(14));
    }

    [Test]
    public void ReentrantRun_OnSameAddressSpace_IsRefused()
    {
        var memory = new AddressSpace();
        var helpers = Table(1, (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) =>
        {
            var inner = new RunContext(c.Memory);
            return TestVm.Execute([Exit()], ref inner, []);
        });
        Assert.Throws<InvalidOperationException>(() => Run([Call(1), Exit()], [], helpers, memory: memory));
        Assert.That(memory.IsRunning, Is.False);
    }
}
