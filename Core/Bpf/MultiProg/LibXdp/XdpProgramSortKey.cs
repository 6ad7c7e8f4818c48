namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// What libxdp compares to order programs in a dispatcher (struct xdp_program's run_prio, prog_name, whether it is
/// loaded, its instruction count, tag and load time). <see cref="XdpProgramOrder"/> compares them.
/// </summary>
/// <param name="RunPrio">Priority: lower runs first.</param>
/// <param name="Name">Program (function) name, compared as strcmp does (ordinal bytes).</param>
/// <param name="IsLoaded">Loaded in the kernel (has a prog fd).</param>
/// <param name="Size">Instruction count of a program opened from an object file, loaded or not (libxdp's bpf_prog is
/// set); 0 for one taken from an fd or id, whose size libxdp does not compare.</param>
/// <param name="Tag">The 8-byte program tag as a big-endian number (memcmp order).</param>
/// <param name="LoadTimeNs">bpf_prog_info.load_time.</param>
public readonly record struct XdpProgramSortKey(int RunPrio, string Name, bool IsLoaded, long Size, ulong Tag, long LoadTimeNs);
