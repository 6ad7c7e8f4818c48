// SPDX-License-Identifier: GPL-2.0
/*
 * bpfsim test object, compiled at test time against bpfsim's vmlinux.h: sched_ext schedulers that each exercise one
 * rule of the bytecode side — a write outside scx.slice/dsq_vtime/disallow (refused at load), scx_bpf_error's
 * formatting, weak kfuncs and the 6.13 names, a NULL prev in dispatch, a memory fault.
 */
#include "bpfsim_scx.h"

char _license[] SEC("license") = "GPL";

void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym __weak;
void scx_bpf_no_such_kfunc(void) __ksym __weak;
u32 scx_bpf_nr_cpu_ids(void) __ksym __weak;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;

int has_insert, has_nope, nr_cpus, null_prevs, dispatches, enqueues, slice_seen, mask_ok, task_cpu_ok;

/* bad_write: p->pid is not writable (bpf_scx_btf_struct_access). */
void SCX_OPS(bw_enqueue, struct task_struct *p, u64 enq_flags)
{
	p->pid = 1;
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_write = {
	.enqueue = (void *)bw_enqueue,
	.name = "bad_write",
};

/* errs: the first enqueue reports an error with a formatted message. */
void SCX_OPS(er_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_error2("enqueue %s[%d]", p->comm, p->pid);
}

SEC(".struct_ops.link")
struct sched_ext_ops errs = {
	.enqueue = (void *)er_enqueue,
	.name = "errs",
};

/* weak: 6.13 names through weak externs, a missing weak kfunc, prev NULL, slices writable, cpus_ptr readable. */
s32 SCX_OPS_SLEEPABLE(wk_init)
{
	has_insert = &scx_bpf_dsq_insert != 0;
	has_nope = &scx_bpf_no_such_kfunc != 0;
	if (&scx_bpf_nr_cpu_ids)
		nr_cpus = scx_bpf_nr_cpu_ids();
	/* consume takes user DSQs only (find_user_dsq), so the tasks go through DSQ 7 */
	return scx_bpf_create_dsq(7, -1);
}

void SCX_OPS(wk_enqueue, struct task_struct *p, u64 enq_flags)
{
	enqueues++;
	if (bpf_cpumask_test_cpu(scx_bpf_task_cpu(p), p->cpus_ptr))
		mask_ok++;
	if (scx_bpf_task_cpu(p) == p->thread_info.cpu)
		task_cpu_ok++;
	if (has_nope)
		scx_bpf_no_such_kfunc();
	scx_bpf_dsq_insert(p, 7, 5000000, enq_flags);
}

void SCX_OPS(wk_dispatch, s32 cpu, struct task_struct *prev)
{
	dispatches++;
	if (!prev)
		null_prevs++;
	scx_bpf_dsq_move_to_local(7);
}

void SCX_OPS(wk_running, struct task_struct *p)
{
	if (p->scx.slice == 5000000)
		slice_seen++;
	p->scx.slice = 3000000;
}

SEC(".struct_ops.link")
struct sched_ext_ops weak = {
	.init = (void *)wk_init,
	.enqueue = (void *)wk_enqueue,
	.dispatch = (void *)wk_dispatch,
	.running = (void *)wk_running,
	.name = "weak",
};

/* fault: running dereferences a bad pointer. */
void SCX_OPS(ft_running, struct task_struct *p)
{
	*(volatile u64 *)(p->scx.dsq_vtime + 16) = 1;
}

SEC(".struct_ops.link")
struct sched_ext_ops fault = {
	.running = (void *)ft_running,
	.name = "fault",
};

/*
 * The bstr kfuncs with a format or data size __bstr_format refuses: scx_ops_error with the kernel's message, and the
 * caller's own exit is skipped. One variable each: bad_exit (more conversions than arguments in scx_bpf_exit),
 * bad_size (data__sz not a multiple of 8), bad_h (an h size), and ptrs (%p of NULL and of an address).
 */
void scx_bpf_exit_bstr(s64 exit_code, char *fmt, unsigned long long *data, u32 data__sz) __ksym;

void SCX_OPS(bx_enqueue, struct task_struct *p, u64 enq_flags)
{
	static char fmt[] = "%d %d";
	unsigned long long param[1] = { 1 };

	scx_bpf_exit_bstr(7, fmt, param, sizeof(param));
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_exit = {
	.enqueue = (void *)bx_enqueue,
	.name = "bad_exit",
};

void SCX_OPS(bs_enqueue, struct task_struct *p, u64 enq_flags)
{
	static char fmt[] = "%d";
	unsigned long long param[2] = { 1, 2 };

	scx_bpf_error_bstr(fmt, param, 12);
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_size = {
	.enqueue = (void *)bs_enqueue,
	.name = "bad_size",
};

void SCX_OPS(bh_enqueue, struct task_struct *p, u64 enq_flags)
{
	static char fmt[] = "%hx";
	unsigned long long param[1] = { 0x12345 };

	scx_bpf_error_bstr(fmt, param, sizeof(param));
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_h = {
	.enqueue = (void *)bh_enqueue,
	.name = "bad_h",
};

void SCX_OPS(pt_enqueue, struct task_struct *p, u64 enq_flags)
{
	static char fmt[] = "%p %p %px %+d";
	unsigned long long param[4] = { 0, 0x1000, 0x1000, 5 };

	scx_bpf_error_bstr(fmt, param, sizeof(param));
}

SEC(".struct_ops.link")
struct sched_ext_ops ptrs = {
	.enqueue = (void *)pt_enqueue,
	.name = "ptrs",
};
