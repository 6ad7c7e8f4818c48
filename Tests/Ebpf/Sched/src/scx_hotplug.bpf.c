// SPDX-License-Identifier: GPL-2.0
/*
 * bpfsim test object, compiled at test time against bpfsim's vmlinux.h: sched_ext schedulers with CPU hotplug
 * operations — hp counts ops.cpu_online/cpu_offline and looks at the online mask in them (the CPU is online in
 * both, as the comments of tools/sched_ext/scx_qmap.bpf.c say); hp_bad calls a dispatch-only kfunc from
 * ops.cpu_offline, which runs with SCX_KF_UNLOCKED.
 */
#include "bpfsim_scx.h"

char _license[] SEC("license") = "GPL";

const struct cpumask *scx_bpf_get_online_cpumask(void) __ksym;
void scx_bpf_put_cpumask(const struct cpumask *cpumask) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;

int onlines, offlines, last_cpu_plus1, online_in_online, online_in_offline, online_weight;

void SCX_OPS(hp_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

static void look(s32 cpu, int *seen)
{
	const struct cpumask *online = scx_bpf_get_online_cpumask();
	int i, n = 0;

	if (bpf_cpumask_test_cpu(cpu, online))
		(*seen)++;
	for (i = 0; i < 8; i++)
		if (bpf_cpumask_test_cpu(i, online))
			n++;
	online_weight = n;
	scx_bpf_put_cpumask(online);
	last_cpu_plus1 = cpu + 1;
}

void SCX_OPS(hp_cpu_online, s32 cpu)
{
	onlines++;
	look(cpu, &online_in_online);
}

void SCX_OPS(hp_cpu_offline, s32 cpu)
{
	offlines++;
	look(cpu, &online_in_offline);
}

SEC(".struct_ops.link")
struct sched_ext_ops hp = {
	.enqueue = (void *)hp_enqueue,
	.cpu_online = (void *)hp_cpu_online,
	.cpu_offline = (void *)hp_cpu_offline,
	.name = "hp",
};

void SCX_OPS(hb_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

void SCX_OPS(hb_cpu_offline, s32 cpu)
{
	scx_bpf_consume(SCX_DSQ_GLOBAL);
}

SEC(".struct_ops.link")
struct sched_ext_ops hp_bad = {
	.enqueue = (void *)hb_enqueue,
	.cpu_offline = (void *)hb_cpu_offline,
	.name = "hp_bad",
};
