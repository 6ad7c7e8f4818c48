// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: one program per section (struct_ops/NAME, sleepable struct_ops.s/NAME, xdp), custom
 * global-data sections and a struct_ops variable of a made-up struct type. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060c00;

struct xdp_md {
	__u32 data;
	__u32 data_end;
};

struct test_ops {
	int (*init)(void);
	void (*tick)(int cpu);
	char name[8];
	__u32 timeout_ms;
};

int ticks SEC(".data.counters") = 5;
const int limits[4] SEC(".rodata.limits") = { 1, 2, 3, 4 };

SEC("struct_ops.s/ops_init")
int BPF_PROG(ops_init)
{
	return ticks;
}

SEC("struct_ops/ops_tick")
void BPF_PROG(ops_tick, int cpu)
{
	if (cpu >= 0 && cpu < 4)
		ticks += limits[cpu];
}

SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	return 2;
}

SEC(".struct_ops.link")
struct test_ops simple_ops = {
	.init = (void *)ops_init,
	.tick = (void *)ops_tick,
	.name = "simple",
	.timeout_ms = 5000,
};
