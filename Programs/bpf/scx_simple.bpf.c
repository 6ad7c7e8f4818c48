// SPDX-License-Identifier: GPL-2.0
/*
 * scx_simple for bpfsim: the algorithm of the kernel's example scheduler (tools/sched_ext/scx_simple.bpf.c, 6.12),
 * written here. By default a global weighted-vtime scheduler; with fifo_sched set (a scenario's
 * `globals: { fifo_sched: true }`), global FIFO.
 *
 * - select_cpu: the default idle-CPU pick (scx_bpf_select_cpu_dfl); when it found an idle CPU the task goes straight
 *   to that CPU's local DSQ with the default slice (stats[0] counts these).
 * - enqueue: everything else goes to one shared user DSQ (id 0; built-in DSQs cannot be vtime-ordered), in FIFO order
 *   or by dsq_vtime, a sleeper's vtime clamped to at most one slice behind the global vtime (stats[1]).
 * - dispatch: move the shared DSQ's first task to the local DSQ.
 * - running: the global vtime follows the vtime of the tasks that start running.
 * - stopping: charge the slice used, scaled by 100 / weight (nice 0 = weight 100).
 * - enable: a task enters at the current global vtime.
 * - init: create the shared DSQ; exit: record the exit info for user space.
 * Kfuncs: scx_bpf_select_cpu_dfl, scx_bpf_dispatch, scx_bpf_dispatch_vtime, scx_bpf_consume, scx_bpf_create_dsq.
 * Helpers: bpf_map_lookup_elem (a PERCPU_ARRAY), bpf_probe_read_kernel_str.
 */
#include "bpfsim_scx.h"

char _license[] SEC("license") = "GPL";

const volatile bool fifo_sched;

static u64 vtime_now;
BPFSIM_UEI_DEFINE(uei);

#define SHARED_DSQ 0

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 2); /* [direct to local, through the shared DSQ] */
} stats SEC(".maps");

static __always_inline void count(u32 which)
{
	u64 *n = bpf_map_lookup_elem(&stats, &which);

	if (n)
		(*n)++;
}

/* a before b on a wrapping u64 clock */
static __always_inline bool vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

s32 SCX_OPS(simple_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);

	if (idle) {
		count(0);
		scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
	}
	return cpu;
}

void SCX_OPS(simple_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 vtime;

	count(1);
	if (fifo_sched) {
		scx_bpf_dispatch(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
		return;
	}
	vtime = p->scx.dsq_vtime;
	/* an idle task banks at most one slice of credit */
	if (vtime_before(vtime, vtime_now - SCX_SLICE_DFL))
		vtime = vtime_now - SCX_SLICE_DFL;
	scx_bpf_dispatch_vtime(p, SHARED_DSQ, SCX_SLICE_DFL, vtime, enq_flags);
}

void SCX_OPS(simple_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_consume(SHARED_DSQ);
}

void SCX_OPS(simple_running, struct task_struct *p)
{
	if (fifo_sched)
		return;
	if (vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
}

void SCX_OPS(simple_stopping, struct task_struct *p, bool runnable)
{
	if (fifo_sched)
		return;
	/* the slice used, scaled by the inverse of the weight */
	p->scx.dsq_vtime += (SCX_SLICE_DFL - p->scx.slice) * 100 / p->scx.weight;
}

void SCX_OPS(simple_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

s32 SCX_OPS_SLEEPABLE(simple_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

void SCX_OPS(simple_exit, struct scx_exit_info *ei)
{
	BPFSIM_UEI_RECORD(uei, ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops simple_ops = {
	.select_cpu = (void *)simple_select_cpu,
	.enqueue = (void *)simple_enqueue,
	.dispatch = (void *)simple_dispatch,
	.running = (void *)simple_running,
	.stopping = (void *)simple_stopping,
	.enable = (void *)simple_enable,
	.init = (void *)simple_init,
	.exit = (void *)simple_exit,
	.name = "simple",
};
