using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// The members of struct sched_ext_ops (kernel/sched/ext.c, 6.12) as delegates, one per prototype. A task pointer is a
// ref into the task table; a NULL task pointer (dispatch's prev, yield's to) is Unsafe.NullRef<TaskStruct>(), tested
// with Unsafe.IsNullRef.

/// <summary><c>s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags)</c>.</summary>
public delegate int SelectCpuFn(ref TaskStruct p, int prevCpu, ulong wakeFlags);

/// <summary><c>void (*enqueue)(p, u64 enq_flags)</c>, dequeue, runnable and quiescent.</summary>
public delegate void TaskFlagsFn(ref TaskStruct p, ulong flags);

/// <summary><c>void (*dispatch)(s32 cpu, struct task_struct *prev)</c>; prev may be NULL.</summary>
public delegate void DispatchFn(int cpu, ref TaskStruct prev);

/// <summary><c>void (*tick)(p)</c>, running, enable, disable.</summary>
public delegate void TaskFn(ref TaskStruct p);

/// <summary><c>void (*stopping)(p, bool runnable)</c>.</summary>
public delegate void StoppingFn(ref TaskStruct p, bool runnable);

/// <summary><c>bool (*yield)(from, to)</c> (to may be NULL) and <c>bool (*core_sched_before)(a, b)</c>.</summary>
public delegate bool TaskPairFn(ref TaskStruct a, ref TaskStruct b);

/// <summary><c>void (*set_weight)(p, u32 weight)</c>.</summary>
public delegate void SetWeightFn(ref TaskStruct p, uint weight);

/// <summary><c>void (*set_cpumask)(p, const struct cpumask *cpumask)</c>.</summary>
public delegate void SetCpumaskFn(ref TaskStruct p, in Cpumask cpumask);

/// <summary><c>void (*update_idle)(s32 cpu, bool idle)</c>.</summary>
public delegate void UpdateIdleFn(int cpu, bool idle);

/// <summary><c>void (*cpu_acquire)(s32 cpu, struct scx_cpu_acquire_args *args)</c>.</summary>
public delegate void CpuAcquireFn(int cpu, in ScxCpuAcquireArgs args);

/// <summary><c>void (*cpu_release)(s32 cpu, struct scx_cpu_release_args *args)</c>.</summary>
public delegate void CpuReleaseFn(int cpu, in ScxCpuReleaseArgs args);

/// <summary><c>s32 (*init_task)(p, struct scx_init_task_args *args)</c>.</summary>
public delegate int InitTaskFn(ref TaskStruct p, in ScxInitTaskArgs args);

/// <summary><c>void (*exit_task)(p, struct scx_exit_task_args *args)</c>.</summary>
public delegate void ExitTaskFn(ref TaskStruct p, in ScxExitTaskArgs args);

/// <summary><c>void (*dump)(struct scx_dump_ctx *ctx)</c>.</summary>
public delegate void DumpFn(in ScxDumpCtx ctx);

/// <summary><c>void (*dump_cpu)(ctx, s32 cpu, bool idle)</c>.</summary>
public delegate void DumpCpuFn(in ScxDumpCtx ctx, int cpu, bool idle);

/// <summary><c>void (*dump_task)(ctx, p)</c>.</summary>
public delegate void DumpTaskFn(in ScxDumpCtx ctx, ref TaskStruct p);

/// <summary><c>void (*cpu_online)(s32 cpu)</c> and cpu_offline.</summary>
public delegate void CpuFn(int cpu);

/// <summary><c>s32 (*init)(void)</c>.</summary>
public delegate int InitFn();

/// <summary><c>void (*exit)(struct scx_exit_info *info)</c>.</summary>
public delegate void ExitFn(ScxExitInfo info);

/// <summary>The cgroup members (CONFIG_EXT_GROUP_SCHED): bpfsim has no cgroups, so they are laid out but never called.</summary>
public delegate int CgroupFn(ulong a, ulong b, ulong c);
