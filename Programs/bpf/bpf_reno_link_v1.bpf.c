// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_reno_lnk, version 1: a link-mode congestion control (SEC(".struct_ops.link")), registered when its struct_ops
 * link is created. bpf_reno_link_v2.bpf.o registers the same name, so a link update (bpftool's `struct_ops`
 * replace, BPF_LINK_UPDATE) swaps v1 for v2 across the two objects: sockets opened after the update get v2, those
 * opened before keep v1. v1 is Reno (ssthresh = cwnd / 2), through the kernel's kfuncs, as the C# consumer
 * bpf_reno_link_v1 (Programs/Tcp/BpfRenoLink.cs) is. Kfuncs: tcp_reno_ssthresh, tcp_reno_cong_avoid,
 * tcp_reno_undo_cwnd.
 */
#include "bpfsim_cc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops")
__u32 BPF_PROG(reno_lnk_v1_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(reno_lnk_v1_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(reno_lnk_v1_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops reno_lnk_v1 = {
	.ssthresh = (void *)reno_lnk_v1_ssthresh,
	.cong_avoid = (void *)reno_lnk_v1_cong_avoid,
	.undo_cwnd = (void *)reno_lnk_v1_undo_cwnd,
	.name = "bpf_reno_lnk",
};
