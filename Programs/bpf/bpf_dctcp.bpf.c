// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_dctcp_c: DCTCP as a BPF struct_ops congestion control, written for bpfsim so that its per-ACK cwnd and
 * ssthresh are the same as those of bpfsim's built-in "dctcp" (Subsystems/Tcp/Congestion/Dctcp.cs and DctcpMath.cs,
 * a port of net/ipv4/tcp_dctcp.c and tcp_dctcp.h). TCP_CONG_NEEDS_ECN: the stack negotiates ECN for it.
 *
 * What it shows besides the algorithm:
 *  - the receiver's CE state machine, which sends the ACK of the prior CE state with bpf_tcp_send_ack (helper 116)
 *    and writes icsk_ack.pending and ecn_flags;
 *  - the fallback when ECN was not negotiated: the built-in switches the socket to "dctcp-reno" (reno's ssthresh,
 *    cong_avoid and undo, not a registered name); this program does the equivalent from init with
 *    bpf_setsockopt(SOL_TCP, TCP_CONGESTION, fallback_cc) (helper 49), fallback_cc being "reno" by default, whose
 *    cwnd and ssthresh behave as dctcp-reno's;
 *  - .rodata knobs a skeleton would set before load (dctcp_shift_g, dctcp_alpha_on_init, fallback_cc), .bss
 *    counters, and a BPF_MAP_TYPE_SK_STORAGE map of per-socket statistics (bpf_sk_storage_get with
 *    BPF_SK_STORAGE_GET_F_CREATE, helper 107), none of which changes cwnd or ssthresh.
 *
 * Kfuncs: tcp_reno_cong_avoid. Helpers: bpf_setsockopt (49), bpf_sk_storage_get (107), bpf_tcp_send_ack (116).
 */
#include "bpfsim_cc.h"

char _license[] SEC("license") = "GPL";

#define DCTCP_MAX_ALPHA 1024U	/* alpha 1.0 in 1/1024 */

/* Knobs, in .rodata: the module parameters dctcp_shift_g (g = 1/2^4) and dctcp_alpha_on_init, and the fallback. */
const volatile __u32 dctcp_shift_g = 4;
const volatile __u32 dctcp_alpha_on_init = DCTCP_MAX_ALPHA;
const volatile char fallback_cc[TCP_CA_NAME_MAX] = "reno";

/* Counters, in .bss: sockets switched to fallback_cc, and the last bpf_setsockopt error (0 if none). */
__u32 fallback_switches;
__s32 fallback_error;

/* Per-socket statistics, created on first use. Nothing here feeds back into the algorithm. */
struct dctcp_c_stats {
	__u32 inits;		/* times init ran on this socket */
	__u32 alpha_updates;	/* observation windows closed */
	__u32 last_alpha;	/* alpha after the last update */
	__u32 ce_changes;	/* receiver CE state transitions */
	__u32 prior_acks;	/* ACKs of the prior CE state sent with bpf_tcp_send_ack */
	__u32 fell_back;	/* 1 if init switched the socket to fallback_cc */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dctcp_c_stats);
} dctcp_c_sk_stats SEC(".maps");

/* DCTCP's state in icsk_ca_priv: struct dctcp's seven u32 in the kernel's order (DctcpState). */
struct dctcp_c {
	__u32 old_delivered;	/* tp->delivered when the observation window began */
	__u32 old_delivered_ce;	/* tp->delivered_ce then */
	__u32 prior_rcv_nxt;	/* rcv_nxt at the last CE event: what a delayed ACK of the old state acks */
	__u32 dctcp_alpha;	/* the marked fraction's EWMA, 0..1024 */
	__u32 next_seq;		/* the window ends when snd_una reaches this */
	__u32 ce_state;		/* 1: the last data packet received was CE-marked */
	__u32 loss_cwnd;	/* cwnd before the last reduction, for undo */
};

_Static_assert(sizeof(struct dctcp_c) == 28, "struct dctcp_c must be struct dctcp's 28 bytes");

static __always_inline struct dctcp_c *ca_of(const struct sock *sk)
{
	return (struct dctcp_c *)inet_csk_ca(sk);
}

static __always_inline struct dctcp_c_stats *stats_of(struct sock *sk)
{
	return bpf_sk_storage_get(&dctcp_c_sk_stats, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
}

/* dctcp_reset (DctcpMath.ResetWindow): a new observation window up to snd_nxt, counters from now. */
static __always_inline void dctcp_reset(const struct tcp_sock *tp, struct dctcp_c *ca)
{
	ca->next_seq = tp->snd_nxt;
	ca->old_delivered = tp->delivered;
	ca->old_delivered_ce = tp->delivered_ce;
}

/*
 * dctcp_init. Without ECN (TCP_ECN_OK clear) the kernel's dctcp becomes dctcp_reno; the built-in's stack swaps the
 * ops before init (Dctcp.NeedsRenoFallback). Here init asks the kernel to switch the socket to fallback_cc, which
 * reinitialises the socket under that algorithm: this program's state is then not the socket's, so it returns. If
 * the switch fails the socket stays with DCTCP, initialised as usual, and the error is kept in fallback_error.
 */
SEC("struct_ops")
void BPF_PROG(dctcp_c_init, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp_c *ca = ca_of(sk);
	struct dctcp_c_stats *st = stats_of(sk);

	if (st)
		st->inits++;

	if (!(tp->ecn_flags & TCP_ECN_OK) && fallback_cc[0]) {
		long err = bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, (void *)fallback_cc, sizeof(fallback_cc));

		fallback_error = (__s32)err;
		if (!err) {
			fallback_switches++;
			if (st)
				st->fell_back = 1;
			return;
		}
	}

	/* DctcpMath.InitState */
	ca->prior_rcv_nxt = tp->rcv_nxt;
	ca->dctcp_alpha = min_u32(dctcp_alpha_on_init, DCTCP_MAX_ALPHA);
	ca->loss_cwnd = 0;
	ca->ce_state = 0;
	dctcp_reset(tp, ca);
}

/* dctcp_ssthresh (DctcpMath.Ssthresh): remember cwnd, cut by alpha/2: cwnd - cwnd * alpha / 2048, at least 2 (u32). */
SEC("struct_ops")
__u32 BPF_PROG(dctcp_c_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp_c *ca = ca_of(sk);
	__u32 cwnd = tp->snd_cwnd;

	ca->loss_cwnd = cwnd;
	return max_u32(cwnd - ((cwnd * ca->dctcp_alpha) >> 11U), 2U);
}

/*
 * dctcp_update_alpha (DctcpMath.UpdateAlpha), the in_ack_event: once snd_una has left the window,
 * alpha = (1 - g) alpha + g F, F the CE-marked fraction of the packets delivered in it; then a new window.
 */
SEC("struct_ops")
void BPF_PROG(dctcp_c_update_alpha, struct sock *sk, __u32 flags)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp_c *ca = ca_of(sk);
	struct dctcp_c_stats *st;
	__u32 delivered_ce, alpha, decay, shift_g = dctcp_shift_g;

	if (before(tp->snd_una, ca->next_seq))
		return;

	delivered_ce = tp->delivered_ce - ca->old_delivered_ce;
	alpha = ca->dctcp_alpha;

	/* alpha -= min_not_zero(alpha, alpha >> g): once alpha >> g is 0, all of alpha goes. */
	decay = alpha >> shift_g;
	alpha -= decay ? min_u32(alpha, decay) : alpha;
	if (delivered_ce) {
		__u32 delivered = tp->delivered - ca->old_delivered;

		/* g F in 1/1024, the shift first for precision; u32 (wraps after 2^22 marks per window at g = 4). */
		delivered_ce <<= 10 - shift_g;
		delivered_ce /= max_u32(1U, delivered);
		alpha = min_u32(alpha + delivered_ce, DCTCP_MAX_ALPHA);
	}
	ca->dctcp_alpha = alpha;
	dctcp_reset(tp, ca);

	st = stats_of(sk);
	if (st) {
		st->alpha_updates++;
		st->last_alpha = alpha;
	}
}

/* dctcp_react_to_loss (DctcpMath.ReactToLoss): a loss halves as Reno does, remembering cwnd for undo. */
static __always_inline void dctcp_react_to_loss(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp_c *ca = ca_of(sk);

	ca->loss_cwnd = tp->snd_cwnd;
	tp->snd_ssthresh = max_u32(tp->snd_cwnd >> 1U, 2U);
}

/*
 * dctcp_state (DctcpMath.SetState): entering Recovery, not re-entering it, reacts to the loss (icsk_ca_state is
 * still the old state, a 5-bit bitfield); an RTO is handled in cwnd_event.
 */
SEC("struct_ops")
void BPF_PROG(dctcp_c_state, struct sock *sk, __u8 new_state)
{
	if (new_state == TCP_CA_Recovery && new_state != BPF_CORE_READ_BITFIELD(inet_csk(sk), icsk_ca_state))
		dctcp_react_to_loss(sk);
}

/* dctcp_ece_ack_cwr: our ACKs carry ECE exactly while the CE state is 1 (TCP_ECN_DEMAND_CWR). */
static __always_inline void dctcp_ece_ack_cwr(struct tcp_sock *tp, __u32 ce_state)
{
	if (ce_state == 1)
		tp->ecn_flags |= TCP_ECN_DEMAND_CWR;
	else
		tp->ecn_flags &= ~TCP_ECN_DEMAND_CWR;
}

/*
 * dctcp_ece_ack_update (DctcpMath.EceAckUpdate, tcp_dctcp.h), the receiver's CE state machine: a change forces
 * the next ACK out at once; a delayed ACK still pending is sent first, for prior_rcv_nxt and with the old state's
 * ECE, so that the sender attributes every segment to the right CE run.
 */
static __always_inline void dctcp_ece_ack_update(struct sock *sk, enum tcp_ca_event evt)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp_c *ca = ca_of(sk);
	__u32 new_ce_state = evt == CA_EVENT_ECN_IS_CE ? 1 : 0;

	if (ca->ce_state != new_ce_state) {
		struct dctcp_c_stats *st = stats_of(sk);
		bool delayed = inet_csk(sk)->icsk_ack.pending & ICSK_ACK_TIMER;

		if (delayed) {
			dctcp_ece_ack_cwr(tp, ca->ce_state);
			bpf_tcp_send_ack(tp, ca->prior_rcv_nxt);
		}
		inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_NOW;
		if (st) {
			st->ce_changes++;
			if (delayed)
				st->prior_acks++;
		}
	}
	ca->prior_rcv_nxt = tp->rcv_nxt;
	ca->ce_state = new_ce_state;
	dctcp_ece_ack_cwr(tp, new_ce_state);
}

/* dctcp_cwnd_event (DctcpMath.CwndEvent): CE or non-CE data moves the CE state; CA_EVENT_LOSS reacts to loss. */
SEC("struct_ops")
void BPF_PROG(dctcp_c_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	switch (ev) {
	case CA_EVENT_ECN_IS_CE:
	case CA_EVENT_ECN_NO_CE:
		dctcp_ece_ack_update(sk, ev);
		break;
	case CA_EVENT_LOSS:
		dctcp_react_to_loss(sk);
		break;
	default:
		break;
	}
}

/* dctcp_cwnd_undo (DctcpMath.UndoCwnd): the larger of cwnd and the window before the reduction. */
SEC("struct_ops")
__u32 BPF_PROG(dctcp_c_cwnd_undo, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct dctcp_c *ca = ca_of(sk);

	return max_u32(tp->snd_cwnd, ca->loss_cwnd);
}

/* cong_avoid: the kernel's Reno, through its kfunc. */
SEC("struct_ops")
void BPF_PROG(dctcp_c_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

/* get_info is not offered to BPF (bpf_tcp_ca.c lists it as unsupported), so the built-in's has no counterpart. */
SEC(".struct_ops")
struct tcp_congestion_ops bpf_dctcp_c = {
	.init = (void *)dctcp_c_init,
	.in_ack_event = (void *)dctcp_c_update_alpha,
	.cwnd_event = (void *)dctcp_c_cwnd_event,
	.ssthresh = (void *)dctcp_c_ssthresh,
	.cong_avoid = (void *)dctcp_c_cong_avoid,
	.undo_cwnd = (void *)dctcp_c_cwnd_undo,
	.set_state = (void *)dctcp_c_state,
	.flags = TCP_CONG_NEEDS_ECN,
	.name = "bpf_dctcp_c",
};
