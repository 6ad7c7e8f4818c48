// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: bpf_setsockopt/bpf_getsockopt(TCP_CONGESTION) from init, with the kernel's rules.
 * ss_x's init asks for "cdg" (ENOTSUPP: cdg would use icsk_ca_priv), then switches the socket to ss_y; ss_y's init,
 * run inside that switch, asks to go back to ss_x and gets EBUSY (bpf_chg_cc_inprogress stops the loop), then reads
 * the socket's algorithm with bpf_getsockopt. Each result is kept in .bss for the test to read. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

#define SOL_TCP 6
#define TCP_CONGESTION 13

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

int x_cdg_result = 1;
int x_switch_result = 1;
int y_back_result = 1;
int y_getsockopt_result = 1;
int y_inits = 0;
char y_saw[16] = {};

SEC("struct_ops")
void BPF_PROG(x_init, struct sock *sk)
{
	char cdg[] = "cdg";
	char y[] = "ss_y";

	x_cdg_result = bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, cdg, sizeof(cdg));
	x_switch_result = bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, y, sizeof(y));
}

SEC("struct_ops")
void BPF_PROG(y_init, struct sock *sk)
{
	char x[] = "ss_x";

	y_inits++;
	y_back_result = bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, x, sizeof(x));
	y_getsockopt_result = bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, y_saw, sizeof(y_saw));
}

SEC("struct_ops")
__u32 BPF_PROG(ss_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(ss_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(ss_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops ss_x = {
	.init = (void *)x_init,
	.ssthresh = (void *)ss_ssthresh,
	.cong_avoid = (void *)ss_cong_avoid,
	.undo_cwnd = (void *)ss_undo_cwnd,
	.name = "ss_x",
};

SEC(".struct_ops")
struct tcp_congestion_ops ss_y = {
	.init = (void *)y_init,
	.ssthresh = (void *)ss_ssthresh,
	.cong_avoid = (void *)ss_cong_avoid,
	.undo_cwnd = (void *)ss_undo_cwnd,
	.name = "ss_y",
};
