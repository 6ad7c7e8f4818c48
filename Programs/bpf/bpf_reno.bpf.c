// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_reno_c: the smallest useful BPF congestion control, only the members tcp_validate_congestion_control requires
 * (ssthresh, cong_avoid, undo_cwnd), each calling the kernel's Reno through its kfunc. Its cwnd and ssthresh are
 * the built-in "reno"'s. Kfuncs: tcp_reno_ssthresh, tcp_reno_cong_avoid, tcp_reno_undo_cwnd. No helpers, maps or
 * globals.
 */
#include "bpfsim_cc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops")
__u32 BPF_PROG(reno_c_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(reno_c_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(reno_c_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops bpf_reno_c = {
	.ssthresh = (void *)reno_c_ssthresh,
	.cong_avoid = (void *)reno_c_cong_avoid,
	.undo_cwnd = (void *)reno_c_undo_cwnd,
	.name = "bpf_reno_c",
};
