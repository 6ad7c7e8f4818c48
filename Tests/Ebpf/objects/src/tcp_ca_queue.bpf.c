// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: a QUEUE and a STACK map used through bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem
 * (kernel/bpf/queue_stack_maps.c). init runs one fixed sequence on each map, keeping every helper's result and every
 * value it read in .bss for the test to compare with the kernel's semantics. qmap_bad's init passes the queue to
 * bpf_map_lookup_elem, which check_map_func_compatibility refuses (bpfsim faults the call). */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* Not in kernel_types.h, which the other objects share: include/uapi/linux/bpf.h values. */
#define BPF_MAP_TYPE_QUEUE 22
#define BPF_MAP_TYPE_STACK 23
#define BPF_EXIST 2

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 2);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 2);
} lifo SEC(".maps");

/* Per map: results of push 1, push 2, push 3 (full), push 3 with BPF_EXIST, peek, pop, pop, pop (empty). */
long fifo_rc[8];
__u32 fifo_seen[4];
long lifo_rc[8];
__u32 lifo_seen[4];
int inits;

static __always_inline void run(void *map, long *rc, __u32 *seen)
{
	__u32 v;

	v = 1;
	rc[0] = bpf_map_push_elem(map, &v, 0);
	v = 2;
	rc[1] = bpf_map_push_elem(map, &v, 0);
	v = 3;
	rc[2] = bpf_map_push_elem(map, &v, 0);
	rc[3] = bpf_map_push_elem(map, &v, BPF_EXIST);
	rc[4] = bpf_map_peek_elem(map, &seen[0]);
	rc[5] = bpf_map_pop_elem(map, &seen[1]);
	rc[6] = bpf_map_pop_elem(map, &seen[2]);
	seen[3] = 0xffffffff;
	rc[7] = bpf_map_pop_elem(map, &seen[3]);
}

SEC("struct_ops")
void BPF_PROG(q_init, struct sock *sk)
{
	if (inits++)
		return;
	run(&fifo, fifo_rc, fifo_seen);
	run(&lifo, lifo_rc, lifo_seen);
}

SEC("struct_ops")
void BPF_PROG(bad_init, struct sock *sk)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(&fifo, &key))
		inits += 100;
}

SEC("struct_ops")
__u32 BPF_PROG(q_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(q_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(q_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops qmap_ca = {
	.init = (void *)q_init,
	.ssthresh = (void *)q_ssthresh,
	.cong_avoid = (void *)q_cong_avoid,
	.undo_cwnd = (void *)q_undo_cwnd,
	.name = "qmap_ca",
};

SEC(".struct_ops")
struct tcp_congestion_ops qmap_bad = {
	.init = (void *)bad_init,
	.ssthresh = (void *)q_ssthresh,
	.cong_avoid = (void *)q_cong_avoid,
	.undo_cwnd = (void *)q_undo_cwnd,
	.name = "qmap_bad",
};
