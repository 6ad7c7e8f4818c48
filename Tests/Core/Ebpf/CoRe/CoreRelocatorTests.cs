using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.CoRe;

namespace BpfSim.Tests.Core.Ebpf.CoRe;

/// <summary>The relocator's rules that need a target of their own: flavors, several candidates, malformed input.</summary>
[Category("Ebpf")]
public sealed class CoreRelocatorTests
{
    private static (BtfSpec Btf, uint Id) OneStruct(string name, params (string Name, int Offset)[] ints)
    {
        var b = new KernelBtfBuilder();
        uint i = b.Int("int");
        uint id = b.Define(new BtfComposite(name, false, 64, ints.Select(f => KernelBtfBuilder.Member(f.Name, i, f.Offset)).ToArray()));
        return (b.Build(), id);
    }

    private static BtfSpec Target(params (string Struct, int XOffset)[] structs)
    {
        var b = new KernelBtfBuilder();
        uint i = b.Int("int");
        foreach (var (name, off) in structs)
        {
            b.Define(new BtfComposite(name, false, 64, [KernelBtfBuilder.Member("x", i, off)]));
        }
        return b.Build();
    }

    [TestCase("tcp_sock", 8)]
    [TestCase("tcp_sock___local", 8)]
    [TestCase("a___b___c", 5)]
    [TestCase("___x", 4)]
    [TestCase("foo__bar", 8)]
    [TestCase("foo____bar", 10)]
    public void EssentialNameLength_StripsTheLastFlavor(string name, int expected) =>
        Assert.That(CoreRelocator.EssentialNameLength(name), Is.EqualTo(expected));

    [Test]
    public void TwoCandidates_SameOffset_Agree()
    {
        var (local, id) = OneStruct("foo___mine", ("x", 0));
        var r = new CoreRelocator(Target(("foo", 12), ("foo___v2", 12))).Resolve(new CoreRelocation(local, id, "0:0", CoreReloKind.FieldByteOffset));
        Assert.That(r.Value, Is.EqualTo(12UL));
    }

    [Test]
    public void TwoCandidates_DifferentOffsets_AreAnAmbiguityError()
    {
        var (local, id) = OneStruct("foo", ("x", 0));
        var relocator = new CoreRelocator(Target(("foo", 12), ("foo___v2", 16)));
        var e = Assert.Throws<CoreRelocationException>(() => relocator.Resolve(new CoreRelocation(local, id, "0:0", CoreReloKind.FieldByteOffset)));
        Assert.That(e!.Message, Does.Contain("ambiguity"));
    }

    [Test]
    public void CandidateWithoutTheField_IsSkipped()
    {
        var (local, id) = OneStruct("foo", ("y", 0));
        var b = new KernelBtfBuilder();
        uint i = b.Int("int");
        b.Define(new BtfComposite("foo", false, 8, [KernelBtfBuilder.Member("x", i, 0)]));
        b.Define(new BtfComposite("foo___v2", false, 8, [KernelBtfBuilder.Member("x", i, 0), KernelBtfBuilder.Member("y", i, 4)]));
        var r = new CoreRelocator(b.Build()).Resolve(new CoreRelocation(local, id, "0:0", CoreReloKind.FieldByteOffset));
        Assert.That(r.Value, Is.EqualTo(4UL));
    }

    [Test]
    public void RootArrayIndex_ScalesByTheStructSize()
    {
        var (local, id) = OneStruct("foo", ("x", 0));
        var r = new CoreRelocator(Target(("foo", 12))).Resolve(new CoreRelocation(local, id, "2:0", CoreReloKind.FieldByteOffset));
        Assert.That(r.Value, Is.EqualTo(2UL * 64 + 12), "&p[2].x");
    }

    [TestCase("")]
    [TestCase(":0")]
    [TestCase("0:a")]
    [TestCase("0:5")]
    public void MalformedAccessString_Throws(string access)
    {
        var (local, id) = OneStruct("foo", ("x", 0));
        Assert.Throws<CoreRelocationException>(() => new CoreRelocator(Target(("foo", 0))).Resolve(new CoreRelocation(local, id, access, CoreReloKind.FieldByteOffset)));
    }

    [Test]
    public void AnonymousRoot_IsNotSupported()
    {
        var b = new KernelBtfBuilder();
        uint anon = b.Add(new BtfComposite("", false, 4, [KernelBtfBuilder.Member("x", b.Int("int"), 0)]));
        Assert.Throws<CoreRelocationException>(() => new CoreRelocator(Target(("foo", 0))).Resolve(new CoreRelocation(b.Build(), anon, "0:0", CoreReloKind.FieldByteOffset)));
    }
}
