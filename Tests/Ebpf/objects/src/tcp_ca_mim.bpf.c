// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: an ARRAY_OF_MAPS whose inner maps are QUEUE maps, the shape scx_qmap uses. init looks up slot 0
 * and slot 1 of the outer map (array_of_map_lookup_elem, kernel/bpf/arraymap.c) and pushes and pops on the inner
 * queue it gets, then key 42 of a HASH_OF_MAPS (htab_of_map_lookup_elem, kernel/bpf/hashtab.c), keeping every result
 * in .bss; the test fills the slots through the syscall side and leaves slot 1 empty.
 * mim_bad's init passes the inner queue to bpf_map_lookup_elem, which check_map_func_compatibility refuses. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* Not in kernel_types.h, which the other objects share: include/uapi/linux/bpf.h values. */
#define BPF_MAP_TYPE_ARRAY_OF_MAPS 12
#define BPF_MAP_TYPE_HASH_OF_MAPS 13
#define BPF_MAP_TYPE_QUEUE 22

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

struct queue_type {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 4);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct queue_type);
} queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct queue_type);
} queues_by_id SEC(".maps");

/* Slot 0: found, push 7, push 8, pop (7 comes out). Slot 1: found. Key 42 of queues_by_id: found, push 9. */
int found0;
long push_rc[2];
long pop_rc;
__u32 popped;
int found1;
int found42;
long push42_rc;
int inits;

SEC("struct_ops")
void BPF_PROG(m_init, struct sock *sk)
{
	__u32 key = 0, v;
	void *q;

	if (inits++)
		return;
	q = bpf_map_lookup_elem(&queues, &key);
	if (q) {
		found0 = 1;
		v = 7;
		push_rc[0] = bpf_map_push_elem(q, &v, 0);
		v = 8;
		push_rc[1] = bpf_map_push_elem(q, &v, 0);
		popped = 0xffffffff;
		pop_rc = bpf_map_pop_elem(q, &popped);
	}
	key = 1;
	found1 = bpf_map_lookup_elem(&queues, &key) != 0;
	key = 42;
	q = bpf_map_lookup_elem(&queues_by_id, &key);
	if (q) {
		found42 = 1;
		v = 9;
		push42_rc = bpf_map_push_elem(q, &v, 0);
	}
}

SEC("struct_ops")
void BPF_PROG(bad_init, struct sock *sk)
{
	__u32 key = 0;
	void *q;

	q = bpf_map_lookup_elem(&queues, &key);
	if (q && bpf_map_lookup_elem(q, &key))
		inits += 100;
}

SEC("struct_ops")
__u32 BPF_PROG(m_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(m_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(m_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops mim_ca = {
	.init = (void *)m_init,
	.ssthresh = (void *)m_ssthresh,
	.cong_avoid = (void *)m_cong_avoid,
	.undo_cwnd = (void *)m_undo_cwnd,
	.name = "mim_ca",
};

SEC(".struct_ops")
struct tcp_congestion_ops mim_bad = {
	.init = (void *)bad_init,
	.ssthresh = (void *)m_ssthresh,
	.cong_avoid = (void *)m_cong_avoid,
	.undo_cwnd = (void *)m_undo_cwnd,
	.name = "mim_bad",
};
