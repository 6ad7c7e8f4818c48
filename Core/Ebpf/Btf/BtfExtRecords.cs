using BpfSim.Core.Ebpf.CoRe;
namespace BpfSim.Core.Ebpf.Btf;

// The records of .BTF.ext (struct bpf_func_info, bpf_line_info, bpf_core_relo in include/uapi/linux/bpf.h). The file
// stores byte offsets from the start of the ELF section; bpfsim stores instruction indices: from the section start in a
// BtfExt, from the program start once ObjectReader has attached them to a program.

/// <summary>A function's BTF (a FUNC type id) starting at instruction <paramref name="InsnOffset"/>.</summary>
public sealed record BtfExtFuncInfo(int InsnOffset, uint TypeId);

/// <summary>The source line of instruction <paramref name="InsnOffset"/>.</summary>
public sealed record BtfExtLineInfo(int InsnOffset, string FileName, int Line, int Column, string LineText);

/// <summary>
/// A CO-RE relocation of instruction <paramref name="InsnOffset"/>: <paramref name="Kind"/> of the local type
/// <paramref name="TypeId"/> along <paramref name="AccessString"/> (colon-separated indices such as "0:1:2", or an
/// enumerator index, or "0" for a type relocation).
/// </summary>
public sealed record BtfCoreRelo(int InsnOffset, uint TypeId, string AccessString, CoreReloKind Kind);
