using System.Buffers.Binary;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;

namespace BpfSim.Tests.Ebpf.Elf;

/// <summary>Broken objects are refused with ObjectFormatException (or BtfException for BTF) naming what is wrong.</summary>
public sealed class ObjectReaderMalformedTests
{
    private static byte[] Full => TestObjects.Bytes("tcp_ca_full");

    private static void AssertRefused(byte[] elf, string messagePart)
    {
        var e = Assert.Catch(() => ObjectReader.Read(elf, "bad"));
        Assert.That(e, Is.TypeOf<ObjectFormatException>().Or.TypeOf<BtfException>());
        Assert.That(e!.Message, Does.Contain(messagePart));
    }

    [Test]
    public void Read_NotElf_Refused() => AssertRefused("hello world, this is not an ELF file at all, no......................."u8.ToArray(), "not an ELF file");

    [Test]
    public void Read_Empty_Refused() => AssertRefused([], "not an ELF file");

    [Test]
    public void Read_Elf32_Refused()
    {
        var elf = Full;
        elf[4] = 1;
        AssertRefused(elf, "ELFCLASS64");
    }

    [Test]
    public void Read_BigEndian_Refused()
    {
        var elf = Full;
        elf[5] = 2;
        AssertRefused(elf, "little-endian");
    }

    [Test]
    public void Read_WrongMachine_Refused()
    {
        var elf = Full;
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(18), 62);
        AssertRefused(elf, "EM_BPF");
    }

    [Test]
    public void Read_Truncated_Refused()
    {
        var elf = Full;
        AssertRefused(elf[..(elf.Length / 2)], "runs past the end");
    }

    [Test]
    public void Read_SectionPastEnd_Refused()
    {
        var elf = Full;
        int shoff = (int)BitConverter.ToUInt64(elf, 40);
        // Section 2 (.text): make its size enormous.
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(shoff + 2 * 64 + 32), 1UL << 40);
        AssertRefused(elf, "section 2");
    }

    [Test]
    public void Read_RelocationPastSection_Refused()
    {
        var elf = Full;
        var (offset, _) = TestObjects.SectionExtent(elf, ".relstruct_ops");
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(offset), 0x100000);
        AssertRefused(elf, "not an instruction of the section");
    }

    [Test]
    public void Read_RelocationSymbolOutOfRange_Refused()
    {
        var elf = Full;
        var (offset, _) = TestObjects.SectionExtent(elf, ".relstruct_ops");
        // r_info: symbol index in the high 32 bits.
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(offset + 12), 0xffff);
        Assert.That(() => ObjectReader.Read(elf, "bad"), Throws.TypeOf<ObjectFormatException>());
    }

    [Test]
    public void Read_BadBtfStringOffset_Refused()
    {
        var elf = Full;
        var (offset, _) = TestObjects.SectionExtent(elf, ".BTF");
        // The first type's name_off, just after the 24-byte header.
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(offset + 24), 0x7fffffff);
        AssertRefused(elf, "string offset");
    }

    [Test]
    public void Read_BtfTypeIdOutOfRange_Refused()
    {
        var elf = Full;
        var (offset, _) = TestObjects.SectionExtent(elf, ".BTF");
        // Type 1 is a PTR in clang's output here? Whatever it is, its third word is a size or a type id; a huge id
        // or size must be refused either way.
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(offset + 24 + 8), 0x7fffffff);
        Assert.That(() => ObjectReader.Read(elf, "bad"), Throws.TypeOf<BtfException>().Or.TypeOf<ObjectFormatException>());
    }

    [Test]
    public void Read_BtfExtRecordCountTooLarge_Refused()
    {
        var elf = Full;
        var (offset, _) = TestObjects.SectionExtent(elf, ".BTF.ext");
        uint headerLength = BitConverter.ToUInt32(elf, offset + 4);
        uint funcInfoOff = BitConverter.ToUInt32(elf, offset + 8);
        // func_info: record size, then the first block's {sec_name_off, num_info}.
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(offset + (int)headerLength + (int)funcInfoOff + 8), 0x40000000);
        AssertRefused(elf, "func_info");
    }

    [Test]
    public void Read_LegacyMapsSection_RefusedWithAdvice()
    {
        var elf = Full;
        int shoff = (int)BitConverter.ToUInt64(elf, 40);
        int shstrndx = BitConverter.ToUInt16(elf, 62);
        int strOff = (int)BitConverter.ToUInt64(elf, shoff + shstrndx * 64 + 24);
        // Rename "license" to "maps\0\0\0".
        int nameOff = (int)BitConverter.ToUInt32(elf, shoff + 5 * 64);
        Assert.That(System.Text.Encoding.ASCII.GetString(elf, strOff + nameOff, 7), Is.EqualTo("license"));
        "maps\0\0\0"u8.CopyTo(elf.AsSpan(strOff + nameOff));
        AssertRefused(elf, "legacy 'maps' section");
    }
}
