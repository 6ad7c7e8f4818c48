namespace BpfSim.Scheduler.Ext;

/// <summary>struct scx_init_task_args: <c>fork</c> (bpfsim has no cgroups, so no <c>cgroup</c>).</summary>
public readonly record struct ScxInitTaskArgs(bool Fork);

/// <summary>struct scx_exit_task_args: <c>cancelled</c> (init_task succeeded but the task never entered SCX).</summary>
public readonly record struct ScxExitTaskArgs(bool Cancelled);

/// <summary>struct scx_cpu_acquire_args (empty in 6.12).</summary>
public readonly record struct ScxCpuAcquireArgs;

/// <summary>struct scx_cpu_release_args: why (enum scx_cpu_preempt_reason) and the task of the higher class (its id).</summary>
public readonly record struct ScxCpuReleaseArgs(int Reason, int Task);

/// <summary>struct scx_dump_ctx: the exit being dumped.</summary>
public readonly record struct ScxDumpCtx(ScxExitKind Kind, long ExitCode, string Reason, ulong AtNs, ulong AtJiffies);

/// <summary>
/// struct scx_exit_info as ops.exit receives it and user space reads it (UEI): kind, exit_code, reason (the kind's
/// text), msg (at most SCX_EXIT_MSG_LEN − 1 bytes), the debug dump.
/// </summary>
public sealed record ScxExitInfo(ScxExitKind Kind, long ExitCode, string Reason, string Message, string Dump);

/// <summary>enum scx_exit_kind (kernel/sched/ext.c, 6.12).</summary>
public enum ScxExitKind
{
    None = 0,
    Done = 1,
    Unreg = 64,
    UnregBpf = 65,
    UnregKern = 66,
    Sysrq = 67,
    Error = 1024,
    ErrorBpf = 1025,
    ErrorStall = 1026,
}
