using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Vm;
using Bogus;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// An XDP program's packet accesses, checked at load as the 6.12 verifier does (kernel/bpf/verifier.c): ctx-&gt;data
/// proves nothing (r=0); a 64-bit comparison of data + N with data_end proves N bytes (N + 1 when strict towards the
/// end) on the edge where it holds (try_match_pkt_pointers, find_good_pkt_pointers); an access beyond is EACCES
/// (check_packet_access). Hand-assembled programs.
/// </summary>
public sealed class PacketBoundsTests
{
    private static BpfResult Check(params Instruction[] body) =>
        ProgramChecks.Check("xdp_prog", [.. body, Mov64Imm(0, 2), Exit()], null, XdpBytecodeSupport.Instance, new FunctionTable());

    /// <summary>As <see cref="Check"/>, with a frozen .rodata whose 4 bytes at 0x1000 hold <paramref name="value"/>.</summary>
    private static BpfResult CheckWithRodata(uint value, params Instruction[] body) =>
        ProgramChecks.Check("xdp_prog", [.. body, Mov64Imm(0, 2), Exit()], null, XdpBytecodeSupport.Instance, new FunctionTable(),
            readOnlyData: (ulong address, int size, out ulong v) =>
            {
                v = value;
                return address == 0x1000 && size == 4;
            });

    private static void AssertOutside(BpfResult r, long off, int size, int reg, int range, int insn)
    {
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES), r.Reason);
        Assert.That(r.Reason, Does.EndWith(
            $"prog 'xdp_prog': invalid access to packet, off={off} size={size}, R{reg}(id=0,off={off},r={range}): R{reg} offset is outside of the packet (insn {insn})"));
    }

    /// <summary>r2 = data_end; r1 = data; r3 = data + <paramref name="n"/>: the start of every case.</summary>
    private static Instruction[] Pointers(int n) =>
    [
        Ldx(OpCode.W, 2, 1, 4),
        Ldx(OpCode.W, 1, 1, 0),
        Mov64Reg(3, 1),
        Alu64Imm(OpCode.Add, 3, n),
    ];

    [Test]
    public void IpProtocolReadAfterOnlyTheEthernetCheck_IsRefused_AsLinuxRefusesIt()
    {
        // clang-14 -O2 of: if (eth + 1 > data_end) return XDP_PASS; return ((u8 *)(eth + 1))[9] == 6 ? XDP_DROP : XDP_PASS;
        // Linux 6.18 (this machine's kernel, the program loaded and not attached) refuses it at insn 6 with these words.
        var r = Check(
            Mov64Imm(0, 2),
            Ldx(OpCode.W, 2, 1, 4),
            Ldx(OpCode.W, 1, 1, 0),
            Mov64Reg(3, 1),
            Alu64Imm(OpCode.Add, 3, 14),
            JmpReg(OpCode.Jgt, 3, 2, 4),
            Ldx(OpCode.B, 1, 1, 23),
            Mov64Imm(0, 1),
            JmpImm(OpCode.Jeq, 1, 6, 1),
            Mov64Imm(0, 2));
        AssertOutside(r, 23, 1, 1, 14, 6);
    }

    [Test]
    public void ReadsWithinTheCheckedHeader_AreAccepted()
    {
        Assert.That(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 2), Ldx(OpCode.H, 4, 1, 12), Ldx(OpCode.B, 4, 1, 0)]).IsOk);
        // Through the end pointer itself, at negative offsets from it.
        Assert.That(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 1), Ldx(OpCode.H, 4, 3, -2)]).IsOk);
    }

    [Test]
    public void ReadWithoutAnyCheck_IsRefusedWithRangeZero() =>
        AssertOutside(Check(Ldx(OpCode.W, 2, 1, 4), Ldx(OpCode.W, 1, 1, 0), Ldx(OpCode.B, 4, 1, 0)), 0, 1, 1, 0, 2);

    [Test]
    public void StoreBeyondTheCheck_IsRefused_WithinIsAccepted()
    {
        AssertOutside(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 1), St(OpCode.W, 1, 12, 0)]), 12, 4, 1, 14, 5);
        Assert.That(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 1), St(OpCode.H, 1, 12, 0)]).IsOk);
    }

    /// <summary>
    /// The eight comparisons and the edge each proves on (try_match_pkt_pointers): strict towards the end (pkt &lt; end,
    /// end &gt; pkt) proves one byte more.
    /// </summary>
    [TestCase(OpCode.Jgt, true, false, 14)]  // pkt > end: fall-through pkt <= end
    [TestCase(OpCode.Jlt, true, true, 15)]   // pkt < end
    [TestCase(OpCode.Jge, true, false, 15)]  // pkt >= end: fall-through pkt < end
    [TestCase(OpCode.Jle, true, true, 14)]   // pkt <= end
    [TestCase(OpCode.Jgt, false, true, 15)]  // end > pkt
    [TestCase(OpCode.Jlt, false, false, 14)] // end < pkt: fall-through end >= pkt
    [TestCase(OpCode.Jge, false, true, 14)]  // end >= pkt
    [TestCase(OpCode.Jle, false, false, 15)] // end <= pkt: fall-through end > pkt
    public void EachComparison_ProvesItsRange_OnItsEdgeOnly(byte op, bool packetFirst, bool onTaken, int range)
    {
        var compare = packetFirst ? JmpReg(op, 3, 2, 2) : JmpReg(op, 2, 3, 2);
        // The jump goes to insn 7; the fall-through runs insns 5–6 and leaves through a jump over the taken edge's read.
        Instruction[] Program(short offset, bool readOnTaken) =>
        [
            .. Pointers(14),
            compare,
            readOnTaken ? Mov64Imm(4, 0) : Ldx(OpCode.B, 4, 1, offset),
            Ja(1),
            readOnTaken ? Ldx(OpCode.B, 4, 1, offset) : Mov64Imm(4, 0),
        ];
        int readAt = onTaken ? 7 : 5;
        Assert.That(Check(Program((short)(range - 1), onTaken)).IsOk, "the last proven byte");
        AssertOutside(Check(Program((short)range, onTaken)), range, 1, 1, range, readAt);
        AssertOutside(Check(Program(0, !onTaken)), 0, 1, 1, 0, onTaken ? 5 : 7);
    }

    [Test]
    public void A32BitComparison_ProvesNothing() =>
        AssertOutside(Check([.. Pointers(14), Jmp32Reg(OpCode.Jgt, 3, 2, 1), Ldx(OpCode.B, 4, 1, 0)]), 0, 1, 1, 0, 5);

    [Test]
    public void ASpilledPacketPointer_KeepsItsRange()
    {
        // Spilled before the check, filled after: the range reaches the slot too (bpf_for_each_reg_in_vstate).
        Instruction[] body = [.. Pointers(14), Stx(OpCode.DW, 10, 1, -8), JmpReg(OpCode.Jgt, 3, 2, 2), Ldx(OpCode.DW, 5, 10, -8)];
        Assert.That(Check([.. body, Ldx(OpCode.H, 4, 5, 12)]).IsOk);
        AssertOutside(Check([.. body, Ldx(OpCode.W, 4, 5, 12)]), 12, 4, 5, 14, 7);
    }

    [Test]
    public void AnOffsetComputedInRegisters_IsKnown_AsTheVerifierKnowsConstants()
    {
        // r5 = 7; r5 <<= 1; r3 = data + r5 (14): the comparison proves 14 bytes.
        Instruction[] body = [Ldx(OpCode.W, 2, 1, 4), Ldx(OpCode.W, 1, 1, 0), Mov32Imm(5, 7), Alu64Imm(OpCode.Lsh, 5, 1), Mov64Reg(3, 1), Alu64Reg(OpCode.Add, 3, 5), JmpReg(OpCode.Jgt, 3, 2, 1)];
        Assert.That(Check([.. body, Ldx(OpCode.H, 4, 1, 12)]).IsOk);
        AssertOutside(Check([.. body, Ldx(OpCode.B, 4, 1, 14)]), 14, 1, 1, 14, 7);
    }

    [Test]
    public void ThroughTheComparedPointer_OnItsFailingEdge_IsEinval()
    {
        // if r3 > r2 goto +1: on the jump, r3 is beyond the end (mark_pkt_end); check_packet_access refuses any access
        // through it with EINVAL, whatever the offset.
        var r = Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 1), Ja(1), Ldx(OpCode.B, 4, 3, -1)]);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL), r.Reason);
        Assert.That(r.Reason, Does.EndWith("prog 'xdp_prog': R3 offset is outside of the packet (insn 6)"));
    }

    [Test]
    public void AComparisonAlreadyDecided_IsNotFollowed()
    {
        // r3 = data + 14; if r3 > r2 goto L; exit; L: if r3 <= r2 goto M (never: r3 is beyond the end there,
        // is_pkt_ptr_branch_taken); ...; M: a read of byte 20 the verifier never reaches.
        Instruction[] tail = [JmpReg(OpCode.Jle, 3, 2, 1), Ja(1), Ldx(OpCode.B, 4, 1, 20)];
        Assert.That(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 2), Mov64Imm(0, 2), Exit(), .. tail]).IsOk);
        // Without the first comparison M is reached, with the 14 bytes the second one proves.
        AssertOutside(Check([.. Pointers(14), .. tail]), 20, 1, 1, 14, 6);
    }

    [TestCase(0u, true)]
    [TestCase(1u, false)]
    public void ABranchOnAFrozenRodataConstant_FollowsOnlyItsEdge(uint parseIp, bool accepted)
    {
        // const volatile int parse_ip (at 0x1000 in .rodata): if (parse_ip) read byte 23 of a packet checked for 14.
        Instruction[] body =
        [
            .. Pointers(14),
            JmpReg(OpCode.Jgt, 3, 2, 5),
            .. LdImm64(5, 0x1000, Pseudo.MapValue),
            Ldx(OpCode.W, 5, 5, 0),
            JmpImm(OpCode.Jeq, 5, 0, 1),
            Ldx(OpCode.B, 4, 1, 23),
        ];
        var r = CheckWithRodata(parseIp, body);
        if (accepted)
        {
            Assert.That(r.IsOk, r.Reason);
            AssertOutside(Check(body), 23, 1, 1, 14, 9); // without the value, both edges are followed
        }
        else
        {
            AssertOutside(r, 23, 1, 1, 14, 9);
        }
    }

    [Test]
    public void AfterAdjustHead_AnOldPacketPointer_IsAScalar()
    {
        // clear_all_pkt_pointers: r6 (data, 14 bytes proven) is an unknown scalar after bpf_xdp_adjust_head.
        var r = Check([.. Pointers(14), Mov64Reg(6, 1), JmpReg(OpCode.Jgt, 3, 2, 3), Mov64Imm(2, 4), Call(XdpHelpers.XdpAdjustHead), Ldx(OpCode.B, 4, 6, 0)]);
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES), r.Reason);
        Assert.That(r.Reason, Does.EndWith("R6 invalid mem access 'scalar' (insn 8)"));
    }

    [Test]
    public void AtomicOnThePacket_IsEacces() =>
        Assert.That(Check([.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 2), Mov64Imm(4, 1), Atomic(OpCode.W, OpCode.Add, 1, 4, 0)]).Reason,
            Does.EndWith("BPF_ATOMIC stores into R1 pkt is not allowed (insn 6)"));

    [Test]
    public void EqualityWithTheEnd_AndAStrictComparisonAtOffsetZero_ProveNothing()
    {
        // try_match_pkt_pointers knows no JEQ/JNE; find_good_pkt_pointers ignores "data < data_end" (off 0, right-open).
        AssertOutside(Check([.. Pointers(14), JmpReg(OpCode.Jeq, 3, 2, 1), Ldx(OpCode.B, 4, 1, 0)]), 0, 1, 1, 0, 5);
        AssertOutside(Check([.. Pointers(14), JmpReg(OpCode.Jne, 3, 2, 1), Ja(1), Ldx(OpCode.B, 4, 1, 0)]), 0, 1, 1, 0, 6);
        AssertOutside(Check([.. Pointers(0), JmpReg(OpCode.Jlt, 3, 2, 1), Ja(1), Ldx(OpCode.B, 4, 1, 0)]), 0, 1, 1, 0, 6);
    }

    [Test]
    public void AFaultBehindABranchOnAValueTheWalkDoesNotKnow_IsLeftToRunTime()
    {
        // if (bpf_get_smp_processor_id() < 8192) skip; data[0]. The verifier knows the CPU id's range and never walks
        // the read; this walk does not know it, so it cannot tell the path is dead and refuses nothing there.
        Instruction[] Program(Instruction cpuOrField) =>
        [
            Mov64Reg(7, 1), .. Pointers(14), Mov64Reg(6, 1), cpuOrField, JmpImm(OpCode.Jlt, 0, 8192, 1), Ldx(OpCode.B, 4, 6, 0),
        ];
        Assert.That(Check(Program(Call(BaseHelpers.GetSmpProcessorId))).IsOk);
        // The same branch on a 4-byte field just read from xdp_md, whose range (0 to 2^32 - 1) is all the verifier knows
        // of it either: both edges are walked, and the read is refused.
        AssertOutside(Check(Program(Ldx(OpCode.W, 0, 7, 12))), 0, 1, 6, 0, 8);
    }

    [TestCase(255, true)]
    [TestCase(254, false)]
    public void ABranchAFreshByteCannotTake_IsNotFollowed(int bound, bool accepted)
    {
        // r0 = data[13]; if r0 > bound goto read-past-14. A byte is at most 255 (coerce_reg_to_size).
        Instruction[] body = [.. Pointers(14), JmpReg(OpCode.Jgt, 3, 2, 4), Ldx(OpCode.B, 0, 1, 13), JmpImm(OpCode.Jgt, 0, bound, 1), Ja(1), Ldx(OpCode.B, 4, 1, 14)];
        var r = Check(body);
        if (accepted)
        {
            Assert.That(r.IsOk, r.Reason);
        }
        else
        {
            AssertOutside(r, 14, 1, 1, 14, 8);
        }
    }

    /// <summary>
    /// Random header lengths, accesses and comparison forms: an access after a check of N bytes (the proving edge) is
    /// refused exactly when it ends past N.
    /// </summary>
    [TestCase(21)]
    [TestCase(22)]
    public void RandomChecksAndAccesses_RefusedExactlyPastTheProvenRange(int seed)
    {
        var faker = new Randomizer(seed);
        var sizes = new[] { (OpCode.B, 1), (OpCode.H, 2), (OpCode.W, 4), (OpCode.DW, 8) };
        int refused = 0, accepted = 0;
        for (int round = 0; round < 400; round++)
        {
            int n = faker.Number(1, 200);
            var (size, bytes) = faker.ArrayElement(sizes);
            int off = faker.Number(0, n + 8);
            // pkt > end (prove on the fall-through) or end >= pkt (prove on the jump): N bytes either way.
            bool viaTaken = faker.Bool();
            Instruction[] body = viaTaken
                ? [.. Pointers(n), JmpReg(OpCode.Jge, 2, 3, 1), Ja(1), Ldx(size, 4, 1, (short)off)]
                : [.. Pointers(n), JmpReg(OpCode.Jgt, 3, 2, 1), Ldx(size, 4, 1, (short)off)];
            var r = Check(body);
            if (off + bytes <= n)
            {
                Assert.That(r.IsOk, $"n={n} off={off} size={bytes}: {r.Reason}");
                accepted++;
            }
            else
            {
                AssertOutside(r, off, bytes, 1, n, body.Length - 1);
                refused++;
            }
        }
        Assert.That(refused, Is.GreaterThan(20));
        Assert.That(accepted, Is.GreaterThan(20));
    }
}
