// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: global variables of each kind a scenario's `globals:` may set (bool, integers of each width
 * and sign, an enum, a char array) in .rodata, .data and .bss, plus ones it may not (static, a struct, a pointer).
 * ssthresh returns a sum of them, so a test can see the values the programs read. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

enum mode { MODE_FIFO = 0, MODE_VTIME = 1, MODE_BIG = 70000 };
struct pair { int a, b; };

const volatile bool fifo = false;
const volatile __u8 u8v = 1;
const volatile __s8 s8v = -1;
const volatile __u16 u16v = 2;
const volatile __s16 s16v = -2;
const volatile __u32 u32v = 3;
const volatile __s32 s32v = -3;
const volatile __u64 u64v = 4;
const volatile __s64 s64v = -4;
const volatile enum mode mode = MODE_VTIME;
const volatile char tag[8] = "abc";
int counter = 7;
__u64 total;
static int hidden = 9;
struct pair pair = { 1, 2 };
int *where;

SEC("struct_ops")
__u32 BPF_PROG(globals_ssthresh, struct sock *sk)
{
	hidden++;
	total += u64v + s64v;
	return fifo + u8v + s8v + u16v + s16v + u32v + s32v + (__u32)total + mode + tag[0] + counter + hidden + pair.a + (where != 0);
}

SEC("struct_ops")
void BPF_PROG(globals_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC("struct_ops")
__u32 BPF_PROG(globals_undo_cwnd, struct sock *sk)
{
	return ((struct tcp_sock *)sk)->snd_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops globals_ca = {
	.ssthresh = (void *)globals_ssthresh,
	.cong_avoid = (void *)globals_cong_avoid,
	.undo_cwnd = (void *)globals_undo_cwnd,
	.name = "globals_ca",
};
