using System.Buffers.Binary;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// The header of a raw .BTF blob (struct btf_header, include/uapi/linux/btf.h), checked as libbpf's btf_parse_hdr and
/// btf_parse_str_sec do (tools/lib/bpf/btf.c): the type and string sections lie inside the blob, in that order, and the
/// string section starts and ends with a NUL.
/// </summary>
internal readonly record struct BtfHeader(uint HeaderLength, uint TypeOffset, uint TypeLength, uint StringOffset, uint StringLength)
{
    public const ushort Magic = 0xeB9F;
    public const int Size = 24;

    /// <summary>The type section's bytes.</summary>
    public ReadOnlySpan<byte> Types(ReadOnlySpan<byte> btf) => btf.Slice((int)(HeaderLength + TypeOffset), (int)TypeLength);

    /// <summary>The string section's bytes.</summary>
    public ReadOnlySpan<byte> Strings(ReadOnlySpan<byte> btf) => btf.Slice((int)(HeaderLength + StringOffset), (int)StringLength);

    /// <exception cref="BtfException">The header is malformed or points outside the blob.</exception>
    public static BtfHeader Parse(ReadOnlySpan<byte> btf)
    {
        if (btf.Length < Size)
        {
            throw new BtfException($".BTF: {btf.Length} bytes is too short for the {Size}-byte header");
        }
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(btf);
        if (magic != Magic)
        {
            throw new BtfException(magic == BinaryPrimitives.ReverseEndianness(Magic)
                ? ".BTF: big-endian BTF is not supported (the object is not for a little-endian target)"
                : $".BTF: bad magic 0x{magic:x4} (expected 0x{Magic:x4})");
        }
        if (btf[2] != 1)
        {
            throw new BtfException($".BTF: unsupported version {btf[2]}");
        }
        if (btf[3] != 0)
        {
            throw new BtfException($".BTF: unsupported flags 0x{btf[3]:x2}");
        }
        var header = new BtfHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(btf[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(btf[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(btf[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(btf[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(btf[20..]));
        if (header.HeaderLength < Size || header.HeaderLength > (uint)btf.Length)
        {
            throw new BtfException($".BTF: header length {header.HeaderLength} is outside 24..{btf.Length}");
        }
        // Checked in 64 bits so that no sum of untrusted 32-bit numbers can wrap.
        ulong metaLeft = (ulong)btf.Length - header.HeaderLength;
        if ((ulong)header.StringOffset + header.StringLength > metaLeft)
        {
            throw new BtfException($".BTF: string section {header.StringOffset}+{header.StringLength} runs past the end ({metaLeft} bytes after the header)");
        }
        if ((ulong)header.TypeOffset + header.TypeLength > header.StringOffset)
        {
            throw new BtfException($".BTF: type section {header.TypeOffset}+{header.TypeLength} overlaps the string section at {header.StringOffset}");
        }
        if (header.TypeOffset % 4 != 0)
        {
            throw new BtfException($".BTF: type section offset {header.TypeOffset} is not 4-byte aligned");
        }
        var strings = header.Strings(btf);
        if (strings.Length == 0 || strings[0] != 0 || strings[^1] != 0)
        {
            throw new BtfException(".BTF: the string section must start and end with a NUL byte");
        }
        return header;
    }
}
