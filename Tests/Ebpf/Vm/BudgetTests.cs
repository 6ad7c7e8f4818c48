using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>The instruction budget and the counters of a run, and faults for instructions the set does not define.</summary>
[Category("Ebpf")]
public sealed class BudgetTests(VmEngine engine) : VmEngineFixture(engine)
{
    [Test]
    public void InfiniteLoop_ExhaustsBudget()
    {
        var fault = Assert.Throws<BpfFault>(() => RunLoop(1000))!;
        Assert.That(fault.Kind, Is.EqualTo(FaultKind.InstructionBudgetExhausted));
        Assert.That(fault.Message, Is.EqualTo("BPF program is too large. Processed 1001 insn"));
        Assert.That(fault.InstructionsExecuted, Is.EqualTo(1000));
    }

    private static void RunLoop(long budget)
    {
        var context = new RunContext(new AddressSpace()) { InstructionBudget = budget };
        TestVm.Execute([Mov64Imm(0, 0), Ja(-2)], ref context, []);
    }

    [Test]
    public void DefaultBudget_IsTheVerifiersMillion()
        => Assert.That(Fault([Ja(-1)]).InstructionsExecuted, Is.EqualTo(1_000_000));

    [Test]
    public void ProgramUsingExactlyTheBudget_Completes()
        => Assert.That(Run([Mov64Imm(0, 3), Exit()], [], budget: 2), Is.EqualTo(3UL));

    [Test]
    public void InstructionsExecuted_CountsLdImm64AsOne()
    {
        var context = new RunContext(new AddressSpace());
        TestVm.Execute([.. Insn.LdImm64(0, 1), Mov64Imm(1, 3), Alu64Imm(OpCode.Sub, 1, 1), JmpImm(OpCode.Jne, 1, 0, -2), Exit()], ref context, []);
        Assert.That(context.InstructionsExecuted, Is.EqualTo(1 + 1 + 3 * 2 + 1));
    }

    [Test]
    public void UnknownOpcode_Faults()
    {
        var fault = Fault([new Instruction(0x8c, 0, 0, 0, 0), Exit()]);
        Assert.That(fault.Kind, Is.EqualTo(FaultKind.InvalidInstruction));
        Assert.That(fault.Message, Is.EqualTo("unknown opcode 8c"));
    }

    [Test]
    public void LegacyPacketLoad_Faults()
        => Assert.That(Fault([new Instruction(OpCode.Ld | OpCode.Abs | OpCode.W, 0, 0, 0, 0), Exit()]).Message,
            Is.EqualTo("BPF_LD_[ABS|IND] instructions not allowed for this program type"));

    [Test]
    public void TruncatedLdImm64_Faults()
        => Assert.That(Fault([Insn.LdImm64(0, 1)[0]]).Message, Is.EqualTo("invalid bpf_ld_imm64 insn"));
}
