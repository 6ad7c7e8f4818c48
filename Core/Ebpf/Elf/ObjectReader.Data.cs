using System.Collections.Immutable;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;
using LibObjectFile.Elf;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    /// <summary>libbpf's global-data sections: .data, .data.*, .rodata, .rodata.*, .bss, .bss.* (bpf_object__elf_collect).</summary>
    private static bool IsDataSection(ElfSectionInfo section) =>
        section.Type == ElfSectionInfo.NoBits
            ? HasPrefix(section.Name, ".bss")
            : section.Type == ElfSectionInfo.ProgBits && (HasPrefix(section.Name, ".data") || HasPrefix(section.Name, ".rodata"));

    private static bool HasPrefix(string name, string prefix) =>
        name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal);

    private static List<ObjectDataSection> ReadDataSections(Context context)
    {
        var result = new List<ObjectDataSection>();
        foreach (var section in context.Image.Sections.Where(IsDataSection))
        {
            uint datasecId = context.Btf.Find(section.Name, BtfKind.Datasec) ?? 0;
            var variables = new List<ObjectVariable>();
            if (datasecId != 0)
            {
                foreach (var info in ((BtfDatasec)context.Btf[datasecId]).Vars)
                {
                    if (context.Btf[info.Type] is BtfVar v)
                    {
                        variables.Add(new ObjectVariable(v.Name, info.Offset, info.Size, v.Type, v.Linkage != BtfLinkage.Static));
                    }
                }
            }
            else
            {
                // No DATASEC (an object without BTF): the ELF symbols alone say where the variables are.
                foreach (var symbol in context.Image.Symbols.Where(s => s.SectionIndex == section.Index && s.Type == ElfSymbolType.Object))
                {
                    variables.Add(new ObjectVariable(symbol.Name, (uint)symbol.Value, (uint)symbol.Size, 0, symbol.Bind != ElfSymbolBind.Local));
                }
            }
            if (section.Size > int.MaxValue)
            {
                throw new ObjectFormatException($"{context.Name}: section '{section.Name}' of {section.Size} bytes is too large");
            }
            foreach (var v in variables)
            {
                if ((ulong)v.Offset + v.Size > section.Size)
                {
                    throw new ObjectFormatException($"{context.Name}: variable '{v.Name}' ({v.Size} bytes at {v.Offset}) runs past the end of '{section.Name}' ({section.Size} bytes)");
                }
            }
            var bytes = section.Type == ElfSectionInfo.NoBits ? ImmutableArray<byte>.Empty : ImmutableArray.Create(context.Image.Data(section));
            result.Add(new ObjectDataSection(section.Name, (uint)section.Size, bytes, HasPrefix(section.Name, ".rodata"), datasecId,
                variables.OrderBy(v => v.Offset).ToList()));
        }
        return result;
    }

    /// <summary>
    /// clang leaves DATASEC sizes and variable offsets at 0 in a .o; libbpf's btf_fixup_datasec takes the size from the
    /// ELF section and each offset from the variable's ELF symbol, marks hidden globals static, and sorts by offset.
    /// The .kconfig and .ksyms DATASECs describe externs, which have no section, and are left as they are.
    /// </summary>
    private static BtfSpec FixupDatasecs(Context context)
    {
        var btf = context.Btf;
        var types = btf.All().Select(t => t.Type).ToList();
        bool changed = false;
        foreach (var (id, type) in btf.All())
        {
            if (type is not BtfDatasec datasec || datasec.Name is KconfigSection or KsymsSection)
            {
                continue;
            }
            string where = $"{context.Name}: BTF DATASEC '{datasec.Name}' (id {id})";
            uint size = datasec.Size;
            bool fixOffsets = size == 0;
            if (fixOffsets)
            {
                var section = context.Image.Find(datasec.Name);
                if (section == null || section.Size == 0 || section.Size > int.MaxValue)
                {
                    throw new ObjectFormatException($"{where}: no ELF section of that name with a size to take");
                }
                size = (uint)section.Size;
            }
            var vars = new List<BtfVarSecInfo>(datasec.Vars.Count);
            foreach (var info in datasec.Vars)
            {
                if (btf[info.Type] is not BtfVar v)
                {
                    throw new ObjectFormatException($"{where}: entry type id {info.Type} is a {btf[info.Type].Kind}, not a VAR");
                }
                var symbol = context.Image.Symbols.FirstOrDefault(s => s.Type == ElfSymbolType.Object && s.Name == v.Name
                    && s.Bind is ElfSymbolBind.Global or ElfSymbolBind.Weak or ElfSymbolBind.Local)
                    ?? throw new ObjectFormatException($"{where}: variable '{v.Name}' has no ELF symbol");
                uint offset = info.Offset;
                if (fixOffsets)
                {
                    if (symbol.Value > uint.MaxValue)
                    {
                        throw new ObjectFormatException($"{where}: variable '{v.Name}' at offset {symbol.Value} does not fit");
                    }
                    offset = (uint)symbol.Value;
                }
                if ((ulong)offset + info.Size > size)
                {
                    throw new ObjectFormatException($"{where}: variable '{v.Name}' ({info.Size} bytes at {offset}) runs past the section's {size} bytes");
                }
                vars.Add(info with { Offset = offset });
                if (symbol.Visibility is ElfSymbolVisibility.Hidden or ElfSymbolVisibility.Internal && v.Linkage == BtfLinkage.Global)
                {
                    // A hidden global is invisible outside the object: libbpf treats its VAR as static.
                    types[(int)info.Type - 1] = v with { Linkage = BtfLinkage.Static };
                    changed = true;
                }
            }
            types[(int)id - 1] = datasec with { Size = size, Vars = vars.OrderBy(v => v.Offset).ToList() };
            changed = true;
        }
        return changed ? new BtfSpec(types) : btf;
    }
}
