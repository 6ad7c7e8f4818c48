namespace BpfSim.Scheduler.Ext;

/// <summary>
/// The constants of sched_ext a scheduler and the core use (kernel/sched/ext.c and include/linux/sched/ext.h, 6.12):
/// DSQ ids, slices, limits.
/// </summary>
public static class ScxConsts
{
    /// <summary>SCX_DSQ_FLAG_BUILTIN: bit 63 marks a built-in DSQ id.</summary>
    public const ulong DsqFlagBuiltin = 1UL << 63;

    /// <summary>SCX_DSQ_FLAG_LOCAL_ON: with the built-in bit, the low 32 bits name a CPU.</summary>
    public const ulong DsqFlagLocalOn = 1UL << 62;

    /// <summary>SCX_DSQ_INVALID.</summary>
    public const ulong DsqInvalid = DsqFlagBuiltin | 0;

    /// <summary>SCX_DSQ_GLOBAL: the global DSQ of the task's NUMA node.</summary>
    public const ulong DsqGlobal = DsqFlagBuiltin | 1;

    /// <summary>SCX_DSQ_LOCAL: the local DSQ of the CPU in question.</summary>
    public const ulong DsqLocal = DsqFlagBuiltin | 2;

    /// <summary>SCX_DSQ_LOCAL_ON: OR a CPU number in to name that CPU's local DSQ.</summary>
    public const ulong DsqLocalOn = DsqFlagBuiltin | DsqFlagLocalOn;

    /// <summary>SCX_DSQ_LOCAL_CPU_MASK.</summary>
    public const ulong DsqLocalCpuMask = 0xffffffffUL;

    /// <summary>SCX_SLICE_DFL: 20 ms.</summary>
    public const ulong SliceDfl = 20UL * 1000 * 1000;

    /// <summary>SCX_SLICE_INF: never expires (the CPU may stop its tick).</summary>
    public const ulong SliceInf = ulong.MaxValue;

    /// <summary>SCX_DSP_DFL_MAX_BATCH.</summary>
    public const int DspDflMaxBatch = 32;

    /// <summary>
    /// The bytes of one CPU's dispatch buffer for a batch of <paramref name="batch"/> entries:
    /// struct_size_t(struct scx_dsp_ctx, buf, batch) on a 64-bit kernel, a 16-byte header (rq, cursor, nr_tasks)
    /// and 32 bytes per struct scx_dsp_buf_ent (task, qseq, dsq_id, enq_flags) (kernel/sched/ext.c).
    /// </summary>
    public static long DspCtxBytes(uint batch) => 16 + 32L * batch;

    /// <summary>
    /// PCPU_MIN_UNIT_SIZE (include/linux/percpu.h, 32 KiB): pcpu_alloc (mm/percpu.c) refuses a larger per-CPU
    /// allocation, so the largest dispatch batch that scx_ops_enable can allocate is 1023.
    /// </summary>
    public const long PcpuMinUnitSize = 32 << 10;

    /// <summary>SCX_DSP_MAX_LOOPS.</summary>
    public const int DspMaxLoops = 32;

    /// <summary>SCX_WATCHDOG_MAX_TIMEOUT in ms (30 × HZ jiffies).</summary>
    public const uint WatchdogMaxTimeoutMs = 30_000;

    /// <summary>SCX_EXIT_MSG_LEN: the message buffer; the message is at most one byte shorter (vscnprintf).</summary>
    public const int ExitMsgLen = 1024;

    /// <summary>SCX_EXIT_DUMP_DFL_LEN.</summary>
    public const int ExitDumpDflLen = 32768;

    /// <summary>SCX_OPS_NAME_LEN.</summary>
    public const int OpsNameLen = 128;

    /// <summary>NUMA_NO_NODE.</summary>
    public const int NumaNoNode = -1;

    /// <summary>The weight sched_ext reports for nice 0 (sched_weight_to_cgroup(1024)).</summary>
    public const uint WeightNice0 = 100;
}

/// <summary>enum scx_ops_flags (kernel/sched/ext.c, 6.12).</summary>
[Flags]
public enum ScxOpsFlags : ulong
{
    None = 0,
    KeepBuiltinIdle = 1UL << 0,
    EnqLast = 1UL << 1,
    EnqExiting = 1UL << 2,
    SwitchPartial = 1UL << 3,
    HasCgroupWeight = 1UL << 16,

    /// <summary>SCX_OPS_ALL_FLAGS: any other bit is EINVAL at init_member.</summary>
    All = KeepBuiltinIdle | EnqLast | EnqExiting | SwitchPartial | HasCgroupWeight,
}

/// <summary>enum scx_enq_flags (kernel/sched/ext.c, 6.12): the low 32 bits are the core's ENQUEUE_* flags.</summary>
public static class ScxEnqFlags
{
    public const ulong Wakeup = 0x01;
    public const ulong Head = 0x10;

    /// <summary>SCX_ENQ_CPU_SELECTED (ENQUEUE_RQ_SELECTED): select_task_rq ran for this wakeup (the task may run on more than one CPU).</summary>
    public const ulong CpuSelected = 0x400;

    /// <summary>SCX_ENQ_PREEMPT: preempt the current task of the target local DSQ's CPU.</summary>
    public const ulong Preempt = 1UL << 32;

    /// <summary>SCX_ENQ_REENQ: re-enqueued by scx_bpf_reenqueue_local.</summary>
    public const ulong Reenq = 1UL << 40;

    /// <summary>SCX_ENQ_LAST: the last task on the CPU (SCX_OPS_ENQ_LAST).</summary>
    public const ulong Last = 1UL << 41;

    /// <summary>__SCX_ENQ_INTERNAL_MASK: kfuncs refuse these bits.</summary>
    public const ulong InternalMask = 0xffUL << 56;

    public const ulong ClearOpss = 1UL << 56;
    public const ulong DsqPriq = 1UL << 57;
}

/// <summary>enum scx_deq_flags.</summary>
public static class ScxDeqFlags
{
    public const ulong Sleep = 0x01;
    public const ulong CoreSchedExec = 1UL << 32;
}

/// <summary>enum scx_kick_flags.</summary>
[Flags]
public enum ScxKickFlags : ulong
{
    None = 0,
    Idle = 1,
    Preempt = 2,
    Wait = 4,
}

/// <summary>SCX_WAKE_* (the WF_* flags ops.select_cpu sees).</summary>
public static class ScxWakeFlags
{
    public const ulong Fork = 0x04;
    public const ulong Ttwu = 0x08;
    public const ulong Sync = 0x10;
}

/// <summary>enum scx_pick_idle_cpu_flags.</summary>
public static class ScxPickIdleFlags
{
    /// <summary>SCX_PICK_IDLE_CORE: only a CPU whose SMT siblings are idle too.</summary>
    public const ulong Core = 1;
}

/// <summary>enum scx_kf_mask: which kfunc sets the running operation allows.</summary>
[Flags]
public enum ScxKfMask : uint
{
    Unlocked = 0,
    CpuRelease = 1 << 0,
    Dispatch = 1 << 1,
    Enqueue = 1 << 2,
    SelectCpu = 1 << 3,
    Rest = 1 << 4,
}

/// <summary>enum scx_ops_state (ops_state's low bits; the qseq sits above <see cref="QseqShift"/>).</summary>
public static class ScxOpss
{
    public const ulong None = 0;
    public const ulong Queueing = 1;
    public const ulong Queued = 2;
    public const ulong Dispatching = 3;
    public const int QseqShift = 2;
    public const ulong StateMask = (1UL << QseqShift) - 1;
    public const ulong QseqMask = ~StateMask;
}

/// <summary>enum scx_task_state (in sched_ext_entity.flags bits 8-9) and the other entity flags.</summary>
public static class ScxTaskFlags
{
    public const uint Queued = 1 << 0;
    public const uint ResetRunnableAt = 1 << 2;
    public const uint DeqdForSleep = 1 << 3;
    public const int StateShift = 8;
    public const uint StateMask = 3u << StateShift;

    public const uint StateNone = 0;
    public const uint StateInit = 1;
    public const uint StateReady = 2;
    public const uint StateEnabled = 3;

    /// <summary>SCX_TASK_DSQ_ON_PRIQ (dsq_flags).</summary>
    public const uint DsqOnPriq = 1;
}

/// <summary>SCX_ECODE_* (exit codes of the kernel's own exits).</summary>
public static class ScxExitCodes
{
    public const long ActRestart = 1L << 48;
    public const long RsnHotplug = 1L << 32;
}
