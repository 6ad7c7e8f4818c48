using System.Collections.Immutable;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    /// <summary>
    /// The variables of <c>.struct_ops</c> and <c>.struct_ops.link</c> (init_struct_ops_maps), and the programs their
    /// function pointers name, from R_BPF_64_ABS64 relocations at member offsets (bpf_object__collect_st_ops_relos).
    /// </summary>
    private static List<ObjectStructOps> ReadStructOps(Context context)
    {
        var result = new List<ObjectStructOps>();
        foreach (string sectionName in new[] { StructOpsSection, StructOpsLinkSection })
        {
            var section = context.Image.Find(sectionName);
            if (section == null)
            {
                continue;
            }
            if (section.Type != ElfSectionInfo.ProgBits)
            {
                throw new ObjectFormatException($"{context.Name}: section '{sectionName}' has no bytes (type {section.Type})");
            }
            uint datasecId = context.Btf.Find(sectionName, BtfKind.Datasec)
                ?? throw new ObjectFormatException($"{context.Name}: section '{sectionName}' has no BTF DATASEC (compile with -g)");
            var data = context.Image.Data(section);
            var vars = new List<(ObjectStructOps Spec, BtfComposite Type, Dictionary<string, string> Programs)>();
            foreach (var info in ((BtfDatasec)context.Btf[datasecId]).Vars)
            {
                var v = (BtfVar)context.Btf[info.Type];
                string where = $"{context.Name}: struct_ops '{v.Name}' in '{sectionName}'";
                uint typeId = context.Btf.SkipModifiers(v.Type);
                if (context.Btf[typeId] is not BtfComposite { IsUnion: false } type)
                {
                    throw new ObjectFormatException($"{where}: its type is a {context.Btf[typeId].Kind}, not a struct");
                }
                if ((ulong)info.Offset + type.Size > (ulong)data.Length)
                {
                    throw new ObjectFormatException($"{where}: {type.Size} bytes at offset {info.Offset} run past the section's {data.Length}");
                }
                var spec = new ObjectStructOps(v.Name, sectionName, sectionName == StructOpsLinkSection, type.Name, typeId, info.Offset,
                    ImmutableArray.Create(data.Slice((int)info.Offset, (int)type.Size)), []);
                vars.Add((spec, type, new Dictionary<string, string>(StringComparer.Ordinal)));
            }
            foreach (var rel in context.Image.RelocationsOf(section))
            {
                string where = $"{context.Name}: '{sectionName}' relocation at offset {rel.Offset}";
                var owner = vars.FirstOrDefault(v => rel.Offset >= v.Spec.SectionOffset && rel.Offset < v.Spec.SectionOffset + v.Type.Size);
                if (owner.Spec == null)
                {
                    throw new ObjectFormatException($"{where}: no struct_ops variable there");
                }
                var symbol = context.Image.Symbols[rel.SymbolIndex];
                ulong memberOffset = rel.Offset - owner.Spec.SectionOffset;
                if (symbol.SectionIndex == 0 || symbol.SectionIndex >= ElfImage.SpecialSectionStart)
                {
                    throw new ObjectFormatException($"{where}: '{symbol.Name}' is not a function of this object");
                }
                if (symbol.Value % 8 != 0)
                {
                    throw new ObjectFormatException($"{where}: invalid target program offset {symbol.Value}");
                }
                var member = owner.Type.Members.FirstOrDefault(m => m.BitOffset == memberOffset * 8)
                    ?? throw new ObjectFormatException($"{where}: no member of {owner.Type.Name} at byte {memberOffset}");
                if (!IsFunctionPointer(context.Btf, member.Type))
                {
                    throw new ObjectFormatException($"{where}: member '{member.Name}' is not a function pointer");
                }
                var symbolSection = context.Section(symbol.SectionIndex, where);
                long insn = (long)(symbol.Value / 8);
                var program = context.AllPrograms.FirstOrDefault(p => p.SectionName == symbolSection.Name
                    && insn >= p.SectionOffset && insn < p.SectionOffset + p.Instructions.Length)
                    ?? throw new ObjectFormatException($"{where}: no program at offset {symbol.Value} of '{symbolSection.Name}' for member '{member.Name}'");
                if (program.SectionKind is not (ProgramSectionKind.StructOps or ProgramSectionKind.StructOpsSleepable))
                {
                    throw new ObjectFormatException($"{where}: program '{program.Name}' for member '{member.Name}' is not a struct_ops program (section '{program.SectionName}')");
                }
                owner.Programs[member.Name] = program.Name;
            }
            foreach (var (spec, type, programs) in vars)
            {
                var ordered = type.Members.Where(m => programs.ContainsKey(m.Name))
                    .Select(m => KeyValuePair.Create(m.Name, programs[m.Name])).ToList();
                result.Add(spec with { Programs = ordered });
            }
        }
        return result;
    }

    /// <summary>libbpf's resolve_func_ptr: a pointer (through modifiers) to a function prototype.</summary>
    private static bool IsFunctionPointer(BtfSpec btf, uint typeId) =>
        btf[btf.SkipModifiers(typeId)] is BtfPtr ptr && btf[btf.SkipModifiers(ptr.Type)] is BtfFuncProto;
}
