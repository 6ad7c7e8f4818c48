using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Tests.Ebpf.Btf;

public sealed class BtfReaderWriterTests
{
    private static IEnumerable<string> Objects => TestObjects.Names;

    [TestCaseSource(nameof(Objects))]
    public void WriteThenRead_ObjectBtf_GivesEqualSpec(string name)
    {
        var original = BtfReader.Read(TestObjects.Section(TestObjects.Bytes(name), ".BTF"));
        var again = BtfReader.Read(BtfWriter.Write(original));
        Assert.That(Describe(again), Is.EqualTo(Describe(original)));
    }

    [Test]
    public void Read_Bitfields_DecodesKindFlagMemberOffsets()
    {
        var btf = BtfReader.Read(TestObjects.Section(TestObjects.Bytes("tcp_ca_full"), ".BTF"));
        var icsk = (BtfComposite)btf[btf.Find("inet_connection_sock", BtfKind.Struct)!.Value];
        var state = icsk.Members.Single(m => m.Name == "icsk_ca_state");
        var initialized = icsk.Members.Single(m => m.Name == "icsk_ca_initialized");
        Assert.Multiple(() =>
        {
            Assert.That(state.BitfieldSize, Is.EqualTo(5));
            Assert.That(initialized.BitfieldSize, Is.EqualTo(1));
            Assert.That(initialized.BitOffset, Is.EqualTo(state.BitOffset + 5));
            Assert.That(icsk.Members.Single(m => m.Name == "icsk_rto").BitfieldSize, Is.Zero);
        });
    }

    [Test]
    public void WriteThenRead_HandBuiltSpec_KeepsEveryKind()
    {
        var spec = new BtfSpec(
        [
            new BtfInt("int", 4, BtfIntEncoding.Signed, 0, 32),
            new BtfPtr(1),
            new BtfArray(1, 1, 4),
            new BtfComposite("s", false, 8, [new BtfMember("a", 1, 0, 3), new BtfMember("b", 1, 3, 5)]),
            new BtfEnum("e", 4, true, false, [new BtfEnumValue("NEG", -1), new BtfEnumValue("POS", 7)]),
            new BtfEnum("e64", 8, false, true, [new BtfEnumValue("BIG", unchecked((long)0xfedcba9876543210UL))]),
            new BtfFwd("u", true),
            new BtfAlias(BtfKind.Typedef, "t", 1),
            new BtfAlias(BtfKind.Const, "", 8),
            new BtfFuncProto(1, [new BtfParam("x", 2)]),
            new BtfFunc("f", 10, BtfLinkage.Global),
            new BtfVar("v", 1, BtfLinkage.Extern),
            new BtfDatasec(".data", 4, [new BtfVarSecInfo(12, 0, 4)]),
            new BtfFloat("double", 8),
            new BtfDeclTag("tag", 4, 1),
            new BtfAlias(BtfKind.TypeTag, "user", 1),
            new BtfComposite("un", true, 4, [new BtfMember("x", 1, 0, 0)]),
        ]);
        var again = BtfReader.Read(BtfWriter.Write(spec));
        Assert.Multiple(() =>
        {
            Assert.That(Describe(again), Is.EqualTo(Describe(spec)));
            Assert.That(((BtfEnum)again[5]).Values[0].Value, Is.EqualTo(-1));
            Assert.That(((BtfEnum)again[6]).Values[0].Value, Is.EqualTo(unchecked((long)0xfedcba9876543210UL)));
            Assert.That(((BtfFwd)again[7]).IsUnion, Is.True);
        });
    }

    [Test]
    public void Read_UnsignedEnum_ZeroExtends()
    {
        var spec = new BtfSpec([new BtfEnum("e", 4, false, false, [new BtfEnumValue("TOP", 0xffffffffL)])]);
        Assert.That(((BtfEnum)BtfReader.Read(BtfWriter.Write(spec))[1]).Values[0].Value, Is.EqualTo(0xffffffffL));
    }

    [Test]
    public void Read_TypeIdPastTheEnd_Throws()
    {
        var bytes = BtfWriter.Write(new BtfSpec([new BtfPtr(9)]));
        Assert.That(() => BtfReader.Read(bytes), Throws.TypeOf<BtfException>().With.Message.Contains("refers to type id 9"));
    }

    [Test]
    public void Read_TypedefLoop_Throws()
    {
        var bytes = BtfWriter.Write(new BtfSpec([new BtfAlias(BtfKind.Typedef, "a", 2), new BtfAlias(BtfKind.Const, "", 1)]));
        Assert.That(() => BtfReader.Read(bytes), Throws.TypeOf<BtfException>().With.Message.Contains("loop"));
    }

    [Test]
    public void Read_TruncatedTypeSection_Throws()
    {
        var bytes = BtfWriter.Write(new BtfSpec([new BtfComposite("s", false, 4, [new BtfMember("a", 0, 0, 0)])]));
        // Claim more members than the bytes hold: vlen lives in the low 16 bits of info (header 24 + name_off 4).
        bytes[28] = 200;
        Assert.That(() => BtfReader.Read(bytes), Throws.TypeOf<BtfException>());
    }

    [Test]
    public void Read_BadMagic_Throws()
    {
        Assert.That(() => BtfReader.Read(new byte[40]), Throws.TypeOf<BtfException>().With.Message.Contains("magic"));
    }

    [Test]
    public void SizeOf_ArrayOverflowingUlong_Throws()
    {
        var spec = new BtfSpec([new BtfInt("long", 8, BtfIntEncoding.None, 0, 64), new BtfArray(1, 1, uint.MaxValue), new BtfArray(2, 1, uint.MaxValue), new BtfArray(3, 1, uint.MaxValue)]);
        Assert.That(() => spec.SizeOf(4), Throws.TypeOf<BtfException>());
    }

    [Test]
    public void ReadExt_ObjectWithCoRe_GroupsBySectionAsInstructionIndices()
    {
        var elf = TestObjects.Bytes("tcp_ca_full");
        var ext = BtfExtReader.Read(TestObjects.Section(elf, ".BTF.ext"), TestObjects.Section(elf, ".BTF"));
        Assert.Multiple(() =>
        {
            Assert.That(ext.FuncInfo.Keys, Is.EquivalentTo(new[] { ".text", "struct_ops" }));
            Assert.That(ext.FuncInfo["struct_ops"].Select(f => f.InsnOffset), Is.EqualTo(new[] { 0, 15, 21, 61, 87, 115, 152 }));
            Assert.That(ext.CoreRelos["struct_ops"].Select(r => r.Kind), Does.Contain(CoreReloKind.FieldLShiftU64));
            Assert.That(ext.LineInfo["struct_ops"].All(l => l.FileName.EndsWith("tcp_ca_full.bpf.c", StringComparison.Ordinal)), Is.True);
        });
    }

    /// <summary>Record equality compares lists by reference; this spells every type out.</summary>
    internal static string Describe(BtfSpec spec) => string.Join("\n", spec.All().Select(p => p.Id + " " + p.Type switch
    {
        BtfComposite c => $"{c.Kind} {c.Name} {c.Size} [{string.Join(",", c.Members)}]",
        BtfEnum e => $"{e.Kind} {e.Name} {e.Size} {e.IsSigned} [{string.Join(",", e.Values)}]",
        BtfFuncProto f => $"proto {f.ReturnType} [{string.Join(",", f.Params)}]",
        BtfDatasec d => $"datasec {d.Name} {d.Size} [{string.Join(",", d.Vars)}]",
        var t => t.ToString(),
    }));
}
