using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp.Btf;

/// <summary>
/// CO-RE against bpfsim's kernel BTF, every kind, with local types built here as a BPF object would carry them.
/// Expected values are worked out by hand from TcpSock's layout (checked in TcpKernelTypesTests): snd_cwnd at 0,
/// snd_ssthresh at 4, sk_pacing_rate at 160, icsk_ca_state bits 0-4 of byte 173, is_cwnd_limited bit 0 of byte 175,
/// icsk_ca_priv at 184, sk_max_pacing_rate at 288, sizeof(struct tcp_sock) 304.
/// </summary>
[Category("Ebpf")]
public sealed class TcpCoreRelocationTests
{
    private static readonly BtfSpec s_kernel = KernelBtf.Build([new TcpKernelTypes()]);
    private static readonly CoreRelocator s_relocator = new(s_kernel);

    /// <summary>A local BTF: what a program compiled against its own small declarations carries.</summary>
    private sealed class Local
    {
        public KernelBtfBuilder B { get; } = new();

        public uint Struct(string name, uint size, params BtfMember[] members) => B.Define(new BtfComposite(name, false, size, members));

        public CoreResult Resolve(uint type, string access, CoreReloKind kind) => s_relocator.Resolve(new CoreRelocation(B.Build(), type, access, kind));
    }

    private static Local WithTcpSock(out uint tcpSock)
    {
        var l = new Local();
        uint u32 = l.B.Type("u32");
        tcpSock = l.Struct("tcp_sock___local", 8, KernelBtfBuilder.Member("snd_cwnd", u32, 0), KernelBtfBuilder.Member("snd_ssthresh", u32, 4));
        return l;
    }

    [Test]
    public void FieldByteOffset_FlavoredLocalStruct_FindsKernelTcpSockThroughAnonymousMembers()
    {
        var l = WithTcpSock(out uint tp);
        var r = l.Resolve(tp, "0:1", CoreReloKind.FieldByteOffset);
        Assert.That((r.Value, r.Poison, r.OriginalValue), Is.EqualTo((4UL, false, 4UL)));
        Assert.That(r.Message, Does.Contain("tcp_sock.snd_ssthresh"));
        Assert.That(l.Resolve(tp, "0:0", CoreReloKind.FieldByteOffset).Value, Is.Zero);
    }

    [Test]
    public void FieldByteOffset_KernelNestingPath_ReachesSkPacingRate()
    {
        var l = new Local();
        uint sock = l.Struct("sock", 8, KernelBtfBuilder.Member("sk_pacing_rate", l.B.Int("long unsigned int"), 0));
        uint inet = l.Struct("inet_sock", 8, KernelBtfBuilder.Member("sk", sock, 0));
        uint icsk = l.Struct("inet_connection_sock", 8, KernelBtfBuilder.Member("icsk_inet", inet, 0));
        uint tp = l.Struct("tcp_sock", 8, KernelBtfBuilder.Member("inet_conn", icsk, 0));
        var r = l.Resolve(tp, "0:0:0:0:0", CoreReloKind.FieldByteOffset);
        Assert.That(r.Value, Is.EqualTo(160UL));
        Assert.That(l.Resolve(tp, "0:0:0:0:0", CoreReloKind.FieldByteSize).Value, Is.EqualTo(8UL));
    }

    [Test]
    public void FieldByteOffset_ArrayElement_OfIcskCaPriv()
    {
        var l = new Local();
        uint u64 = l.B.Type("u64");
        uint icsk = l.Struct("inet_connection_sock", 104, KernelBtfBuilder.Member("icsk_ca_priv", l.B.Array(u64, 13), 0));
        Assert.That(l.Resolve(icsk, "0:0:2", CoreReloKind.FieldByteOffset).Value, Is.EqualTo(184UL + 16));
        Assert.That(l.Resolve(icsk, "0:0:2", CoreReloKind.FieldByteSize).Value, Is.EqualTo(8UL));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldByteSize).Value, Is.EqualTo(104UL));
    }

    [Test]
    public void Bitfield_IcskCaState_GivesTheKernelsLoadAndShifts()
    {
        var l = new Local();
        uint u8 = l.B.Type("__u8");
        // The kernel's own declaration: icsk_ca_state:5 at some offset of the local struct.
        uint icsk = l.Struct("inet_connection_sock", 2, KernelBtfBuilder.Bitfield("icsk_ca_state", u8, 8, 5));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldByteOffset).Value, Is.EqualTo(173UL));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldByteSize).Value, Is.EqualTo(1UL));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldLShiftU64).Value, Is.EqualTo(64UL - 5));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldRShiftU64).Value, Is.EqualTo(64UL - 5));
        Assert.That(l.Resolve(icsk, "0:0", CoreReloKind.FieldSigned).Value, Is.Zero);
        var offset = l.Resolve(icsk, "0:0", CoreReloKind.FieldByteOffset);
        Assert.That(offset.Validate, Is.False, "a bitfield's load is the compiler's choice, so it is not checked");
    }

    [Test]
    public void Bitfield_IsCwndLimited_IsBitZeroOfItsByte()
    {
        var l = new Local();
        uint tp = l.Struct("tcp_sock", 4, KernelBtfBuilder.Bitfield("is_cwnd_limited", l.B.Type("u8"), 29, 1));
        Assert.That(l.Resolve(tp, "0:0", CoreReloKind.FieldByteOffset).Value, Is.EqualTo(175UL));
        Assert.That(l.Resolve(tp, "0:0", CoreReloKind.FieldLShiftU64).Value, Is.EqualTo(63UL));
        Assert.That(l.Resolve(tp, "0:0", CoreReloKind.FieldRShiftU64).Value, Is.EqualTo(63UL));
    }

    [Test]
    public void FieldSigned_RttUsOfAckSample_IsSigned()
    {
        var l = new Local();
        uint sample = l.Struct("ack_sample", 8, KernelBtfBuilder.Member("pkts_acked", l.B.Type("u32"), 0),
            KernelBtfBuilder.Member("rtt_us", l.B.Type("s32"), 4));
        Assert.That(l.Resolve(sample, "0:1", CoreReloKind.FieldSigned).Value, Is.EqualTo(1UL));
        Assert.That(l.Resolve(sample, "0:0", CoreReloKind.FieldSigned).Value, Is.Zero);
    }

    [Test]
    public void MissingField_PoisonsAccess_AndExistsIsZero()
    {
        var l = new Local();
        uint tp = l.Struct("tcp_sock___new", 8, KernelBtfBuilder.Member("bytes_acked", l.B.Type("u64"), 0));
        var offset = l.Resolve(tp, "0:0", CoreReloKind.FieldByteOffset);
        Assert.That(offset.Poison, Is.True);
        Assert.That(offset.Message, Does.Contain("no matching target"));
        var exists = l.Resolve(tp, "0:0", CoreReloKind.FieldExists);
        Assert.That((exists.Value, exists.Poison, exists.OriginalValue), Is.EqualTo((0UL, false, 1UL)));
        var present = WithTcpSock(out uint local).Resolve(local, "0:0", CoreReloKind.FieldExists);
        Assert.That(present.Value, Is.EqualTo(1UL));
    }

    [Test]
    public void IncompatibleFieldType_DoesNotMatch()
    {
        var l = new Local();
        // snd_cwnd as a struct: names match, types do not (bpf_core_fields_are_compat), so the field is missing.
        uint inner = l.Struct("wrapper", 4, KernelBtfBuilder.Member("v", l.B.Type("u32"), 0));
        uint tp = l.Struct("tcp_sock", 4, KernelBtfBuilder.Member("snd_cwnd", inner, 0));
        Assert.That(l.Resolve(tp, "0:0", CoreReloKind.FieldByteOffset).Poison, Is.True);
    }

    [Test]
    public void TypeKinds_TcpSock()
    {
        var l = WithTcpSock(out uint tp);
        Assert.That(l.Resolve(tp, "0", CoreReloKind.TypeExists).Value, Is.EqualTo(1UL));
        Assert.That(l.Resolve(tp, "0", CoreReloKind.TypeSize).Value, Is.EqualTo(304UL));
        var target = l.Resolve(tp, "0", CoreReloKind.TypeIdTarget);
        Assert.That((target.Value, target.Validate), Is.EqualTo(((ulong)s_kernel.Find("tcp_sock", BtfKind.Struct)!.Value, false)));
        var localId = l.Resolve(tp, "0", CoreReloKind.TypeIdLocal);
        Assert.That(localId.Value, Is.EqualTo((ulong)tp));
        var missing = new Local();
        uint nope = missing.Struct("task_struct", 4, KernelBtfBuilder.Member("pid", missing.B.Type("int"), 0));
        Assert.That(missing.Resolve(nope, "0", CoreReloKind.TypeExists).Value, Is.Zero);
        Assert.That(missing.Resolve(nope, "0", CoreReloKind.TypeSize).Poison, Is.False, "type kinds resolve to 0, never poison");
        Assert.Throws<CoreRelocationException>(() => l.Resolve(tp, "0:1", CoreReloKind.TypeSize));
    }

    [Test]
    public void TypeMatches_ChecksNamesSizesAndSigns()
    {
        var l = new Local();
        uint good = l.Struct("ack_sample", 8, KernelBtfBuilder.Member("pkts_acked", l.B.Type("u32"), 0), KernelBtfBuilder.Member("rtt_us", l.B.Type("s32"), 4));
        Assert.That(l.Resolve(good, "0", CoreReloKind.TypeMatches).Value, Is.EqualTo(1UL));
        var m = new Local();
        uint bad = m.Struct("ack_sample___u", 8, KernelBtfBuilder.Member("rtt_us", m.B.Type("u32"), 0));
        Assert.That(m.Resolve(bad, "0", CoreReloKind.TypeMatches).Value, Is.Zero, "rtt_us is signed in the kernel");
        var e = new Local();
        uint state = e.B.Enum("tcp_ca_state", ("TCP_CA_Open", 0), ("TCP_CA_Loss", 9));
        Assert.That(e.Resolve(state, "0", CoreReloKind.TypeMatches).Value, Is.EqualTo(1UL), "enumerators match by name, not value");
    }

    [Test]
    public void Enumval_ExistsAndValue_AndAMissingOnePoisons()
    {
        var l = new Local();
        uint ev = l.B.Enum("tcp_ca_event___local", ("CA_EVENT_ECN_IS_CE", 99), ("CA_EVENT_FROM_THE_FUTURE", 7));
        var value = l.Resolve(ev, "0", CoreReloKind.EnumvalValue);
        Assert.That((value.Value, value.OriginalValue), Is.EqualTo((5UL, 99UL)));
        Assert.That(l.Resolve(ev, "0", CoreReloKind.EnumvalExists).Value, Is.EqualTo(1UL));
        Assert.That(l.Resolve(ev, "1", CoreReloKind.EnumvalExists).Value, Is.Zero);
        Assert.That(l.Resolve(ev, "1", CoreReloKind.EnumvalValue).Poison, Is.True);
        Assert.Throws<CoreRelocationException>(() => l.Resolve(ev, "2", CoreReloKind.EnumvalValue), "index past the enum");
    }

    [Test]
    public void SizeChange_UnsignedLoadIsResized_SignedIsPoisoned()
    {
        var l = new Local();
        uint tp = l.Struct("tcp_sock", 16, KernelBtfBuilder.Member("snd_cwnd", l.B.Type("u64"), 0), KernelBtfBuilder.Member("snd_ssthresh", l.B.Type("s64"), 8));
        var unsignedField = l.Resolve(tp, "0:0", CoreReloKind.FieldByteOffset);
        Assert.That((unsignedField.OriginalSize, unsignedField.NewSize, unsignedField.FailMemSizeAdjust), Is.EqualTo((8u, 4u, false)));
        Instruction[] insns = [new(0x79, 1, 1, 0, 0)]; // r1 = *(u64 *)(r1 + 0)
        CoreRelocator.Apply(insns, 0, unsignedField);
        Assert.That(insns[0], Is.EqualTo(new Instruction(0x61, 1, 1, 0, 0)), "r1 = *(u32 *)(r1 + 0)");

        var signedField = l.Resolve(tp, "0:1", CoreReloKind.FieldByteOffset);
        Assert.That(signedField.FailMemSizeAdjust, Is.True);
        Instruction[] load = [new(0x79, 2, 1, 8, 0)];
        CoreRelocator.Apply(load, 0, signedField);
        Assert.That(load[0], Is.EqualTo(new Instruction(0x85, 0, 0, 0, CoreRelocator.PoisonHelper)));
    }

    [Test]
    public void Apply_PatchesAluLdxStoreAndLdImm64()
    {
        var l = WithTcpSock(out uint tp);
        var r = l.Resolve(tp, "0:1", CoreReloKind.FieldByteOffset); // 4 -> 4 locally; use the pacing path for a change
        Instruction[] alu = [new(0x07, 1, 0, 0, 4)]; // r1 += 4
        CoreRelocator.Apply(alu, 0, r);
        Assert.That(alu[0].Imm, Is.EqualTo(4));

        var moved = new CoreResult(160, false, "") { OriginalValue = 8 };
        Instruction[] ldx = [new(0x79, 0, 1, 8, 0)];
        CoreRelocator.Apply(ldx, 0, moved);
        Assert.That(ldx[0], Is.EqualTo(new Instruction(0x79, 0, 1, 160, 0)));
        Instruction[] st = [new(0x62, 1, 0, 8, 7)]; // *(u32 *)(r1 + 8) = 7
        CoreRelocator.Apply(st, 0, moved);
        Assert.That(st[0].Offset, Is.EqualTo(160));
        Instruction[] ld = [new(0x18, 1, 0, 0, 8), new(0, 0, 0, 0, 0)];
        CoreRelocator.Apply(ld, 0, new CoreResult(0x1_0000_00a0, false, "") { OriginalValue = 8 });
        Assert.That((ld[0].Imm, ld[1].Imm), Is.EqualTo((0xa0, 1)));
    }

    [Test]
    public void Apply_Poison_RewritesToCallBadRelo_BothHalvesOfLdImm64()
    {
        var poison = new CoreResult(0, true, "missing");
        Instruction[] ld = [new(0x18, 1, 0, 0, 3), new(0, 0, 0, 0, 0), new(0x95, 0, 0, 0, 0)];
        CoreRelocator.Apply(ld, 0, poison);
        Assert.That(ld[0], Is.EqualTo(new Instruction(0x85, 0, 0, 0, 195896080)));
        Assert.That(ld[1], Is.EqualTo(new Instruction(0x85, 0, 0, 0, 195896080)));
        Assert.That(ld[2].Opcode, Is.EqualTo(0x95), "exit untouched");
    }

    [Test]
    public void Apply_RefusesWhatLibbpfRefuses()
    {
        var r = new CoreResult(160, false, "") { OriginalValue = 8 };
        Assert.Throws<CoreRelocationException>(() => CoreRelocator.Apply(new Instruction[] { new(0x0f, 1, 2, 0, 0) }, 0, r), "ALU with a register source");
        Assert.Throws<CoreRelocationException>(() => CoreRelocator.Apply(new Instruction[] { new(0x07, 1, 0, 0, 9) }, 0, r), "imm is not the local value");
        Assert.Throws<CoreRelocationException>(() => CoreRelocator.Apply(new Instruction[] { new(0x05, 0, 0, 8, 0) }, 0, r), "a jump");
        Assert.Throws<CoreRelocationException>(() => CoreRelocator.Apply(new Instruction[] { new(0x79, 0, 1, 8, 0) }, 0,
            r with { Value = 40000 }), "offset beyond s16");
        Assert.DoesNotThrow(() => CoreRelocator.Apply(new Instruction[] { new(0x07, 1, 0, 0, 9) }, 0, r with { Validate = false }));
    }
}
