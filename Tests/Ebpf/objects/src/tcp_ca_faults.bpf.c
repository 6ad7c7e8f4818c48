// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: struct_ops congestion controls that each misbehave in one way. Every variable is a complete
 * tcp_congestion_ops (Reno through the tcp_reno_* kfuncs); only its cong_avoid differs:
 *   bad_write   writes tcp_sock->snd_una, which bpf_tcp_ca_btf_struct_access refuses (EACCES at load);
 *   bad_helper  calls bpf_get_current_comm, which no struct_ops program may call (EINVAL at load);
 *   bad_kfunc   calls a strong __ksym kfunc the kernel does not have (ESRCH from libbpf at load);
 *   weak_kfunc  calls a missing __weak kfunc only under bpf_ksym_exists (loads and runs);
 *   oob_read    reads 100000 bytes past the socket, an offset the loader cannot see (faults at run time);
 *   spin        loops on a global it never changes (runs out of the instruction budget at run time);
 *   printk      traces cwnd and ssthresh with bpf_printk on every call;
 *   ai_zero     calls tcp_cong_avoid_ai with w = 0, a divide error in the kernel (faults at run time);
 *   no_null     counts its calls in a hash map through a lookup it never compares with NULL (EACCES at load);
 *   null_ok     the same with the check, adding the entry when it is missing (loads and runs).
 * The run-time faults wait for the 200th call, so flows run on the algorithm before it is ejected. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* libbpf 1.1's bpf_helpers.h has no bpf_ksym_exists; this is the later one. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({ _Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); !!sym; })
#endif

/* Fields kernel_types.h leaves out, through a flavor of tcp_sock: CO-RE matches it to the kernel's tcp_sock. */
struct tcp_sock___faults {
	__u32 snd_una;
	__u32 srtt_us;
} __attribute__((preserve_access_index));

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;
extern void tcp_cong_avoid_ai(struct tcp_sock *tp, __u32 w, __u32 acked) __ksym;
extern void bpfsim_no_such_kfunc(struct sock *sk) __ksym;
extern void bpfsim_missing_weak_kfunc(struct sock *sk) __ksym __weak;

/* How far past the socket oob_read reads: data, so the load-time checks cannot know it. */
__u64 oob_distance = 100000;
/* spin's loop condition: set here, never changed by any program. */
volatile int keep_spinning = 1;
/* Calls so far, per misbehaving program. */
__u32 oob_calls;
__u32 spin_calls;
__u32 ai_zero_calls;
__u64 spin_rounds;

#define FAULT_AFTER 200

/* Calls counted by no_null and null_ok. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} call_counts SEC(".maps");

SEC("struct_ops")
__u32 BPF_PROG(faults_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
__u32 BPF_PROG(faults_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC("struct_ops")
void BPF_PROG(bad_write_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock___faults *tp = (void *)sk;

	tp->snd_una = ack;
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(bad_helper_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(bad_kfunc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	bpfsim_no_such_kfunc(sk);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(weak_kfunc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	if (bpf_ksym_exists(bpfsim_missing_weak_kfunc))
		bpfsim_missing_weak_kfunc(sk);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(oob_read_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	if (++oob_calls > FAULT_AFTER) {
		__u32 far = *(volatile __u32 *)((char *)sk + oob_distance);

		if (far == 0x5a5a5a5a)
			return;
	}
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(spin_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	if (++spin_calls > FAULT_AFTER) {
		while (keep_spinning)
			spin_rounds++;
	}
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(printk_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = (void *)sk;

	bpf_printk("cwnd %u ssthresh %u", tp->snd_cwnd, tp->snd_ssthresh);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(ai_zero_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	if (++ai_zero_calls > FAULT_AFTER)
		tcp_cong_avoid_ai((struct tcp_sock *)sk, 0, acked);
	else
		tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(no_null_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__u32 key = 0;
	__u64 *calls = bpf_map_lookup_elem(&call_counts, &key);

	(*calls)++;
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(null_ok_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__u32 key = 0;
	__u64 *calls = bpf_map_lookup_elem(&call_counts, &key);

	if (calls) {
		(*calls)++;
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&call_counts, &key, &one, 1 /* BPF_NOEXIST */);
	}
	tcp_reno_cong_avoid(sk, ack, acked);
}

#define FAULTS_CA(var, avoid)					\
	SEC(".struct_ops")					\
	struct tcp_congestion_ops var = {			\
		.ssthresh = (void *)faults_ssthresh,		\
		.cong_avoid = (void *)avoid,			\
		.undo_cwnd = (void *)faults_undo_cwnd,		\
		.name = "t_" #var,				\
	}

FAULTS_CA(bad_write, bad_write_cong_avoid);
FAULTS_CA(bad_helper, bad_helper_cong_avoid);
FAULTS_CA(bad_kfunc, bad_kfunc_cong_avoid);
FAULTS_CA(weak_kfunc, weak_kfunc_cong_avoid);
FAULTS_CA(oob_read, oob_read_cong_avoid);
FAULTS_CA(spin, spin_cong_avoid);
FAULTS_CA(printk, printk_cong_avoid);
FAULTS_CA(ai_zero, ai_zero_cong_avoid);
FAULTS_CA(no_null, no_null_cong_avoid);
FAULTS_CA(null_ok, null_ok_cong_avoid);
