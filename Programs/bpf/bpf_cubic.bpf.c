// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_cubic_c: CUBIC with HyStart as a BPF struct_ops congestion control, written for bpfsim so that its per-ACK
 * cwnd and ssthresh are the same, bit for bit, as those of bpfsim's built-in "cubic" (Subsystems/Tcp/Congestion/
 * Cubic.cs and CubicMath.cs, a port of net/ipv4/tcp_cubic.c as of 6.13). Every computation below follows the
 * built-in's, with the same integer widths; the comments name the C# function each block mirrors.
 *
 * Time: tcp_jiffies32 is bpf_jiffies64() truncated to 32 bits (bpfsim's jiffies are its clock in ms, HZ = 1000, the
 * same value as TcpSock.TcpJiffies32 at every call point, where tcp_mstamp was just refreshed); microseconds are
 * tp->tcp_mstamp truncated to 32 bits (bictcp_clock_us). HZ is the CONFIG_HZ kconfig value.
 *
 * Kfuncs: tcp_slow_start, tcp_cong_avoid_ai, tcp_reno_undo_cwnd. Helpers: bpf_jiffies64.
 */
#include "bpfsim_cc.h"

char _license[] SEC("license") = "GPL";

extern unsigned long CONFIG_HZ __kconfig;

/* HZ as an unsigned 32-bit value; the comparisons with signed jiffies differences below cast it to s32. */
#define HZ ((__u32)CONFIG_HZ)

#define BICTCP_BETA_SCALE 1024U	/* beta in 1/1024 */
#define BICTCP_HZ 10		/* K and t in 1/2^10 s */

/* The module parameters at their defaults, as the built-in has them (CubicMath's constants). */
#define CUBIC_BETA 717U			/* 717/1024 ~ 0.7 */
#define CUBIC_BIC_SCALE 41U		/* C = 41 * 10 / 1024 ~ 0.4 */
#define CUBIC_FAST_CONVERGENCE 1
#define CUBIC_TCP_FRIENDLINESS 1
#define CUBIC_HYSTART 1
#define HYSTART_ACK_TRAIN 0x1
#define HYSTART_DELAY 0x2
#define CUBIC_HYSTART_DETECT (HYSTART_ACK_TRAIN | HYSTART_DELAY)
#define HYSTART_LOW_WINDOW 16U
#define HYSTART_ACK_DELTA_US 2000
#define HYSTART_MIN_SAMPLES 8
#define HYSTART_DELAY_MIN 4000U		/* 4 ms */
#define HYSTART_DELAY_MAX 16000U	/* 16 ms */
#define GSO_MAX_SIZE 65536ULL		/* what the built-in uses for sk_gso_max_size (absent from bpfsim's BTF) */

/* beta_scale = 8 * (1024 + 717) / 3 / (1024 - 717) = 15: Reno's growth rate, scaled by 8. */
#define BETA_SCALE_FRIENDLY (8U * (BICTCP_BETA_SCALE + CUBIC_BETA) / 3U / (BICTCP_BETA_SCALE - CUBIC_BETA))
/* cube_rtt_scale = bic_scale * 10 = 410 (u32 in the kernel). */
#define CUBE_RTT_SCALE (CUBIC_BIC_SCALE * 10U)
/* cube_factor = 2^(10 + 3 * BICTCP_HZ) / (bic_scale * 10) (u64 in the kernel). */
#define CUBE_FACTOR ((1ULL << (10 + 3 * BICTCP_HZ)) / (CUBIC_BIC_SCALE * 10U))

/*
 * CUBIC's state in icsk_ca_priv: struct bictcp's layout (CubicState): ten u32 that a reset clears, the u16 a reset
 * stops at, two u8, and the four u32 of the HyStart round.
 */
struct cubic_c {
	__u32 cnt;		/* increase cwnd by one after cnt packets acked */
	__u32 last_max_cwnd;	/* W_max */
	__u32 last_cwnd;	/* cwnd at the last recompute of cnt */
	__u32 last_time;	/* jiffies of that recompute */
	__u32 origin_point;	/* where the cubic curve plateaus */
	__u32 k;		/* time to the plateau, 1/1024 s */
	__u32 delay_min;	/* smallest RTT, us */
	__u32 epoch_start;	/* jiffies the growth epoch began, 0: none */
	__u32 ack_cnt;		/* packets acked since the Reno estimate grew */
	__u32 tcp_cwnd;		/* the Reno estimate */
	__u16 unused;
	__u8 sample_cnt;	/* HyStart delay samples this round */
	__u8 found;		/* HyStart found the exit */
	__u32 round_start;	/* us (truncated) the round began */
	__u32 end_seq;		/* the round ends when this is acked */
	__u32 last_ack;		/* us of the last ACK of a train */
	__u32 curr_rtt;		/* smallest RTT of this round, us */
};

_Static_assert(sizeof(struct cubic_c) == 60, "struct cubic_c must be struct bictcp's 60 bytes");
_Static_assert(__builtin_offsetof(struct cubic_c, round_start) == 44, "struct bictcp layout");

/*
 * cbrt(x) MSB values for x in [0, 63], v = cbrt(x << 18) - 1 (the kernel's table; cubic_root scales it). In .rodata.
 */
static const __u8 cbrt_v[64] = {
	0, 54, 54, 54, 118, 118, 118, 118,
	123, 129, 134, 138, 143, 147, 151, 156,
	157, 161, 164, 168, 170, 173, 176, 179,
	181, 185, 187, 190, 192, 194, 197, 199,
	200, 202, 204, 206, 209, 211, 213, 215,
	217, 219, 221, 222, 224, 225, 227, 229,
	231, 232, 234, 236, 237, 239, 240, 242,
	244, 245, 246, 248, 250, 251, 252, 254,
};

static __always_inline struct cubic_c *ca_of(const struct sock *sk)
{
	return (struct cubic_c *)inet_csk_ca(sk);
}

/* tcp_jiffies32: bpfsim's jiffies (HZ = 1000) in 32 bits. */
static __always_inline __u32 tcp_jiffies32(void)
{
	return (__u32)bpf_jiffies64();
}

/* bictcp_clock_us (CubicMath.ClockUs): tcp_mstamp truncated to u32. */
static __always_inline __u32 clock_us(const struct sock *sk)
{
	return (__u32)tcp_sk(sk)->tcp_mstamp;
}

/* usecs_to_jiffies (TcpTime.UsecsToJiffies): rounded up, in 64 bits (USEC_PER_SEC is a long). */
static __always_inline __u64 usecs_to_jiffies(__u32 us)
{
	__u64 usec_per_jiffy = USEC_PER_SEC / HZ;

	return ((__u64)us + usec_per_jiffy - 1) / usec_per_jiffy;
}

/* fls64: 1-based index of the most significant set bit, 0 for 0 (a binary search, no loop). */
static __always_inline int fls64(__u64 x)
{
	int n = 64;

	if (!x)
		return 0;
	if (!(x >> 32)) {
		x <<= 32;
		n -= 32;
	}
	if (!(x >> 48)) {
		x <<= 16;
		n -= 16;
	}
	if (!(x >> 56)) {
		x <<= 8;
		n -= 8;
	}
	if (!(x >> 60)) {
		x <<= 4;
		n -= 4;
	}
	if (!(x >> 62)) {
		x <<= 2;
		n -= 2;
	}
	if (!(x >> 63))
		n -= 1;
	return n;
}

/*
 * cubic_root (CubicMath.CubicRoot): the table gives the cube root of the top bits, one Newton-Raphson step refines
 * it. Widths as the kernel's: b, shift and x are u32, the quotient is u64 / u64. The indexes are masked with 63 for
 * the verifier; they are below 64 anyway (a < 64 in the first branch, and a >> 3b keeps at most 6 bits).
 */
static __always_inline __u32 cubic_root(__u64 a)
{
	__u32 x, b, shift;

	b = fls64(a);
	if (b < 7)
		return ((__u32)cbrt_v[(__u32)a & 63] + 35) >> 6;

	b = ((b * 84) >> 8) - 1;
	shift = (__u32)(a >> (b * 3));
	x = (((__u32)cbrt_v[shift & 63] + 10) << b) >> 6;

	/* x' = (2x + a / x^2) / 3, with x * (x - 1) for x^2 and * 341 / 1024 for / 3. */
	x = 2 * x + (__u32)(a / ((__u64)x * (__u64)(x - 1)));
	return (x * 341) >> 10;
}

/* bictcp_reset (CubicMath.Reset): clear everything before `unused`, and found; the HyStart round survives. */
static __always_inline void cubic_reset(struct cubic_c *ca)
{
	ca->cnt = 0;
	ca->last_max_cwnd = 0;
	ca->last_cwnd = 0;
	ca->last_time = 0;
	ca->origin_point = 0;
	ca->k = 0;
	ca->delay_min = 0;
	ca->epoch_start = 0;
	ca->ack_cnt = 0;
	ca->tcp_cwnd = 0;
	ca->found = 0;
}

/* bictcp_hystart_reset (CubicMath.HystartReset): a round starts now and ends when snd_nxt is acked. */
static __always_inline void hystart_reset(struct sock *sk, struct cubic_c *ca)
{
	ca->round_start = ca->last_ack = clock_us(sk);
	ca->end_seq = tcp_sk(sk)->snd_nxt;
	ca->curr_rtt = ~0U;
	ca->sample_cnt = 0;
}

/* cubictcp_init (CubicMath.Init): initial_ssthresh is 0, so only the reset and a HyStart round. */
SEC("struct_ops")
void BPF_PROG(cubic_c_init, struct sock *sk)
{
	struct cubic_c *ca = ca_of(sk);

	cubic_reset(ca);
	if (CUBIC_HYSTART)
		hystart_reset(sk, ca);
}

/*
 * cubictcp_cwnd_event (CubicMath.CwndEvent): on CA_EVENT_TX_START after an idle period, shift epoch_start by the
 * idle time (never past now), so the window follows the curve instead of jumping ahead.
 */
SEC("struct_ops")
void BPF_PROG(cubic_c_cwnd_event, struct sock *sk, enum tcp_ca_event event)
{
	struct cubic_c *ca;
	__u32 now;
	__s32 delta;

	if (event != CA_EVENT_TX_START)
		return;
	ca = ca_of(sk);
	now = tcp_jiffies32();
	delta = (__s32)(now - tcp_sk(sk)->lsndtime);
	if (ca->epoch_start && delta > 0) {
		ca->epoch_start += (__u32)delta;
		if (after(ca->epoch_start, now))
			ca->epoch_start = now;
	}
}

/*
 * bictcp_update (Cubic.Update): recompute cnt at most once per jiffy so that cwnd follows
 * W(t) = C (t - K)^3 + W_max one delay_min ahead, no slower than Reno, no faster than 1.5x per RTT.
 */
static __always_inline void cubic_update(struct cubic_c *ca, __u32 now, __u32 cwnd, __u32 acked)
{
	__u32 delta, bic_target, max_cnt;
	__u64 offs, t;

	ca->ack_cnt += acked;

	if (ca->last_cwnd == cwnd && (__s32)(now - ca->last_time) <= (__s32)(HZ / 32))
		return;

	if (ca->epoch_start == 0 || now != ca->last_time) {
		ca->last_cwnd = cwnd;
		ca->last_time = now;

		/* CubicMath.StartEpoch */
		if (ca->epoch_start == 0) {
			ca->epoch_start = now;
			ca->ack_cnt = acked;
			ca->tcp_cwnd = cwnd;
			if (ca->last_max_cwnd <= cwnd) {
				ca->k = 0;
				ca->origin_point = cwnd;
			} else {
				/* u64 * u32: the difference widens to u64 before the product. */
				ca->k = cubic_root(CUBE_FACTOR * (__u64)(ca->last_max_cwnd - cwnd));
				ca->origin_point = ca->last_max_cwnd;
			}
		}

		/* t in jiffies: the s32 difference sign-extends to u64; then delay_min in jiffies, rounded up. */
		t = (__u64)(__s64)(__s32)(now - ca->epoch_start);
		t += usecs_to_jiffies(ca->delay_min);
		/* from HZ to BICTCP_HZ units: do_div(t, HZ) is u64 / u32, unsigned */
		t <<= BICTCP_HZ;
		t /= HZ;

		/* CubicMath.BicTarget: |t - K|, C/RTT * offs^3 in u64 (wrapping as the kernel's), truncated to u32. */
		offs = t < ca->k ? ca->k - t : t - ca->k;
		delta = (__u32)((CUBE_RTT_SCALE * offs * offs * offs) >> (10 + 3 * BICTCP_HZ));
		bic_target = t < ca->k ? ca->origin_point - delta : ca->origin_point + delta;

		/* CubicMath.CntFromTarget */
		ca->cnt = bic_target > cwnd ? cwnd / (bic_target - cwnd) : 100 * cwnd;
		if (ca->last_max_cwnd == 0 && ca->cnt > 20)
			ca->cnt = 20;
	}

	if (CUBIC_TCP_FRIENDLINESS) {
		/*
		 * The kernel's `while (ack_cnt > delta) { ack_cnt -= delta; tcp_cwnd++; }` runs (ack_cnt - 1) / delta
		 * times; the built-in computes that count at once (and skips delta == 0, where the loop would not end).
		 */
		delta = (cwnd * BETA_SCALE_FRIENDLY) >> 3;
		if (ca->ack_cnt > delta && delta != 0) {
			__u32 n = (ca->ack_cnt - 1) / delta;

			ca->ack_cnt -= n * delta;
			ca->tcp_cwnd += n;
		}
		/* CubicMath.ClampToReno */
		if (ca->tcp_cwnd > cwnd) {
			delta = ca->tcp_cwnd - cwnd;
			max_cnt = cwnd / delta;
			if (ca->cnt > max_cnt)
				ca->cnt = max_cnt;
		}
	}

	ca->cnt = max_u32(ca->cnt, 2U);
}

/* cubictcp_cong_avoid (Cubic.CongAvoid): slow start below ssthresh (kfunc), then cubic growth (kfunc). */
SEC("struct_ops")
void BPF_PROG(cubic_c_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct cubic_c *ca;

	if (!tcp_is_cwnd_limited(sk))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	ca = ca_of(sk);
	cubic_update(ca, tcp_jiffies32(), tp->snd_cwnd, acked);
	tcp_cong_avoid_ai(tp, ca->cnt, acked);
}

/*
 * cubictcp_recalc_ssthresh (CubicMath.RecalcSsthresh): end the epoch, remember W_max (lower still under fast
 * convergence), back off to cwnd * 717 / 1024, at least 2. u32 arithmetic throughout, as the kernel's.
 */
SEC("struct_ops")
__u32 BPF_PROG(cubic_c_recalc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct cubic_c *ca = ca_of(sk);
	__u32 cwnd = tp->snd_cwnd;

	ca->epoch_start = 0;
	if (cwnd < ca->last_max_cwnd && CUBIC_FAST_CONVERGENCE)
		ca->last_max_cwnd = cwnd * (BICTCP_BETA_SCALE + CUBIC_BETA) / (2 * BICTCP_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;
	return max_u32(cwnd * CUBIC_BETA / BICTCP_BETA_SCALE, 2U);
}

/* cubictcp_state (CubicMath.SetState): an RTO (entering Loss) forgets everything and starts a new round. */
SEC("struct_ops")
void BPF_PROG(cubic_c_state, struct sock *sk, __u8 new_state)
{
	struct cubic_c *ca;

	if (new_state != TCP_CA_Loss)
		return;
	ca = ca_of(sk);
	cubic_reset(ca);
	hystart_reset(sk, ca);
}

/* undo_cwnd: the kernel's own, through its kfunc. */
SEC("struct_ops")
__u32 BPF_PROG(cubic_c_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

/*
 * hystart_ack_delay (CubicMath.HystartAckDelay): the time to send four 64 KiB bursts at the pacing rate, at most
 * 1 ms; 0 without a pacing rate. u64 throughout.
 */
static __always_inline __u32 hystart_ack_delay(const struct sock *sk)
{
	__u64 rate = sk->sk_pacing_rate;
	__u64 d;

	if (!rate)
		return 0;
	d = GSO_MAX_SIZE * 4 * USEC_PER_SEC / rate;
	return (__u32)(d < USEC_PER_MSEC ? d : USEC_PER_MSEC);
}

/* HYSTART_DELAY_THRESH (CubicMath.HystartDelayThresh): clamp(x, 4 ms, 16 ms). */
static __always_inline __u32 hystart_delay_thresh(__u32 x)
{
	return x < HYSTART_DELAY_MIN ? HYSTART_DELAY_MIN : x > HYSTART_DELAY_MAX ? HYSTART_DELAY_MAX : x;
}

/*
 * hystart_update (Cubic.HystartUpdate and HystartDetect), 6.13 order: a new round once end_seq is acked, then,
 * from cwnd 16 up, leave slow start (ssthresh = cwnd) on an ACK train longer than delay_min/2 (plus the TSO cushion;
 * the whole delay_min under pacing) or on a round minimum RTT above delay_min + clamp(delay_min/8, 4, 16 ms).
 */
static __always_inline void hystart_update(struct sock *sk, struct cubic_c *ca, __u32 delay)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (after(tp->snd_una, ca->end_seq))
		hystart_reset(sk, ca);
	if (tp->snd_cwnd < HYSTART_LOW_WINDOW)
		return;

	if (CUBIC_HYSTART_DETECT & HYSTART_ACK_TRAIN) {
		__u32 now = clock_us(sk);

		if ((__s32)(now - ca->last_ack) <= HYSTART_ACK_DELTA_US) {
			__u32 threshold;

			ca->last_ack = now;
			threshold = ca->delay_min + hystart_ack_delay(sk);
			if (sk->sk_pacing_status == SK_PACING_NONE)
				threshold >>= 1;
			/* The kernel compares an s32 with a u32: the comparison is unsigned, written so here. */
			if (now - ca->round_start > threshold) {
				ca->found = 1;
				tp->snd_ssthresh = tp->snd_cwnd;
			}
		}
	}

	if (CUBIC_HYSTART_DETECT & HYSTART_DELAY) {
		if (ca->curr_rtt > delay)
			ca->curr_rtt = delay;
		if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
			ca->sample_cnt++;
		} else if (ca->curr_rtt > ca->delay_min + hystart_delay_thresh(ca->delay_min >> 3)) {
			ca->found = 1;
			tp->snd_ssthresh = tp->snd_cwnd;
		}
	}
}

/*
 * cubictcp_acked (Cubic.PktsAcked): track delay_min (not in the first second of an epoch, i.e. right after
 * recovery), and run HyStart in slow start until it has found the exit.
 */
SEC("struct_ops")
void BPF_PROG(cubic_c_acked, struct sock *sk, const struct ack_sample *sample)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct cubic_c *ca = ca_of(sk);
	__s32 rtt_us = sample->rtt_us;
	__u32 delay;

	/* Duplicates without timestamps. */
	if (rtt_us < 0)
		return;
	/* Delay samples right after fast recovery are discarded. */
	if (ca->epoch_start && (__s32)(tcp_jiffies32() - ca->epoch_start) < (__s32)HZ)
		return;

	delay = (__u32)rtt_us;
	if (delay == 0)
		delay = 1;
	if (ca->delay_min == 0 || ca->delay_min > delay)
		ca->delay_min = delay;

	if (!ca->found && tcp_in_slow_start(tp) && CUBIC_HYSTART)
		hystart_update(sk, ca, delay);
}

SEC(".struct_ops")
struct tcp_congestion_ops bpf_cubic_c = {
	.init = (void *)cubic_c_init,
	.ssthresh = (void *)cubic_c_recalc_ssthresh,
	.cong_avoid = (void *)cubic_c_cong_avoid,
	.set_state = (void *)cubic_c_state,
	.undo_cwnd = (void *)cubic_c_undo_cwnd,
	.cwnd_event = (void *)cubic_c_cwnd_event,
	.pkts_acked = (void *)cubic_c_acked,
	.name = "bpf_cubic_c",
};
