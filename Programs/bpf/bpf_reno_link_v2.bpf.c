// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_reno_lnk, version 2: the update of bpf_reno_link_v1.bpf.o, under the same name (tcp_update_congestion_control
 * requires it), in link mode (SEC(".struct_ops.link")). It backs off more gently: ssthresh = cwnd * 7 / 10 (u32),
 * at least 2, as the C# consumer bpf_reno_link_v2 (Programs/Tcp/BpfRenoLink.cs). Growth and undo are Reno's
 * kfuncs. Kfuncs: tcp_reno_cong_avoid, tcp_reno_undo_cwnd.
 */
#include "bpfsim_cc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops")
__u32 BPF_PROG(reno_lnk_v2_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return max_u32(tp->snd_cwnd * 7 / 10, 2U);
}

SEC("struct_ops")
void BPF_PROG(reno_lnk_v2_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(reno_lnk_v2_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops reno_lnk_v2 = {
	.ssthresh = (void *)reno_lnk_v2_ssthresh,
	.cong_avoid = (void *)reno_lnk_v2_cong_avoid,
	.undo_cwnd = (void *)reno_lnk_v2_undo_cwnd,
	.name = "bpf_reno_lnk",
};
