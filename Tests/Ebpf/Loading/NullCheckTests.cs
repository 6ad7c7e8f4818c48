using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Vm;
using Bogus;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// The verifier's NULL rule (kernel/bpf/verifier.c, 6.12): bpf_map_lookup_elem returns PTR_TO_MAP_VALUE | PTR_MAYBE_NULL,
/// which may not be dereferenced (check_mem_access: "R&lt;n&gt; invalid mem access 'map_value_or_null'") nor moved by
/// arithmetic (adjust_ptr_min_max_vals: "... null-check it first") until a 64-bit comparison with 0 of it, or of any
/// copy of it in a register or a stack slot (mark_ptr_or_null_regs), has checked it. Hand-assembled XDP programs.
/// </summary>
public sealed class NullCheckTests
{
    /// <summary>The lookup every case starts with: key 0 on the stack at fp-4, r0 = bpf_map_lookup_elem(map, fp-4).</summary>
    private static readonly Instruction[] s_lookup =
    [
        Mov64Imm(1, 0),
        Stx(OpCode.W, 10, 1, -4),
        Mov64Reg(2, 10),
        Alu64Imm(OpCode.Add, 2, -4),
        .. LdImm64(1, 0, Pseudo.MapFd),
        Call(BaseHelpers.MapLookupElem),
    ];

    private const int AfterLookup = 7;

    private static BpfResult Check(params Instruction[] body) =>
        ProgramChecks.Check("xdp_prog", [.. s_lookup, .. body, Mov64Imm(0, 2), Exit()], null, XdpBytecodeSupport.Instance, new FunctionTable());

    private static void AssertInvalidAccess(BpfResult r, int reg, int insn)
    {
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES), r.Reason);
        Assert.That(r.Reason, Does.EndWith($"prog 'xdp_prog': R{reg} invalid mem access 'map_value_or_null' (insn {insn})"));
    }

    private static void AssertArithmetic(BpfResult r, int reg, int insn)
    {
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES), r.Reason);
        Assert.That(r.Reason, Does.EndWith($"prog 'xdp_prog': R{reg} pointer arithmetic on map_value_or_null prohibited, null-check it first (insn {insn})"));
    }

    [Test]
    public void LoadThroughTheUncheckedResult_IsEacces() =>
        AssertInvalidAccess(Check(Ldx(OpCode.DW, 1, 0, 0)), 0, AfterLookup);

    [Test]
    public void StoreAndAtomicThroughTheUncheckedResult_AreEacces()
    {
        AssertInvalidAccess(Check(St(OpCode.DW, 0, 8, 1)), 0, AfterLookup);
        AssertInvalidAccess(Check(Mov64Imm(1, 1), Stx(OpCode.DW, 0, 1, 0)), 0, AfterLookup + 1);
        AssertInvalidAccess(Check(Mov64Imm(1, 1), Atomic(OpCode.DW, OpCode.Add, 0, 1, 0)), 0, AfterLookup + 1);
    }

    [Test]
    public void ArithmeticOnTheUncheckedResult_IsEacces()
    {
        AssertArithmetic(Check(Alu64Imm(OpCode.Add, 0, 8)), 0, AfterLookup);
        // scalar += pointer: the message names the destination.
        AssertArithmetic(Check(Mov64Imm(3, 8), Alu64Reg(OpCode.Add, 3, 0)), 3, AfterLookup + 1);
        AssertArithmetic(Check(Mov64Imm(3, 8), Alu64Reg(OpCode.Add, 0, 3)), 0, AfterLookup + 1);
    }

    [TestCase(OpCode.Jeq)]
    [TestCase(OpCode.Jne)]
    public void A64BitTestWithZero_MakesItTheValueOnOneEdge_AndTheScalarZeroOnTheOther(byte op)
    {
        // if r0 ==/!= 0 goto +1; one load on the fall-through edge, one on the jump's.
        // JEQ: the fall-through is non-NULL; JNE: the jump is.
        Instruction[] Program(bool loadOnJump) =>
        [
            JmpImm(op, 0, 0, 2),
            loadOnJump ? Mov64Imm(1, 0) : Ldx(OpCode.DW, 1, 0, 0),
            Ja(1),
            loadOnJump ? Ldx(OpCode.DW, 1, 0, 0) : Mov64Imm(1, 0),
        ];
        bool nonNullOnJump = op == OpCode.Jne;
        Assert.That(Check(Program(nonNullOnJump)).IsOk, "through the value");
        var r = Check(Program(!nonNullOnJump));
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        // mark_ptr_or_null_regs made it a known 0: check_mem_access on a scalar.
        Assert.That(r.Reason, Does.EndWith($"R0 invalid mem access 'scalar' (insn {AfterLookup + (nonNullOnJump ? 1 : 3)})"));
    }

    [Test]
    public void TheUsualShape_ReturnOnNull_ThenUse_IsAccepted()
    {
        var r = Check(JmpImm(OpCode.Jeq, 0, 0, 3), Ldx(OpCode.DW, 1, 0, 0), Alu64Imm(OpCode.Add, 1, 1), Stx(OpCode.DW, 0, 1, 0));
        Assert.That(r.IsOk, r.Reason);
    }

    [Test]
    public void A32BitTest_DoesNotCheckIt()
    {
        // "these optimizations ... are related with pointer comparison which will never be JMP32"
        AssertInvalidAccess(Check(Jmp32Imm(OpCode.Jeq, 0, 0, 1), Ldx(OpCode.DW, 1, 0, 0)), 0, AfterLookup + 1);
    }

    [Test]
    public void ATestAgainstANonZeroConstant_DoesNotCheckIt() =>
        AssertInvalidAccess(Check(JmpImm(OpCode.Jeq, 0, 1, 1), Ldx(OpCode.DW, 1, 0, 0)), 0, AfterLookup + 1);

    [Test]
    public void CheckingACopy_ChecksTheOriginal_AndTheOtherWayRound()
    {
        Assert.That(Check(Mov64Reg(6, 0), JmpImm(OpCode.Jeq, 6, 0, 1), Ldx(OpCode.DW, 1, 0, 0)).IsOk);
        Assert.That(Check(Mov64Reg(6, 0), JmpImm(OpCode.Jeq, 0, 0, 1), Ldx(OpCode.DW, 1, 6, 0)).IsOk);
        AssertInvalidAccess(Check(Mov64Reg(6, 0), Ldx(OpCode.DW, 1, 6, 0)), 6, AfterLookup + 1);
    }

    [Test]
    public void ASpilledCopy_StaysUnchecked_UntilAnyCopyIsChecked()
    {
        // *(u64 *)(fp-16) = r0; r1 = *(u64 *)(fp-16): the fill is the same maybe-NULL pointer.
        AssertArithmetic(Check(Stx(OpCode.DW, 10, 0, -16), Ldx(OpCode.DW, 1, 10, -16), Alu64Imm(OpCode.Add, 1, 8)), 1, AfterLookup + 2);
        // Checked after the spill: the slot is checked with it.
        Assert.That(Check(Stx(OpCode.DW, 10, 0, -16), JmpImm(OpCode.Jeq, 0, 0, 2), Ldx(OpCode.DW, 1, 10, -16), Ldx(OpCode.DW, 1, 1, 0)).IsOk);
        // A 4-byte store over the slot leaves no pointer there to fill.
        Assert.That(Check(Stx(OpCode.DW, 10, 0, -16), St(OpCode.W, 10, -12, 0), Ldx(OpCode.DW, 1, 10, -16), Ldx(OpCode.DW, 1, 1, 0)).IsOk);
    }

    [Test]
    public void AStaticSubprogram_GetsTheCallersPointer_AndMustCheckIt()
    {
        // r1 = r0; call +2 (to the subprogram after the main exit); the subprogram loads through r1.
        Instruction[] unchecked_ = [Mov64Reg(1, 0), CallLocal(2), Mov64Imm(0, 2), Exit(), Ldx(OpCode.DW, 0, 1, 0), Exit()];
        AssertInvalidAccess(Check(unchecked_), 1, AfterLookup + 4);
        Instruction[] checked_ = [Mov64Reg(1, 0), CallLocal(2), Mov64Imm(0, 2), Exit(), Mov64Imm(0, 0), JmpImm(OpCode.Jeq, 1, 0, 1), Ldx(OpCode.DW, 0, 1, 0), Exit()];
        Assert.That(Check(checked_).IsOk);
    }

    [Test]
    public void ACheckInsideAStaticSubprogram_ChecksTheCallersCopy()
    {
        // r6 = r0; r1 = r0; call bump (if (!v) return -1; return 0); if r0 s< 0 exit; load through r6. The kernel marks
        // the caller's r6 when the callee tests r1 and drops the NULL path at the return; bpfsim stops following r6.
        Instruction[] program =
        [
            Mov64Reg(6, 0), Mov64Reg(1, 0), CallLocal(4), JmpImm(OpCode.Jslt, 0, 0, 1), Ldx(OpCode.DW, 2, 6, 0), Mov64Imm(0, 2), Exit(),
            Mov64Imm(0, -1), JmpImm(OpCode.Jeq, 1, 0, 1), Mov64Imm(0, 0), Exit(),
        ];
        Assert.That(Check(program).IsOk);
    }

    [Test]
    public void ALookupOnlyOnADeadBranch_IsNotChecked()
    {
        // r7 = 0; if r7 != 0 goto use: a known constant, so the verifier never reaches the load.
        Assert.That(Check(Mov64Imm(7, 0), JmpImm(OpCode.Jne, 7, 0, 1), Ja(1), Ldx(OpCode.DW, 1, 0, 0)).IsOk);
        AssertInvalidAccess(Check(Mov64Imm(7, 1), JmpImm(OpCode.Jne, 7, 0, 1), Ja(1), Ldx(OpCode.DW, 1, 0, 0)), 0, AfterLookup + 3);
    }

    [Test]
    public void AnotherCall_ReplacesR0_ButNotACalleeSavedCopy()
    {
        // r6 = r0; r0 = ktime_get_ns(): r0 is a scalar now, r6 still the unchecked pointer.
        AssertInvalidAccess(Check(Mov64Reg(6, 0), Call(BaseHelpers.KtimeGetNs), Ldx(OpCode.DW, 1, 6, 0)), 6, AfterLookup + 2);
        Assert.That(Check(Mov64Reg(6, 0), Call(BaseHelpers.KtimeGetNs), Mov64Reg(0, 6), JmpImm(OpCode.Jeq, 0, 0, 1), Ldx(OpCode.DW, 1, 6, 0)).IsOk);
    }

    [Test]
    public void BothPathsUnchecked_StillRefusedWhereTheyMeet()
    {
        // if r1 == 0 goto +1 (r1 unknown: a context field); r3 = 1; then the paths meet and load through r0.
        var r = Check(Ldx(OpCode.W, 1, 1, 0), JmpImm(OpCode.Jeq, 1, 0, 1), Mov64Imm(3, 1), Ldx(OpCode.DW, 4, 0, 0));
        AssertInvalidAccess(r, 0, AfterLookup + 3);
    }

    /// <summary>
    /// Random chains of copies of the lookup's result through registers R6–R9 and stack slots, with unrelated scalar work
    /// between, then a load through one copy: refused exactly when no copy was compared with 0 on 64 bits before it.
    /// </summary>
    [TestCase(11)]
    [TestCase(12)]
    [TestCase(13)]
    public void RandomCopyChains_RefusedExactlyWhenNoCopyWasChecked(int seed)
    {
        var faker = new Randomizer(seed);
        int refused = 0, accepted = 0;
        for (int round = 0; round < 300; round++)
        {
            var body = new List<Instruction>();
            var holders = new List<(bool Slot, int Where)> { (false, 0) };
            bool checkedYet = false;
            int steps = faker.Number(0, 8);
            for (int k = 0; k < steps; k++)
            {
                var from = faker.ListItem(holders);
                int choice = faker.Number(0, 4);
                if (choice == 0)
                {
                    int reg = faker.Number(6, 9);
                    body.Add(from.Slot ? Ldx(OpCode.DW, reg, 10, (short)from.Where) : Mov64Reg(reg, from.Where));
                    holders.RemoveAll(h => !h.Slot && h.Where == reg);
                    holders.Add((false, reg));
                }
                else if (choice == 1 && !from.Slot)
                {
                    short slot = (short)(-8 * faker.Number(2, 6));
                    body.Add(Stx(OpCode.DW, 10, from.Where, slot));
                    holders.RemoveAll(h => h.Slot && h.Where == slot);
                    holders.Add((true, slot));
                }
                else if (choice == 2 && !from.Slot && faker.Bool(0.3f))
                {
                    body.Add(JmpImm(faker.Bool() ? OpCode.Jeq : OpCode.Jne, from.Where, 0, 0)); // a test that jumps to the next insn either way
                    checkedYet = true;
                }
                else
                {
                    // Unrelated scalar work in R1–R5 (R0 keeps the result throughout).
                    body.Add(Alu64Imm(faker.ArrayElement(new[] { OpCode.Add, OpCode.Xor, OpCode.Mul }), faker.Number(1, 5), faker.Int()));
                }
            }
            int useReg = faker.ListItem(holders.Where(h => !h.Slot).ToList()).Where;
            body.Add(Ldx(OpCode.DW, 1, useReg, 0));

            var r = Check([.. body]);
            if (checkedYet)
            {
                Assert.That(r.IsOk, $"round {round}: {r.Reason}");
                accepted++;
            }
            else
            {
                AssertInvalidAccess(r, useReg, AfterLookup + body.Count - 1);
                refused++;
            }
        }
        Assert.That(refused, Is.GreaterThan(20), "chains with no check");
        Assert.That(accepted, Is.GreaterThan(20), "chains with a check");
    }
}
