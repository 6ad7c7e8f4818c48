// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: everything a struct_ops congestion control object may hold. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

/* Global data: .bss, .data, .rodata. */
int acked_total;
__u64 events_seen[6];
int cwnd_floor = 2;
const volatile __u32 alpha_shift = 4;
const char algo_name[] = "test_ca";

/* BTF-defined maps. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} flow_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16);
} counters SEC(".maps");

struct ca_state {
	__u32 loss_cwnd;
	__u32 rounds;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ca_state);
} sk_state SEC(".maps");

/* Externs: a kconfig value, a strong and a weak kfunc. */
extern unsigned long CONFIG_HZ __kconfig;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_slow_start(struct tcp_sock *tp, __u32 acked) __ksym __weak;

static inline struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

/* Kept out of line: a bpf-to-bpf call into .text. */
__attribute__((noinline)) __u32 halve_cwnd(struct tcp_sock *tp, __u32 floor)
{
	__u32 half = tp->snd_cwnd >> 1;

	return half > floor ? half : floor;
}

SEC("struct_ops")
void BPF_PROG(test_init, struct sock *sk)
{
	struct ca_state *st;

	st = bpf_sk_storage_get(&sk_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st)
		st->rounds = 0;
	if (bpf_core_field_exists(struct tcp_sock, prior_cwnd))
		tcp_sk(sk)->prior_cwnd = 0;
}

SEC("struct_ops")
__u32 BPF_PROG(test_ssthresh, struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	return halve_cwnd(tp, cwnd_floor);
}

SEC("struct_ops")
void BPF_PROG(test_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);
	__u32 key = 0;
	__u64 *bytes;

	acked_total += acked;
	bytes = bpf_map_lookup_elem(&flow_bytes, &key);
	if (bytes)
		*bytes += acked * CONFIG_HZ;
	if (tp->is_cwnd_limited && tcp_slow_start)
		tcp_slow_start(tp, acked);
	else
		tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(test_set_state, struct sock *sk, __u8 new_state)
{
	struct inet_connection_sock *icsk = (void *)sk;

	if (icsk->icsk_ca_state != new_state)
		events_seen[0]++;
	if (bpf_core_type_exists(struct rate_sample))
		events_seen[1] = bpf_core_type_size(struct rate_sample);
	if (bpf_core_enum_value_exists(enum tcp_ca_event, CA_EVENT_LOSS))
		events_seen[2] = bpf_core_enum_value(enum tcp_ca_event, CA_EVENT_LOSS);
}

SEC("struct_ops")
void BPF_PROG(test_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	__u32 idx = ev;
	__u64 *c;

	if (idx < 6)
		events_seen[idx] += 1;
	c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += alpha_shift + algo_name[0];
}

SEC("struct_ops")
void BPF_PROG(test_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	struct tcp_sock *tp = tcp_sk(sk);
	__u64 *priv = ((struct inet_connection_sock *)sk)->icsk_ca_priv;

	priv[0] += sample->pkts_acked;
	if (sample->rtt_us > 0)
		tp->snd_cwnd_cnt = BPF_CORE_READ_BITFIELD(tp, syn_data);
}

SEC("struct_ops")
__u32 BPF_PROG(test_undo_cwnd, struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	return tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd : tp->prior_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops test_ca = {
	.init = (void *)test_init,
	.ssthresh = (void *)test_ssthresh,
	.cong_avoid = (void *)test_cong_avoid,
	.set_state = (void *)test_set_state,
	.cwnd_event = (void *)test_cwnd_event,
	.pkts_acked = (void *)test_pkts_acked,
	.undo_cwnd = (void *)test_undo_cwnd,
	.name = "test_ca",
};

SEC(".struct_ops")
struct tcp_congestion_ops test_ca_mini = {
	.ssthresh = (void *)test_ssthresh,
	.cong_avoid = (void *)test_cong_avoid,
	.undo_cwnd = (void *)test_undo_cwnd,
	.flags = 1,
	.name = "test_ca_mini",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops test_ca_link = {
	.ssthresh = (void *)test_ssthresh,
	.cong_avoid = (void *)test_cong_avoid,
	.undo_cwnd = (void *)test_undo_cwnd,
	.name = "test_ca_link",
};
