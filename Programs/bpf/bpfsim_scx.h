/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bpfsim's own sched_ext schedulers share: the struct_ops program macros, the sched_ext kfuncs (kernel/sched/ext.c,
 * 6.12 names; bpfsim also has the 6.13 ones), scx_bpf_error() over scx_bpf_error_bstr(), and the exit-info record
 * user space reads (the .data variable `uei` and the .data.uei_dump array), in the shape tools/sched_ext's
 * user_exit_info.h gives them, so bpfsim reads both the same way.
 *
 * vmlinux.h next to this file is bpfsim's kernel BTF written as C (`bpfsim btf dump --format c`); see build.sh.
 */
#ifndef BPFSIM_SCX_H
#define BPFSIM_SCX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* A struct_ops program for member-named sections (struct_ops/NAME), sleepable or not. */
#define SCX_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define SCX_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/* The kfuncs of kernel/sched/ext.c (6.12) these schedulers call. */
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags, bool *is_idle) __ksym;
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym;
bool scx_bpf_consume(u64 dsq_id) __ksym;
void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data_len) __ksym;

/* scx_bpf_error(fmt, a, b): the format in .rodata, the arguments as an array of u64 (at least one element). */
#define scx_bpf_error2(fmt, a, b)						\
({										\
	static char ___fmt[] = fmt;						\
	unsigned long long ___param[2] = { (unsigned long long)(a), (unsigned long long)(b) }; \
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));		\
})

/* The exit record: kind, exit_code, reason and msg, as user_exit_info.h's struct user_exit_info lays them out. */
struct bpfsim_exit_info {
	int kind;
	s64 exit_code;
	char reason[128];
	char msg[1024];
};

#define BPFSIM_UEI_DEFINE(name)							\
	char name##_dump[1] SEC(".data." #name "_dump");			\
	const volatile u32 name##_dump_len;					\
	struct bpfsim_exit_info name SEC(".data")

/* Copies ops.exit's scx_exit_info into the record; kind last, so a reader that sees it sees the rest. */
#define BPFSIM_UEI_RECORD(name, ei)						\
({										\
	bpf_probe_read_kernel_str(name.reason, sizeof(name.reason), (ei)->reason); \
	bpf_probe_read_kernel_str(name.msg, sizeof(name.msg), (ei)->msg);	\
	bpf_probe_read_kernel_str(name##_dump, name##_dump_len, (ei)->dump); \
	if (bpf_core_field_exists((ei)->exit_code))				\
		name.exit_code = (ei)->exit_code;				\
	*(volatile int *)&name.kind = (ei)->kind;				\
})

#endif /* BPFSIM_SCX_H */
