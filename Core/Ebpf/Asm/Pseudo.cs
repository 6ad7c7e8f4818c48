namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// The special meanings of src_reg (include/uapi/linux/bpf.h): for a 64-bit immediate load, what the immediate
/// refers to; for a call, what kind of function it calls.
/// </summary>
/// <remarks>
/// The loader resolves every pseudo source before a program runs: the interpreter treats the 64-bit immediate of
/// an ldimm64 as the final value whatever its src_reg says.
/// </remarks>
public static class Pseudo
{
    /// <summary>BPF_PSEUDO_MAP_FD: imm is a map fd; the register receives the map.</summary>
    public const int MapFd = 1;

    /// <summary>BPF_PSEUDO_MAP_VALUE: imm is a map fd, the second slot's imm an offset into its value.</summary>
    public const int MapValue = 2;

    /// <summary>BPF_PSEUDO_BTF_ID: imm is a BTF id of a kernel variable (a ksym).</summary>
    public const int BtfId = 3;

    /// <summary>BPF_PSEUDO_FUNC: imm is the instruction offset of a subprogram (a callback's address).</summary>
    public const int Func = 4;

    /// <summary>BPF_PSEUDO_MAP_IDX: imm is an index into the fd_array.</summary>
    public const int MapIdx = 5;

    /// <summary>BPF_PSEUDO_MAP_IDX_VALUE: imm is an fd_array index, the second slot's imm an offset.</summary>
    public const int MapIdxValue = 6;

    /// <summary>BPF_PSEUDO_CALL: a call to a subprogram; imm is the offset from the next instruction.</summary>
    public const int Call = 1;

    /// <summary>BPF_PSEUDO_KFUNC_CALL: a call to a kernel function; imm identifies it (bpfsim: the loader's index).</summary>
    public const int KfuncCall = 2;
}
