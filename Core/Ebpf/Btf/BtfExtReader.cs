using BpfSim.Core.Ebpf.CoRe;
using System.Buffers.Binary;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// Parses a .BTF.ext section (struct btf_ext_header, tools/lib/bpf/libbpf_internal.h) as libbpf's btf_ext__new,
/// btf_ext_parse_hdr and btf_ext_setup_info do (tools/lib/bpf/btf.c): a header with the offset and length of the
/// func_info, line_info and (when the header is long enough) core_relo subsections; each subsection is a record size
/// followed by blocks of {section name offset, record count, records}. Names come from the .BTF string section.
/// </summary>
public static class BtfExtReader
{
    private const int MinHeaderSize = 24;
    private const int CoreReloHeaderSize = 32;

    /// <summary>Reads <paramref name="ext"/>, resolving names in the string section of <paramref name="btf"/>.</summary>
    /// <exception cref="BtfException">Either section is malformed; the message names the subsection and offset.</exception>
    public static BtfExt Read(ReadOnlySpan<byte> ext, ReadOnlySpan<byte> btf)
    {
        var strings = new BtfStrings(BtfHeader.Parse(btf).Strings(btf).ToArray());
        if (ext.Length < 8)
        {
            throw new BtfException($".BTF.ext: {ext.Length} bytes is too short for a header");
        }
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(ext);
        if (magic != BtfHeader.Magic)
        {
            throw new BtfException($".BTF.ext: bad magic 0x{magic:x4}");
        }
        if (ext[2] != 1 || ext[3] != 0)
        {
            throw new BtfException($".BTF.ext: unsupported version {ext[2]} or flags 0x{ext[3]:x2}");
        }
        uint headerLength = U32(ext, 4);
        if (headerLength < MinHeaderSize || headerLength > (uint)ext.Length)
        {
            throw new BtfException($".BTF.ext: header length {headerLength} is outside {MinHeaderSize}..{ext.Length}");
        }
        var data = ext[(int)headerLength..];
        var funcInfo = ReadSubsection(data, U32(ext, 8), U32(ext, 12), "func_info", 8, strings,
            (r, off) => new BtfExtFuncInfo(off, U32(r, 4)));
        var lineInfo = ReadSubsection(data, U32(ext, 16), U32(ext, 20), "line_info", 16, strings,
            (r, off) =>
            {
                uint lineCol = U32(r, 12);
                return new BtfExtLineInfo(off, strings.Get(U32(r, 4), ".BTF.ext line_info file name"), (int)(lineCol >> 10),
                    (int)(lineCol & 0x3ff), strings.Get(U32(r, 8), ".BTF.ext line_info line"));
            });
        var coreRelos = headerLength >= CoreReloHeaderSize
            ? ReadSubsection(data, U32(ext, 24), U32(ext, 28), "core_relo", 16, strings,
                (r, off) =>
                {
                    uint kind = U32(r, 12);
                    if (kind > (uint)CoreReloKind.TypeMatches)
                    {
                        throw new BtfException($".BTF.ext core_relo at instruction {off}: unknown kind {kind}");
                    }
                    return new BtfCoreRelo(off, U32(r, 4), strings.Get(U32(r, 8), ".BTF.ext core_relo access string"), (CoreReloKind)kind);
                })
            : new Dictionary<string, IReadOnlyList<BtfCoreRelo>>();
        return new BtfExt(funcInfo, lineInfo, coreRelos);
    }

    private delegate T RecordReader<out T>(ReadOnlySpan<byte> record, int insnOffset);

    private static Dictionary<string, IReadOnlyList<T>> ReadSubsection<T>(ReadOnlySpan<byte> data, uint offset, uint length,
        string what, int minRecordSize, BtfStrings strings, RecordReader<T> read)
    {
        var result = new Dictionary<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        if (length == 0)
        {
            return result;
        }
        if (offset % 4 != 0)
        {
            throw new BtfException($".BTF.ext {what}: offset {offset} is not 4-byte aligned");
        }
        if ((ulong)offset + length > (ulong)data.Length)
        {
            throw new BtfException($".BTF.ext {what}: {offset}+{length} runs past the end ({data.Length} bytes after the header)");
        }
        var sub = data.Slice((int)offset, (int)length);
        if (sub.Length < 4)
        {
            throw new BtfException($".BTF.ext {what}: no record size");
        }
        uint recordSize = U32(sub, 0);
        if (recordSize < minRecordSize || recordSize % 4 != 0 || recordSize > (uint)sub.Length)
        {
            throw new BtfException($".BTF.ext {what}: bad record size {recordSize} (at least {minRecordSize}, a multiple of 4)");
        }
        int pos = 4;
        if (pos == sub.Length)
        {
            throw new BtfException($".BTF.ext {what}: no records");
        }
        while (pos < sub.Length)
        {
            if (sub.Length - pos < 8)
            {
                throw new BtfException($".BTF.ext {what} at offset {offset + pos}: truncated section header");
            }
            string section = strings.Get(U32(sub, pos), $".BTF.ext {what} section name");
            uint count = U32(sub, pos + 4);
            pos += 8;
            if (count == 0 || (ulong)count * recordSize > (ulong)(sub.Length - pos))
            {
                throw new BtfException($".BTF.ext {what} for '{section}': {count} records of {recordSize} bytes do not fit the {sub.Length - pos} bytes left");
            }
            if (result.ContainsKey(section))
            {
                throw new BtfException($".BTF.ext {what}: section '{section}' appears twice");
            }
            var records = new T[count];
            for (int i = 0; i < count; i++)
            {
                var record = sub.Slice(pos, (int)recordSize);
                uint insnOff = U32(record, 0);
                if (insnOff % 8 != 0)
                {
                    throw new BtfException($".BTF.ext {what} for '{section}' record {i}: byte offset {insnOff} is not a multiple of 8");
                }
                records[i] = read(record, (int)(insnOff / 8));
                pos += (int)recordSize;
            }
            result[section] = records;
        }
        return result;
    }

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
}
