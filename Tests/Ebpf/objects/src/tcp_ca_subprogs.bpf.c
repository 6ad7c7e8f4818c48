// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: bpf-to-bpf calls. sub_cc's ssthresh calls mid (static), which calls leaf (static), and glob
 * (global), which calls leaf too: clang relocates the calls out of the struct_ops section but not the static call
 * from mid to leaf inside .text, which the loader must follow by its offset. sub_write's cong_avoid hands the socket
 * to a static helper that writes tcp_sock->snd_una: refused at load as if the write were in the program itself. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

struct tcp_sock___sub {
	__u32 snd_una;
} __attribute__((preserve_access_index));

int counter;
int table[8];

static __attribute__((noinline)) int leaf(int x)
{
	counter += x;
	return table[3] + x;
}

static __attribute__((noinline)) int mid(int x)
{
	return leaf(x + 1) * 2;
}

__attribute__((noinline)) int glob(int x)
{
	return leaf(x) + 5;
}

static __attribute__((noinline)) void scribble(struct tcp_sock___sub *tp)
{
	tp->snd_una = 1;
}

SEC("struct_ops")
__u32 BPF_PROG(sub_ssthresh, struct sock *sk)
{
	return mid(3) + glob(1) + tcp_reno_ssthresh(sk);     /* (0 + 4) * 2 + (0 + 1) + 5 + reno = 14 + reno */
}

SEC("struct_ops")
void BPF_PROG(sub_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(write_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	scribble((struct tcp_sock___sub *)sk);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(sub_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops sub_cc = {
	.ssthresh = (void *)sub_ssthresh,
	.cong_avoid = (void *)sub_cong_avoid,
	.undo_cwnd = (void *)sub_undo_cwnd,
	.name = "sub_cc",
};

SEC(".struct_ops")
struct tcp_congestion_ops sub_write = {
	.ssthresh = (void *)sub_ssthresh,
	.cong_avoid = (void *)write_cong_avoid,
	.undo_cwnd = (void *)sub_undo_cwnd,
	.name = "sub_write",
};
