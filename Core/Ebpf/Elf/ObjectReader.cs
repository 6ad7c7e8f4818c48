using System.Text;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Elf;

/// <summary>
/// Reads a clang-compiled BPF object (ELF64, little-endian, EM_BPF, ET_REL) into an <see cref="ObjectSpec"/>, applying
/// libbpf's conventions (tools/lib/bpf/libbpf.c): bpf_object__elf_collect for the sections, bpf_object__add_programs and
/// section_defs for programs, btf_fixup_datasec for DATASEC sizes and offsets, bpf_object__init_user_btf_maps for
/// <c>.maps</c>, bpf_object__collect_externs, bpf_object__collect_relos with bpf_program__record_reloc, and
/// init_struct_ops_maps with bpf_object__collect_st_ops_relos for struct_ops variables.
/// </summary>
/// <remarks>
/// The input is untrusted: anything malformed ends in <see cref="ObjectFormatException"/> (ELF and libbpf conventions)
/// or <see cref="BtfException"/> (BTF), never another exception, and no allocation is sized by a number the file has
/// not been checked to back with bytes.
/// </remarks>
public static partial class ObjectReader
{
    private const string LicenseSection = "license";
    private const string VersionSection = "version";
    private const string MapsSection = ".maps";
    private const string LegacyMapsSection = "maps";
    private const string BtfSection = ".BTF";
    private const string BtfExtSection = ".BTF.ext";
    private const string TextSection = ".text";
    private const string StructOpsSection = ".struct_ops";
    private const string StructOpsLinkSection = ".struct_ops.link";
    private const string KconfigSection = ".kconfig";
    private const string KsymsSection = ".ksyms";

    /// <summary>Reads the object at <paramref name="path"/>; its name is the file name without extension.</summary>
    /// <exception cref="ObjectFormatException">The object is malformed or breaks libbpf's conventions.</exception>
    /// <exception cref="BtfException">Its .BTF or .BTF.ext is malformed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ObjectSpec Read(string path) => Read(File.ReadAllBytes(path), Path.GetFileNameWithoutExtension(path));

    /// <summary>Reads an object from its bytes.</summary>
    /// <param name="elf">The object file's bytes.</param>
    /// <param name="name">The object's name, used in messages and as <see cref="ObjectSpec.Name"/>.</param>
    /// <exception cref="ObjectFormatException">The object is malformed or breaks libbpf's conventions.</exception>
    /// <exception cref="BtfException">Its .BTF or .BTF.ext is malformed.</exception>
    public static ObjectSpec Read(ReadOnlySpan<byte> elf, string name)
    {
        var image = ElfImage.Parse(elf, name);
        if (image.Find(LegacyMapsSection) != null)
        {
            throw new ObjectFormatException($"{name}: legacy 'maps' section (struct bpf_map_def) is not supported; declare maps in SEC(\".maps\") with __uint/__type (libbpf 1.0 dropped them too)");
        }
        var context = new Context(name, image, ReadBtf(image, name, out var btfExt));

        string license = ReadLicense(context);
        uint? version = ReadVersion(context);
        var fixedBtf = FixupDatasecs(context);
        context.Btf = fixedBtf;

        var (programs, subprograms) = ReadPrograms(context, btfExt);
        context.AllPrograms.AddRange(programs);
        context.AllPrograms.AddRange(subprograms);
        var dataSections = ReadDataSections(context);
        var maps = ReadMaps(context);
        var externs = ReadExterns(context);
        context.Maps = maps;
        context.DataSectionNames = dataSections.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        context.Externs = externs;
        programs = programs.Select(p => p with { Relocations = ReadRelocations(context, p) }).ToList();
        subprograms = subprograms.Select(p => p with { Relocations = ReadRelocations(context, p) }).ToList();
        var structOps = ReadStructOps(context);

        return new ObjectSpec(name, license, version, fixedBtf, btfExt, programs, subprograms, maps, dataSections, externs, structOps);
    }

    private static BtfSpec ReadBtf(ElfImage image, string name, out BtfExt btfExt)
    {
        btfExt = BtfExt.Empty;
        var section = image.Find(BtfSection);
        if (section == null)
        {
            // libbpf loads BTF-less objects; they just cannot have .maps, externs or struct_ops, which need BTF.
            return new BtfSpec([]);
        }
        var btf = image.Data(section);
        var spec = BtfReader.Read(btf);
        var ext = image.Find(BtfExtSection);
        if (ext != null)
        {
            btfExt = BtfExtReader.Read(image.Data(ext), btf);
        }
        return spec;
    }

    private static string ReadLicense(Context context)
    {
        var section = context.Image.Find(LicenseSection);
        if (section == null)
        {
            return "";
        }
        var data = context.Image.Data(section);
        int end = data.IndexOf((byte)0);
        // libbpf copies at most 64 bytes (obj->license); bpfsim keeps the whole string up to the NUL.
        return Encoding.UTF8.GetString(end < 0 ? data : data[..end]);
    }

    private static uint? ReadVersion(Context context)
    {
        var section = context.Image.Find(VersionSection);
        if (section == null)
        {
            return null;
        }
        var data = context.Image.Data(section);
        if (data.Length != 4)
        {
            throw new ObjectFormatException($"{context.Name}: section 'version' has {data.Length} bytes, not 4");
        }
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    /// <summary>What the stages share while one object is read.</summary>
    private sealed class Context(string name, ElfImage image, BtfSpec btf)
    {
        public string Name { get; } = name;

        public ElfImage Image { get; } = image;

        public BtfSpec Btf { get; set; } = btf;

        public List<ObjectProgram> AllPrograms { get; } = [];

        public IReadOnlyList<ObjectMap> Maps { get; set; } = [];

        public HashSet<string> DataSectionNames { get; set; } = [];

        public IReadOnlyList<ObjectExtern> Externs { get; set; } = [];

        public ElfSectionInfo Section(int index, string what) =>
            Image.Sections.FirstOrDefault(s => s.Index == index) ?? throw new ObjectFormatException($"{Name}: {what} names section {index}, which does not exist");

        /// <summary>A symbol's name; a section symbol without one takes its section's name, as libbpf does.</summary>
        public string SymbolName(ElfSymbolInfo symbol) =>
            symbol.Name.Length == 0 && symbol.Type == LibObjectFile.Elf.ElfSymbolType.Section && symbol.SectionIndex is > 0 and < ElfImage.SpecialSectionStart
                ? Section(symbol.SectionIndex, $"symbol {symbol.Index}").Name
                : symbol.Name;

        public uint CheckedSize(uint typeId, string what)
        {
            ulong size = Btf.SizeOf(typeId);
            return size <= int.MaxValue ? (uint)size : throw new ObjectFormatException($"{Name}: {what}: size {size} is too large");
        }
    }
}
