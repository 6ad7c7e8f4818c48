// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal Reno written for bpfsim's vmlinux.h test: slow start, one segment per window in congestion avoidance,
 * half the window on loss. It reads through the kernel's nesting (tcp_sock -> inet_connection_sock -> sock), a
 * bitfield, the private area, and asks whether a field bpfsim does not model exists.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

/* A field of newer kernels, through a local flavor: CO-RE answers 0 on bpfsim, which does not model it. */
struct tcp_sock___bytes {
	u64 bytes_acked;
} __attribute__((preserve_access_index));

struct mini_reno {
	u32 loss_cwnd;
	u32 acked_total;
	u64 pacing_seen;
};

static __always_inline struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

static __always_inline struct inet_connection_sock *inet_csk(const struct sock *sk)
{
	return (struct inet_connection_sock *)sk;
}

static __always_inline void *inet_csk_ca(const struct sock *sk)
{
	return (void *)inet_csk(sk)->icsk_ca_priv;
}

SEC("struct_ops")
void BPF_PROG(mini_reno_init, struct sock *sk)
{
	struct mini_reno *ca = inet_csk_ca(sk);

	ca->loss_cwnd = 0;
	ca->acked_total = 0;
	ca->pacing_seen = 0;
}

SEC("struct_ops")
__u32 BPF_PROG(mini_reno_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct mini_reno *ca = inet_csk_ca(sk);
	u32 half = tp->snd_cwnd >> 1;

	ca->loss_cwnd = tp->snd_cwnd;
	return half > 2 ? half : 2;
}

SEC("struct_ops")
void BPF_PROG(mini_reno_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct mini_reno *ca = inet_csk_ca(sk);

	ca->acked_total += acked;
	if (!BPF_CORE_READ_BITFIELD(tp, is_cwnd_limited))
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		u32 cwnd = tp->snd_cwnd + acked;

		if (cwnd > tp->snd_ssthresh)
			cwnd = tp->snd_ssthresh;
		tp->snd_cwnd = cwnd < tp->snd_cwnd_clamp ? cwnd : tp->snd_cwnd_clamp;
		return;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= tp->snd_cwnd) {
		tp->snd_cwnd_cnt -= tp->snd_cwnd;
		if (tp->snd_cwnd < tp->snd_cwnd_clamp)
			tp->snd_cwnd++;
	}
}

SEC("struct_ops")
void BPF_PROG(mini_reno_set_state, struct sock *sk, __u8 new_state)
{
	struct mini_reno *ca = inet_csk_ca(sk);

	if (new_state == TCP_CA_Loss && BPF_CORE_READ_BITFIELD(inet_csk(sk), icsk_ca_state) != TCP_CA_Loss)
		ca->acked_total = 0;
}

SEC("struct_ops")
void BPF_PROG(mini_reno_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct mini_reno *ca = inet_csk_ca(sk);

	if (ev != CA_EVENT_TX_START)
		return;
	/* The kernel's own path to the pacing rate, through every level. */
	ca->pacing_seen = tp->inet_conn.icsk_inet.sk.sk_pacing_rate;
	if (bpf_core_field_exists(((struct tcp_sock___bytes *)tp)->bytes_acked))
		ca->pacing_seen += ((struct tcp_sock___bytes *)tp)->bytes_acked;
}

SEC("struct_ops")
void BPF_PROG(mini_reno_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	struct mini_reno *ca = inet_csk_ca(sk);

	if (sample->rtt_us > 0)
		ca->acked_total += sample->pkts_acked;
}

SEC("struct_ops")
__u32 BPF_PROG(mini_reno_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct mini_reno *ca = inet_csk_ca(sk);

	return tp->snd_cwnd > ca->loss_cwnd ? tp->snd_cwnd : ca->loss_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops mini_reno = {
	.init = (void *)mini_reno_init,
	.ssthresh = (void *)mini_reno_ssthresh,
	.cong_avoid = (void *)mini_reno_cong_avoid,
	.set_state = (void *)mini_reno_set_state,
	.cwnd_event = (void *)mini_reno_cwnd_event,
	.pkts_acked = (void *)mini_reno_pkts_acked,
	.undo_cwnd = (void *)mini_reno_undo_cwnd,
	.name = "bpf_mini_reno",
};
