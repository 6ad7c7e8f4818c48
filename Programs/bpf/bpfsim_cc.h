/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bpfsim's own BPF congestion controls share: the kernel's inline accessors (tcp_sk, inet_csk, inet_csk_ca),
 * the sequence-number comparisons, the kfuncs of net/ipv4/tcp_cong.c and bpf_tcp_ca.c, and the constants that are
 * #defines in the kernel and so absent from its BTF (and from vmlinux.h).
 *
 * vmlinux.h next to this file is bpfsim's kernel BTF written as C (`bpfsim btf dump --format c`); see build.sh.
 */
#ifndef BPFSIM_CC_H
#define BPFSIM_CC_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* vmlinux.h has the kernel's `typedef _Bool bool`; true and false are macros in the kernel too. */
#ifndef true
#define true 1
#define false 0
#endif

/* include/uapi/linux/bpf.h (enum values; vmlinux.h of bpfsim carries no bpf(2) types). */
#define BPF_MAP_TYPE_SK_STORAGE 24
#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_SK_STORAGE_GET_F_CREATE (1ULL << 0)

/* include/linux/socket.h, include/uapi/linux/tcp.h */
#define SOL_TCP 6
#define TCP_CONGESTION 13

/* include/net/tcp.h */
#define TCP_CA_NAME_MAX 16
#define TCP_CONG_NON_RESTRICTED 0x1
#define TCP_CONG_NEEDS_ECN 0x2
#define TCP_ECN_OK 1
#define TCP_ECN_QUEUE_CWR 2
#define TCP_ECN_DEMAND_CWR 4
#define TCP_ECN_SEEN 8

/* include/vdso/time64.h */
#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL

/* The kfuncs a tcp_congestion_ops program may call (net/ipv4/bpf_tcp_ca.c: bpf_tcp_ca_check_kfunc_ids). */
extern __u32 tcp_slow_start(struct tcp_sock *tp, __u32 acked) __ksym;
extern void tcp_cong_avoid_ai(struct tcp_sock *tp, __u32 w, __u32 acked) __ksym;
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

/*
 * The casts the kernel's tcp_sk() and inet_csk() are. The verifier types every struct sock * argument of a
 * tcp_congestion_ops program as a struct tcp_sock (bpf_tcp_ca_is_valid_access), so these change nothing at run time.
 */
static __always_inline struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

static __always_inline struct inet_connection_sock *inet_csk(const struct sock *sk)
{
	return (struct inet_connection_sock *)sk;
}

/* The algorithm's private area, icsk_ca_priv (104 bytes). */
static __always_inline void *inet_csk_ca(const struct sock *sk)
{
	return (void *)inet_csk(sk)->icsk_ca_priv;
}

/* before(seq1, seq2) and after(seq2, seq1) of include/net/tcp.h: modulo 2^32. */
static __always_inline bool before(__u32 seq1, __u32 seq2)
{
	return (__s32)(seq1 - seq2) < 0;
}

static __always_inline bool after(__u32 seq2, __u32 seq1)
{
	return before(seq1, seq2);
}

static __always_inline __u32 min_u32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

static __always_inline __u32 max_u32(__u32 a, __u32 b)
{
	return a > b ? a : b;
}

/* tcp_in_slow_start (include/net/tcp.h). */
static __always_inline bool tcp_in_slow_start(const struct tcp_sock *tp)
{
	return tp->snd_cwnd < tp->snd_ssthresh;
}

/*
 * tcp_is_cwnd_limited (include/net/tcp.h, 6.12): the window was the limit of the last flight, or, in slow start,
 * cwnd has not yet reached twice the largest flight sent. is_cwnd_limited is a one-bit bitfield: read it with
 * its byte offset, size and shifts relocated.
 */
static __always_inline bool tcp_is_cwnd_limited(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (BPF_CORE_READ_BITFIELD(tp, is_cwnd_limited))
		return true;
	if (tcp_in_slow_start(tp))
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return false;
}

#endif /* BPFSIM_CC_H */
