// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: a struct_ops congestion control under a non-GPL license, which the kernel refuses. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "X";

SEC("struct_ops")
__u32 BPF_PROG(nogpl_ssthresh, struct sock *sk)
{
	return ((struct tcp_sock *)sk)->snd_cwnd;
}

SEC("struct_ops")
void BPF_PROG(nogpl_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC("struct_ops")
__u32 BPF_PROG(nogpl_undo_cwnd, struct sock *sk)
{
	return ((struct tcp_sock *)sk)->snd_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops nogpl_ca = {
	.ssthresh = (void *)nogpl_ssthresh,
	.cong_avoid = (void *)nogpl_cong_avoid,
	.undo_cwnd = (void *)nogpl_undo_cwnd,
	.name = "nogpl_ca",
};
