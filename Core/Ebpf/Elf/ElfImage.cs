using System.Buffers.Binary;
using LibObjectFile.Elf;

namespace BpfSim.Core.Ebpf.Elf;

/// <summary>A section header, as bpfsim needs it.</summary>
internal sealed record ElfSectionInfo(int Index, string Name, uint Type, ulong Flags, ulong Offset, ulong Size, int Info)
{
    public const uint ProgBits = 1;
    public const uint SymTab = 2;
    public const uint NoBits = 8;
    public const uint Rel = 9;
    public const ulong FlagWrite = 0x1;
    public const ulong FlagExecInstr = 0x4;

    public bool IsExecutable => Type == ProgBits && (Flags & FlagExecInstr) != 0;
}

/// <summary>A symbol-table entry.</summary>
internal sealed record ElfSymbolInfo(int Index, string Name, ulong Value, ulong Size, ElfSymbolType Type, ElfSymbolBind Bind,
    ElfSymbolVisibility Visibility, int SectionIndex)
{
    public const int Undefined = 0;

    public bool IsUndefined => SectionIndex == Undefined;

    /// <summary>libbpf's sym_is_extern: undefined, global or weak, no type.</summary>
    public bool IsExtern => IsUndefined && Bind is ElfSymbolBind.Global or ElfSymbolBind.Weak && Type == ElfSymbolType.NoType;
}

/// <summary>A REL entry: where, which type, which symbol.</summary>
internal readonly record struct ElfRel(ulong Offset, uint Type, int SymbolIndex);

/// <summary>
/// An ELF64 little-endian EM_BPF relocatable object, decoded by LibObjectFile after bpfsim has checked the header and
/// every section's extent itself, so that the library only ever sees sane geometry.
/// </summary>
internal sealed class ElfImage
{
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const ushort MachineBpf = 247;
    private const ushort TypeRelocatable = 1;
    // SHN_LORESERVE: indices at and above it are special (ABS, COMMON, XINDEX).
    public const int SpecialSectionStart = 0xff00;

    private readonly byte[] _bytes;

    private ElfImage(byte[] bytes, List<ElfSectionInfo> sections, List<ElfSymbolInfo> symbols, Dictionary<int, List<ElfRel>> relocations)
    {
        _bytes = bytes;
        Sections = sections;
        Symbols = symbols;
        Relocations = relocations;
    }

    public IReadOnlyList<ElfSectionInfo> Sections { get; }

    public IReadOnlyList<ElfSymbolInfo> Symbols { get; }

    /// <summary>REL entries by the index of the section they patch.</summary>
    public IReadOnlyDictionary<int, List<ElfRel>> Relocations { get; }

    public ElfSectionInfo? Find(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>A section's bytes (empty for NOBITS).</summary>
    public ReadOnlySpan<byte> Data(ElfSectionInfo section) =>
        section.Type == ElfSectionInfo.NoBits ? [] : _bytes.AsSpan((int)section.Offset, (int)section.Size);

    public IReadOnlyList<ElfRel> RelocationsOf(ElfSectionInfo section) => Relocations.TryGetValue(section.Index, out var list) ? list : [];

    /// <exception cref="ObjectFormatException">Not an object bpfsim can read; the message names the field or section.</exception>
    public static ElfImage Parse(ReadOnlySpan<byte> elf, string name)
    {
        CheckGeometry(elf, name);
        byte[] bytes = elf.ToArray();
        ElfFile? file;
        try
        {
            if (!ElfFile.TryRead(new MemoryStream(bytes, writable: false), out file, out var diagnostics) || file == null)
            {
                string first = diagnostics?.Messages.FirstOrDefault(m => m.Kind == LibObjectFile.Diagnostics.DiagnosticKind.Error).ToString() ?? "no diagnostic";
                throw new ObjectFormatException($"{name}: the ELF reader refused the file: {first}");
            }
        }
        catch (ObjectFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The library's own failure modes on malformed input are not part of its contract; bpfsim's is this exception.
            throw new ObjectFormatException($"{name}: the ELF reader failed: {e.Message}", e);
        }

        var sections = new List<ElfSectionInfo>();
        var symbols = new List<ElfSymbolInfo>();
        var relocations = new Dictionary<int, List<ElfRel>>();
        ElfSymbolTable? symtab = null;
        foreach (var s in file.Sections)
        {
            if (s.SectionIndex == 0)
            {
                continue;
            }
            sections.Add(new ElfSectionInfo(s.SectionIndex, s.Name.Value ?? "", (uint)s.Type, (ulong)s.Flags, (ulong)s.Position, (ulong)s.Size,
                s.Info.IsEmpty ? 0 : s.Info.GetIndex()));
            if (s is ElfSymbolTable table)
            {
                if (symtab != null)
                {
                    throw new ObjectFormatException($"{name}: more than one symbol table");
                }
                symtab = table;
            }
        }
        if (symtab == null)
        {
            throw new ObjectFormatException($"{name}: no symbol table (.symtab)");
        }
        for (int i = 0; i < symtab.Entries.Count; i++)
        {
            var e = symtab.Entries[i];
            int section = e.SectionLink.IsSpecial ? e.SectionLink.SpecialIndex : e.SectionLink.Section?.SectionIndex ?? 0;
            symbols.Add(new ElfSymbolInfo(i, e.Name.Value ?? "", e.Value, e.Size, e.Type, e.Bind, e.Visibility, section));
        }
        foreach (var s in file.Sections)
        {
            if (s is not ElfRelocationTable table)
            {
                continue;
            }
            if (s.Type == ElfSectionType.RelocationAddends)
            {
                throw new ObjectFormatException($"{name}: section '{s.Name.Value}' is SHT_RELA; BPF objects use SHT_REL");
            }
            if (s.Link.Section != symtab)
            {
                throw new ObjectFormatException($"{name}: relocation section '{s.Name.Value}' does not link to .symtab");
            }
            int target = s.Info.IsEmpty || s.Info.IsSpecial ? 0 : s.Info.GetIndex();
            if (target <= 0 || target >= file.Sections.Count)
            {
                throw new ObjectFormatException($"{name}: relocation section '{s.Name.Value}' patches no valid section (sh_info {target})");
            }
            if (!relocations.TryGetValue(target, out var list))
            {
                relocations[target] = list = [];
            }
            foreach (var r in table.Entries)
            {
                if (r.SymbolIndex >= (uint)symbols.Count)
                {
                    throw new ObjectFormatException($"{name}: relocation section '{s.Name.Value}' at offset {r.Offset} names symbol {r.SymbolIndex}, past the last of {symbols.Count}");
                }
                list.Add(new ElfRel(r.Offset, r.Type.Value, (int)r.SymbolIndex));
            }
        }
        return new ElfImage(bytes, sections, symbols, relocations);
    }

    /// <summary>The checks done before the library sees the bytes: identity, machine, and that every table and section lies inside the file.</summary>
    private static void CheckGeometry(ReadOnlySpan<byte> elf, string name)
    {
        if (elf.Length < HeaderSize || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new ObjectFormatException($"{name}: not an ELF file");
        }
        if (elf[4] != 2)
        {
            throw new ObjectFormatException($"{name}: ELF class {elf[4]} is not ELFCLASS64");
        }
        if (elf[5] != 1)
        {
            throw new ObjectFormatException($"{name}: ELF data encoding {elf[5]} is not little-endian (ELFDATA2LSB); big-endian BPF objects are not supported");
        }
        if (elf[6] != 1)
        {
            throw new ObjectFormatException($"{name}: ELF version {elf[6]} is not 1");
        }
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(elf[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(elf[18..]);
        if (machine != MachineBpf)
        {
            throw new ObjectFormatException($"{name}: e_machine {machine} is not EM_BPF ({MachineBpf})");
        }
        if (type != TypeRelocatable)
        {
            throw new ObjectFormatException($"{name}: e_type {type} is not ET_REL (a relocatable object from clang -c)");
        }
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(elf[32..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(elf[40..]);
        ushort ehsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[52..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[56..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[58..]);
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[60..]);
        ushort shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf[62..]);
        if (ehsize != HeaderSize)
        {
            throw new ObjectFormatException($"{name}: e_ehsize {ehsize} is not {HeaderSize}");
        }
        if (phnum != 0 || phoff != 0)
        {
            throw new ObjectFormatException($"{name}: a relocatable object has no program headers (e_phnum {phnum}, e_phoff {phoff})");
        }
        if (shentsize != SectionHeaderSize || shnum == 0 || shnum >= SpecialSectionStart)
        {
            throw new ObjectFormatException($"{name}: bad section header table (e_shentsize {shentsize}, e_shnum {shnum})");
        }
        if (shoff < HeaderSize || shoff > (ulong)elf.Length || (ulong)shnum * SectionHeaderSize > (ulong)elf.Length - shoff)
        {
            throw new ObjectFormatException($"{name}: section header table at {shoff} ({shnum} entries) runs past the end of the {elf.Length}-byte file");
        }
        if (shstrndx == 0 || shstrndx >= shnum)
        {
            throw new ObjectFormatException($"{name}: e_shstrndx {shstrndx} is not a section");
        }
        for (int i = 0; i < shnum; i++)
        {
            var sh = elf.Slice((int)shoff + i * SectionHeaderSize, SectionHeaderSize);
            uint shType = BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]);
            uint link = BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            ulong align = BinaryPrimitives.ReadUInt64LittleEndian(sh[48..]);
            ulong entsize = BinaryPrimitives.ReadUInt64LittleEndian(sh[56..]);
            if (i == 0)
            {
                if (shType != 0)
                {
                    throw new ObjectFormatException($"{name}: section header 0 is not SHT_NULL");
                }
                continue;
            }
            if (shType != ElfSectionInfo.NoBits && (offset > (ulong)elf.Length || size > (ulong)elf.Length - offset))
            {
                throw new ObjectFormatException($"{name}: section {i} at {offset} with {size} bytes runs past the end of the {elf.Length}-byte file");
            }
            if (shType == ElfSectionInfo.NoBits && size > int.MaxValue)
            {
                throw new ObjectFormatException($"{name}: NOBITS section {i} of {size} bytes is too large");
            }
            if (link >= shnum && shType is ElfSectionInfo.Rel or ElfSectionInfo.SymTab or 4)
            {
                throw new ObjectFormatException($"{name}: section {i} links to section {link}, past the last of {shnum}");
            }
            if (shType is ElfSectionInfo.Rel or 4 && (info == 0 || info >= shnum))
            {
                throw new ObjectFormatException($"{name}: relocation section {i} patches section {info}, which does not exist");
            }
            if (shType is ElfSectionInfo.Rel or ElfSectionInfo.SymTab or 4)
            {
                ulong expected = shType == ElfSectionInfo.SymTab ? 24UL : shType == 4 ? 24UL : 16UL;
                if (entsize != expected || size % expected != 0)
                {
                    throw new ObjectFormatException($"{name}: section {i} has entry size {entsize} and size {size} (expected entries of {expected} bytes)");
                }
            }
            if (align > 1UL << 16 || align != 0 && (align & (align - 1)) != 0)
            {
                throw new ObjectFormatException($"{name}: section {i} has alignment {align}");
            }
        }
    }
}
