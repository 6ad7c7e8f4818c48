using System.Collections.Immutable;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;
using LibObjectFile.Elf;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    // libbpf's section_defs prefixes (tools/lib/bpf/libbpf.c): "X+" matches X or X/..., "X/" needs the slash.
    private static readonly (string Prefix, bool NeedsSlash, ProgramSectionKind Kind)[] s_sectionDefs =
    [
        ("struct_ops.s", false, ProgramSectionKind.StructOpsSleepable),
        ("struct_ops", false, ProgramSectionKind.StructOps),
        ("xdp.frags", false, ProgramSectionKind.Xdp),
        ("xdp", false, ProgramSectionKind.Xdp),
        ("socket", false, ProgramSectionKind.SocketFilter),
        ("kprobe", true, ProgramSectionKind.Kprobe),
        ("uprobe", false, ProgramSectionKind.Kprobe),
        ("kretprobe", true, ProgramSectionKind.Kretprobe),
        ("uretprobe", false, ProgramSectionKind.Kretprobe),
        ("tracepoint", true, ProgramSectionKind.Tracepoint),
        ("tp", true, ProgramSectionKind.Tracepoint),
        ("raw_tracepoint", true, ProgramSectionKind.RawTracepoint),
        ("raw_tp", true, ProgramSectionKind.RawTracepoint),
        ("tp_btf", true, ProgramSectionKind.RawTracepoint),
        ("fentry.s", true, ProgramSectionKind.Tracing),
        ("fentry", true, ProgramSectionKind.Tracing),
        ("fexit.s", true, ProgramSectionKind.Tracing),
        ("fexit", true, ProgramSectionKind.Tracing),
        ("fmod_ret.s", true, ProgramSectionKind.Tracing),
        ("fmod_ret", true, ProgramSectionKind.Tracing),
        ("lsm.s", true, ProgramSectionKind.Lsm),
        ("lsm", true, ProgramSectionKind.Lsm),
        ("tcx", true, ProgramSectionKind.SchedCls),
        ("tc", false, ProgramSectionKind.SchedCls),
        ("classifier", false, ProgramSectionKind.SchedCls),
        ("action", false, ProgramSectionKind.SchedCls),
        ("sockops", false, ProgramSectionKind.SockOps),
        ("syscall", false, ProgramSectionKind.Syscall),
    ];

    /// <summary>What libbpf's section_defs would make of a program section's name.</summary>
    public static ProgramSectionKind ClassifySection(string sectionName)
    {
        if (sectionName == TextSection)
        {
            return ProgramSectionKind.Text;
        }
        foreach (var (prefix, needsSlash, kind) in s_sectionDefs)
        {
            if (!sectionName.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            string rest = sectionName[prefix.Length..];
            if (rest.Length == 0 ? !needsSlash : rest[0] == '/')
            {
                return kind;
            }
        }
        return ProgramSectionKind.Unknown;
    }

    /// <summary>Every STT_FUNC symbol of an executable section is a program (a subprogram in .text), as bpf_object__add_programs finds them.</summary>
    private static (List<ObjectProgram> Programs, List<ObjectProgram> Subprograms) ReadPrograms(Context context, BtfExt btfExt)
    {
        var programs = new List<ObjectProgram>();
        var subprograms = new List<ObjectProgram>();
        foreach (var section in context.Image.Sections.Where(s => s.IsExecutable))
        {
            var data = context.Image.Data(section);
            if (data.Length % Instruction.Size != 0)
            {
                throw new ObjectFormatException($"{context.Name}: section '{section.Name}' has {data.Length} bytes, not a whole number of instructions");
            }
            var kind = ClassifySection(section.Name);
            var functions = context.Image.Symbols
                .Where(s => s.SectionIndex == section.Index && s.Type == ElfSymbolType.Function)
                .OrderBy(s => s.Value)
                .ToList();
            foreach (var symbol in functions)
            {
                string where = $"{context.Name}: section '{section.Name}' program '{symbol.Name}'";
                if (symbol.Value % Instruction.Size != 0 || symbol.Size % Instruction.Size != 0)
                {
                    throw new ObjectFormatException($"{where}: offset {symbol.Value} or size {symbol.Size} is not a multiple of 8");
                }
                if (symbol.Size == 0 || symbol.Value > (ulong)data.Length || symbol.Size > (ulong)data.Length - symbol.Value)
                {
                    throw new ObjectFormatException($"{where}: {symbol.Size} bytes at offset {symbol.Value} do not fit the section's {data.Length}");
                }
                if (kind != ProgramSectionKind.Text && symbol.Bind == ElfSymbolBind.Local)
                {
                    throw new ObjectFormatException($"{where}: is static, and libbpf does not support static programs outside .text");
                }
                if (symbol.Name.Length == 0)
                {
                    throw new ObjectFormatException($"{context.Name}: section '{section.Name}' has a function symbol without a name at offset {symbol.Value}");
                }
                int start = (int)(symbol.Value / Instruction.Size);
                int count = (int)(symbol.Size / Instruction.Size);
                var instructions = ImmutableArray.Create(Instruction.Read(data.Slice((int)symbol.Value, (int)symbol.Size)));
                var program = new ObjectProgram(symbol.Name, section.Name, kind, start, instructions, [],
                    Slice(btfExt.FuncInfo, section.Name, start, count, (r, d) => r with { InsnOffset = r.InsnOffset - d }, r => r.InsnOffset),
                    Slice(btfExt.LineInfo, section.Name, start, count, (r, d) => r with { InsnOffset = r.InsnOffset - d }, r => r.InsnOffset),
                    Slice(btfExt.CoreRelos, section.Name, start, count, (r, d) => r with { InsnOffset = r.InsnOffset - d }, r => r.InsnOffset),
                    symbol.Bind != ElfSymbolBind.Local);
                foreach (var relo in program.CoreRelos)
                {
                    if (relo.TypeId == 0 || relo.TypeId >= (uint)context.Btf.Count)
                    {
                        throw new BtfException($"{where}: CO-RE relocation at instruction {relo.InsnOffset} names type id {relo.TypeId}, which does not exist");
                    }
                }
                (kind == ProgramSectionKind.Text ? subprograms : programs).Add(program);
            }
        }
        return (programs, subprograms);
    }

    /// <summary>The records of <paramref name="section"/> that fall inside [start, start + count), made relative to start.</summary>
    private static IReadOnlyList<T> Slice<T>(IReadOnlyDictionary<string, IReadOnlyList<T>> bySection, string section, int start, int count,
        Func<T, int, T> shift, Func<T, int> offset)
    {
        if (!bySection.TryGetValue(section, out var records))
        {
            return [];
        }
        return records.Where(r => offset(r) >= start && offset(r) < start + count).Select(r => shift(r, start)).ToList();
    }
}
