using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    private const byte CallOpcode = 0x85;   // BPF_JMP | BPF_CALL
    private const byte LdImm64Opcode = 0x18; // BPF_LD | BPF_IMM | BPF_DW
    private const int PseudoCall = 1;        // BPF_PSEUDO_CALL

    /// <summary>The relocations of <paramref name="program"/>'s instructions, classified as bpf_program__record_reloc does.</summary>
    private static List<ObjectRelocation> ReadRelocations(Context context, ObjectProgram program)
    {
        var result = new List<ObjectRelocation>();
        var section = context.Image.Sections.First(s => s.Name == program.SectionName && s.IsExecutable);
        foreach (var rel in context.Image.RelocationsOf(section))
        {
            string where = $"{context.Name}: section '{section.Name}' relocation at offset {rel.Offset}";
            if (rel.Offset % Instruction.Size != 0 || rel.Offset >= section.Size)
            {
                throw new ObjectFormatException($"{where}: not an instruction of the section ({section.Size} bytes)");
            }
            int sectionIndex = (int)(rel.Offset / Instruction.Size);
            int index = sectionIndex - program.SectionOffset;
            if (index < 0 || index >= program.Instructions.Length)
            {
                // Another program's, or bytes no function symbol covers (libbpf skips those too).
                continue;
            }
            result.Add(Classify(context, program, index, rel, $"{where} (program '{program.Name}' instruction {index})"));
        }
        return result;
    }

    private static ObjectRelocation Classify(Context context, ObjectProgram program, int index, ElfRel rel, string where)
    {
        var insn = program.Instructions[index];
        var symbol = context.Image.Symbols[rel.SymbolIndex];
        string symbolName = context.SymbolName(symbol);
        var type = (BpfRelocationType)rel.Type;
        bool isCall = insn.Opcode == CallOpcode;
        bool isLdImm64 = insn.Opcode == LdImm64Opcode;
        if (!isCall && !isLdImm64)
        {
            throw new ObjectFormatException($"{where}: relocation against '{symbolName}' on opcode 0x{insn.Opcode:x2}, neither a call nor an ldimm64");
        }
        if (isLdImm64 && index + 1 >= program.Instructions.Length)
        {
            throw new ObjectFormatException($"{where}: ldimm64 has no second slot");
        }

        if (symbol.IsExtern)
        {
            var ext = context.Externs.FirstOrDefault(e => e.Name == symbol.Name)
                ?? throw new ObjectFormatException($"{where}: no extern for '{symbolName}'");
            if (isCall && ext.Kind != ExternKind.Ksym)
            {
                throw new ObjectFormatException($"{where}: a call to kconfig extern '{symbolName}'");
            }
            return new ObjectRelocation(index, ext.Kind == ExternKind.Kconfig ? RelocationKind.Kconfig : RelocationKind.Ksym, type,
                symbolName, null, 0, ext.Name, -1);
        }

        int shndx = symbol.SectionIndex;
        var text = context.Image.Find(TextSection);
        if (isCall)
        {
            if (insn.Src != PseudoCall)
            {
                throw new ObjectFormatException($"{where}: call relocation against '{symbolName}' without src_reg BPF_PSEUDO_CALL");
            }
            if (text == null || shndx != text.Index)
            {
                throw new ObjectFormatException($"{where}: call relocation against '{symbolName}', which is not in .text");
            }
            // A global function's symbol holds its offset and imm is -1; a static one's relocation is against the
            // section symbol (value 0) and imm is the pc-relative distance.
            long target = (long)(symbol.Value / Instruction.Size) + insn.Imm + 1;
            return Subprogram(context, RelocationKind.SubprogramCall, index, type, symbolName, symbol, target, where);
        }
        if (shndx == 0 || shndx >= ElfImage.SpecialSectionStart)
        {
            throw new ObjectFormatException($"{where}: relocation against '{symbolName}' in special section 0x{shndx:x} (an uninitialized global?)");
        }
        var symbolSection = context.Section(shndx, where);
        if (text != null && shndx == text.Index && symbol.Type is LibObjectFile.Elf.ElfSymbolType.Function or LibObjectFile.Elf.ElfSymbolType.Section)
        {
            if (symbol.Value % Instruction.Size != 0 || insn.Imm % Instruction.Size != 0)
            {
                throw new ObjectFormatException($"{where}: subprogram address of '{symbolName}' is not instruction-aligned");
            }
            long target = ((long)symbol.Value + insn.Imm) / Instruction.Size;
            return Subprogram(context, RelocationKind.SubprogramAddress, index, type, symbolName, symbol, target, where);
        }
        if (symbolSection.Name == MapsSection)
        {
            var map = context.Maps.FirstOrDefault(m => m.SectionOffset == symbol.Value)
                ?? throw new ObjectFormatException($"{where}: no map at offset {symbol.Value} of .maps for '{symbolName}'");
            return new ObjectRelocation(index, RelocationKind.Map, type, symbolName, symbolSection.Name, symbol.Value, map.Name, -1);
        }
        if (context.DataSectionNames.Contains(symbolSection.Name))
        {
            return new ObjectRelocation(index, RelocationKind.Data, type, symbolName, symbolSection.Name, symbol.Value, symbolSection.Name, -1);
        }
        throw new ObjectFormatException($"{where}: relocation against '{symbolName}' in section '{symbolSection.Name}', which is neither .maps nor global data");
    }

    private static ObjectRelocation Subprogram(Context context, RelocationKind kind, int index, BpfRelocationType type, string symbolName,
        ElfSymbolInfo symbol, long target, string where)
    {
        var callee = context.AllPrograms.FirstOrDefault(p => p.SectionKind == ProgramSectionKind.Text
            && target >= p.SectionOffset && target < p.SectionOffset + p.Instructions.Length)
            ?? throw new ObjectFormatException($"{where}: no .text subprogram at instruction {target} for '{symbolName}'");
        return new ObjectRelocation(index, kind, type, symbolName, TextSection, symbol.Value, callee.Name, (int)target);
    }
}
