namespace BpfSim.Core.Ebpf.Spec;

/// <summary>A variable of a global-data section: offset and size from its ELF symbol, type from its BTF VAR.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Offset">Its byte offset in the section (the symbol's value; the .o's DATASEC says 0).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="TypeId">The BTF id of the VAR's type.</param>
/// <param name="IsGlobal">Global linkage (a static variable is not visible to user space through a skeleton).</param>
public sealed record ObjectVariable(string Name, uint Offset, uint Size, uint TypeId, bool IsGlobal);
