namespace BpfSim.Tcp.Stack;

/// <summary>
/// One member of the kernel's socket structs that bpfsim models, and where it lives in <see cref="TcpSock"/>.
/// </summary>
/// <param name="Struct">The kernel struct that declares it: <c>sock</c>, <c>inet_connection_sock</c> or <c>tcp_sock</c>.</param>
/// <param name="Member">The kernel's member name; <c>icsk_ack.pending</c> names a member of the anonymous struct <c>icsk_ack</c>.</param>
/// <param name="CType">The kernel's C type as vmlinux.h spells it (<c>u32</c>, <c>long unsigned int</c>, <c>struct minmax</c>).</param>
/// <param name="ArrayLength">The element count for an array member (<c>icsk_ca_priv</c> is u64[13]), else 0.</param>
/// <param name="BitfieldBits">The width of a bitfield (<c>icsk_ca_state:5</c>), else 0: the field is then bit 0 up of its byte.</param>
/// <param name="Offset">Its byte offset in <see cref="TcpSock"/>, measured from the runtime layout.</param>
/// <param name="Size">Its size in bpfsim's struct in bytes.</param>
/// <param name="BpfsimField">The <see cref="TcpSock"/> field that holds it.</param>
public sealed record TcpKernelField(string Struct, string Member, string CType, int ArrayLength, int BitfieldBits, int Offset, int Size,
    string BpfsimField);
