using System.Collections.Immutable;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// A program (or a <c>.text</c> subprogram) of an object: the bytes of its STT_FUNC symbol in an executable section,
/// with its relocations and .BTF.ext records, all indexed from the program's first instruction.
/// </summary>
/// <param name="Name">The function symbol's name.</param>
/// <param name="SectionName">The ELF section, e.g. <c>struct_ops</c>, <c>struct_ops.s/init</c>, <c>.text</c>.</param>
/// <param name="SectionKind">What the section name says (libbpf's section_defs).</param>
/// <param name="SectionOffset">The program's first instruction's index in its section.</param>
/// <param name="Instructions">The instructions as compiled (ldimm64 takes two slots; nothing is relocated yet).</param>
/// <param name="Relocations">Relocations of the program's instructions.</param>
/// <param name="FuncInfo">.BTF.ext function infos inside the program.</param>
/// <param name="LineInfo">.BTF.ext line infos inside the program.</param>
/// <param name="CoreRelos">CO-RE relocations inside the program.</param>
/// <param name="IsGlobal">The symbol is STB_GLOBAL (or weak) rather than static.</param>
public sealed record ObjectProgram(string Name, string SectionName, ProgramSectionKind SectionKind, int SectionOffset,
    ImmutableArray<Instruction> Instructions, IReadOnlyList<ObjectRelocation> Relocations, IReadOnlyList<BtfExtFuncInfo> FuncInfo,
    IReadOnlyList<BtfExtLineInfo> LineInfo, IReadOnlyList<BtfCoreRelo> CoreRelos, bool IsGlobal)
{
    /// <summary>A <c>struct_ops.s/</c> program.</summary>
    public bool IsSleepable => SectionKind == ProgramSectionKind.StructOpsSleepable;

    /// <summary>
    /// The expected_attach_type libbpf loads an XDP program with (section_defs in tools/lib/bpf/libbpf.c):
    /// <c>xdp/devmap</c> and <c>xdp.frags/devmap</c> BPF_XDP_DEVMAP, <c>xdp/cpumap</c> and <c>xdp.frags/cpumap</c>
    /// BPF_XDP_CPUMAP, every other XDP section BPF_XDP; <see cref="ProgramAttachType.Unspecified"/> for other programs.
    /// </summary>
    public ProgramAttachType ExpectedAttachType => SectionKind != ProgramSectionKind.Xdp ? ProgramAttachType.Unspecified
        : SectionName is "xdp/devmap" or "xdp.frags/devmap" ? ProgramAttachType.XdpDevmap
        : SectionName is "xdp/cpumap" or "xdp.frags/cpumap" ? ProgramAttachType.XdpCpumap
        : ProgramAttachType.Xdp;
}
