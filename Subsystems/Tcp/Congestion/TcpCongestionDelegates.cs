using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

// The signatures of the tcp_congestion_ops members (include/net/tcp.h). A program body for a member must be
// exactly the delegate type listed for it in TcpCongestionOpsType.

/// <summary><c>u32 (*ssthresh)(struct sock *sk)</c>, also undo_cwnd, min_tso_segs, sndbuf_expand.</summary>
public delegate uint SockU32Fn(ref TcpSock sk);

/// <summary><c>void (*init)(struct sock *sk)</c>, also release.</summary>
public delegate void SockVoidFn(ref TcpSock sk);

/// <summary><c>void (*cong_avoid)(struct sock *sk, u32 ack, u32 acked)</c>.</summary>
public delegate void CongAvoidFn(ref TcpSock sk, uint ack, uint acked);

/// <summary><c>void (*set_state)(struct sock *sk, u8 new_state)</c>.</summary>
public delegate void SetStateFn(ref TcpSock sk, TcpCaState newState);

/// <summary><c>void (*cwnd_event)(struct sock *sk, enum tcp_ca_event ev)</c>.</summary>
public delegate void CwndEventFn(ref TcpSock sk, TcpCaEvent ev);

/// <summary><c>void (*in_ack_event)(struct sock *sk, u32 flags)</c>.</summary>
public delegate void InAckEventFn(ref TcpSock sk, uint flags);

/// <summary><c>void (*pkts_acked)(struct sock *sk, const struct ack_sample *sample)</c>.</summary>
public delegate void PktsAckedFn(ref TcpSock sk, in AckSample sample);

/// <summary><c>void (*cong_control)(struct sock *sk, u32 ack, int flag, const struct rate_sample *rs)</c>.</summary>
public delegate void CongControlFn(ref TcpSock sk, uint ack, int flag, in RateSample rs);

/// <summary><c>size_t (*get_info)(struct sock *sk, u32 ext, int *attr, union tcp_cc_info *info)</c>; not available to BPF.</summary>
public delegate ulong GetInfoFn(ref TcpSock sk, uint ext, ref int attr, Span<byte> info);
