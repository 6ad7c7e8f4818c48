namespace BpfSim.Tcp.Stack;

/// <summary>
/// A byte range of <c>struct tcp_sock</c> a tcp_congestion_ops program may write (bpf_tcp_ca_btf_struct_access,
/// net/ipv4/bpf_tcp_ca.c): a write must start at <see cref="Offset"/> (anywhere inside for a range such as
/// <c>icsk_ca_priv</c>) and end by <see cref="End"/>; every other write through a tcp_sock is EACCES, and every
/// write through another type (<c>struct sock *</c>) is "only read is supported".
/// </summary>
/// <param name="Member">The kernel member, as in the kernel's switch (<c>icsk_ack.pending</c>).</param>
/// <param name="Offset">Its offset in bpfsim's <see cref="TcpSock"/>.</param>
/// <param name="End">offsetofend: the first byte after it.</param>
/// <param name="AnyOffsetInside">True for <c>bpf_ctx_range</c> cases: a write may start anywhere in [Offset, End).</param>
public sealed record TcpWritableField(string Member, int Offset, int End, bool AnyOffsetInside);
