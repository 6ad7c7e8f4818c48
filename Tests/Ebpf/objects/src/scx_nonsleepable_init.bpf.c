// SPDX-License-Identifier: GPL-2.0
/*
 * A sched_ext scheduler whose init is an ordinary (not sleepable) struct_ops program that calls the KF_SLEEPABLE
 * scx_bpf_create_dsq. The verifier refuses it at load: "program must be sleepable to call sleepable kfunc
 * scx_bpf_create_dsq" (check_kfunc_call, kernel/bpf/verifier.c). SEC("struct_ops.s/...") would be accepted.
 */
#include "../../../../Programs/bpf/bpfsim_scx.h"

char _license[] SEC("license") = "GPL";

s32 SCX_OPS(nonsleepable_init)
{
	return scx_bpf_create_dsq(0, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops nonsleepable_ops = {
	.init = (void *)nonsleepable_init,
	.name = "nonsleepable",
};
