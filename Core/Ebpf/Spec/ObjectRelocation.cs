namespace BpfSim.Core.Ebpf.Spec;

/// <summary>
/// A relocation of one instruction of a program (from <c>.rel&lt;section&gt;</c>), classified as libbpf's
/// bpf_program__record_reloc does.
/// </summary>
/// <param name="InstructionIndex">The relocated instruction, counted from the program's first instruction.</param>
/// <param name="Kind">What the relocation refers to.</param>
/// <param name="Type">The ELF relocation type.</param>
/// <param name="SymbolName">The symbol's name (a section symbol's is its section's name).</param>
/// <param name="SymbolSection">The symbol's section, or null for an undefined (extern) symbol.</param>
/// <param name="SymbolOffset">
/// The symbol's value: for <see cref="RelocationKind.Data"/> its byte offset in the data section, to which the loader
/// adds the instruction's imm (a section symbol has 0 here and the offset in imm); for the subprogram kinds, its byte
/// offset in <c>.text</c>.
/// </param>
/// <param name="Target">
/// The map's name (<see cref="RelocationKind.Map"/>), the data section's name (<see cref="RelocationKind.Data"/>), the
/// extern's name (<see cref="RelocationKind.Kconfig"/>, <see cref="RelocationKind.Ksym"/>), or the called subprogram's
/// name (the subprogram kinds).
/// </param>
/// <param name="TargetInstruction">
/// For the subprogram kinds, the target's instruction index in <c>.text</c> (libbpf: symbol offset / 8 + imm + 1 for a
/// call, (symbol offset + imm) / 8 for an address); otherwise -1.
/// </param>
public sealed record ObjectRelocation(int InstructionIndex, RelocationKind Kind, BpfRelocationType Type, string SymbolName,
    string? SymbolSection, ulong SymbolOffset, string Target, int TargetInstruction);
