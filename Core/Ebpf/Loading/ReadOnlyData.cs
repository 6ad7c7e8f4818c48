namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// Reads <paramref name="size"/> bytes at <paramref name="address"/> of a frozen read-only map value (an object's
/// .rodata or .kconfig), as the verifier does for constant-offset loads from one (bpf_map_direct_read); false when
/// the address is not in one.
/// </summary>
internal delegate bool ReadOnlyData(ulong address, int size, out ulong value);
