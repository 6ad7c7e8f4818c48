using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Tests.Ebpf.Btf;

/// <summary>
/// The kernel's BTF check refuses a struct or union member that does not fit in it (btf_struct_resolve and the
/// check_member ops in kernel/bpf/btf.c: "Member exceeds struct_size"); bpfsim's reader does too, so a corrupt object
/// is refused at load instead of failing later on its layout.
/// </summary>
public sealed class BtfMemberLayoutTests
{
    private static BtfSpec Read(uint size, BtfMember member, bool union = false) => BtfReader.Read(BtfWriter.Write(new BtfSpec(
    [
        new BtfInt("unsigned long long", 8, BtfIntEncoding.None, 0, 64),
        new BtfInt("unsigned int", 4, BtfIntEncoding.None, 0, 32),
        new BtfComposite("pair", union, size, [new BtfMember("a", 1, 0, 0), member]),
    ])));

    [TestCase(64u, 0, TestName = "MemberEndingAtTheStructsEnd_IsAccepted")]
    [TestCase(72u, 0, TestName = "MemberPastTheStructsEnd_IsRefused")]
    [TestCase(3_305_112_256u, 0, TestName = "MemberFarPastTheStructsEnd_IsRefused")]
    [TestCase(96u, 32, TestName = "BitfieldEndingAtTheStructsEnd_IsAccepted")]
    [TestCase(97u, 32, TestName = "BitfieldPastTheStructsEnd_IsRefused")]
    public void Member_MustLieWithinItsStruct(uint bitOffset, int bitfieldSize)
    {
        var member = new BtfMember("b", bitfieldSize > 0 ? 2u : 1u, bitOffset, (byte)bitfieldSize);
        bool fits = bitfieldSize > 0 ? bitOffset + bitfieldSize <= 128 : bitOffset / 8 + 8 <= 16;
        if (fits)
        {
            Assert.That(((BtfComposite)Read(16, member)[3]).Members[1].BitOffset, Is.EqualTo(bitOffset));
        }
        else
        {
            var e = Assert.Throws<BtfException>(() => Read(16, member));
            Assert.That(e!.Message, Does.Contain("STRUCT 'pair'").And.Contain("member 'b'").And.Contain("exceeds the 16 bytes"));
        }
    }

    [Test]
    public void UnionMemberLargerThanTheUnion_IsRefused()
    {
        var e = Assert.Throws<BtfException>(() => Read(4, new BtfMember("b", 2, 0, 0), union: true));
        Assert.That(e!.Message, Does.Contain("UNION 'pair'").And.Contain("member 'a'"));
    }

    [Test]
    public void CorruptMemberOffsetInAShippedObject_IsRefusedAtRead_NotAnInternalError()
    {
        // tcp_congestion_ops.name's offset in bpf_reno.bpf.o's .BTF overwritten: ConsumerObjectLoader read the name from
        // that offset and threw ArgumentOutOfRangeException ("internal error", exit 1).
        var bytes = File.ReadAllBytes(Programs.BpfObjects.PathOf("bpf_reno"));
        var btf = TestObjects.Section(bytes, ".BTF");
        var spec = BtfReader.Read(btf);
        var ops = (BtfComposite)spec[spec.Find("tcp_congestion_ops", BtfKind.Struct)!.Value];
        int at = IndexOfMemberOffset(bytes, ops.Members.Single(m => m.Name == "name").BitOffset);
        bytes[at + 3] = 0xC5;
        string path = Path.Combine(Path.GetTempPath(), $"bpfsim-corrupt-{Environment.ProcessId}.bpf.o");
        File.WriteAllBytes(path, bytes);
        try
        {
            var e = Assert.Throws<ConsumerLoadException>(() => ConsumerObjectLoader.LoadInto(new ConsumerCatalog(), path));
            Assert.That(e!.Message, Does.Contain("not a BPF object bpfsim can read").And.Contain("member 'name'"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // The one u32 in .BTF equal to the member's bit offset.
    private static int IndexOfMemberOffset(byte[] bytes, uint bitOffset)
    {
        var (offset, size) = TestObjects.SectionExtent(bytes, ".BTF");
        var needle = BitConverter.GetBytes(bitOffset);
        var hits = new List<int>();
        for (int i = offset; i + 4 <= offset + size; i += 4)
        {
            if (bytes.AsSpan(i, 4).SequenceEqual(needle))
            {
                hits.Add(i);
            }
        }
        Assert.That(hits, Has.Count.EqualTo(1), "the name member's offset is unique in .BTF");
        return hits[0];
    }
}
