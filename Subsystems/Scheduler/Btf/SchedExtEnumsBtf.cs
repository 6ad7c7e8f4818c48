using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Scheduler.Btf;

/// <summary>
/// The enums of sched_ext that programs use as constants (include/linux/sched/ext.h and kernel/sched/ext.c, 6.12),
/// with the kernel's values: in vmlinux.h they are how a scheduler writes SCX_DSQ_LOCAL, SCX_SLICE_DFL,
/// SCX_ENQ_WAKEUP, SCX_KICK_PREEMPT, SCX_OPS_SWITCH_PARTIAL, SCX_EXIT_ERROR_BPF, … Enums with values past 32 bits
/// are 64-bit (BTF_KIND_ENUM64), as pahole writes them; common.bpf.h checks SCX_DSQ_FLAG_BUILTIN kept its high bit.
/// </summary>
internal static class SchedExtEnumsBtf
{
    private const long Bit63 = unchecked((long)(1UL << 63));

    // include/linux/sched.h / kernel/sched/sched.h values behind the scx_* aliases.
    private const long EnqueueWakeup = 0x01;
    private const long EnqueueHead = 0x10;
    private const long EnqueueRqSelected = 0x400;
    private const long DequeueSleep = 0x01;
    private const long WfFork = 0x04;
    private const long WfTtwu = 0x08;
    private const long WfSync = 0x10;

    /// <summary>Adds every enum (each once: get-or-add by name).</summary>
    internal static void Add(KernelBtfBuilder b)
    {
        Enum64(b, "scx_public_consts", ("SCX_OPS_NAME_LEN", 128), ("SCX_SLICE_DFL", 20 * 1000000), ("SCX_SLICE_INF", -1));
        Enum64(b, "scx_dsq_id_flags", ("SCX_DSQ_FLAG_BUILTIN", Bit63), ("SCX_DSQ_FLAG_LOCAL_ON", 1L << 62),
            ("SCX_DSQ_INVALID", Bit63 | 0), ("SCX_DSQ_GLOBAL", Bit63 | 1), ("SCX_DSQ_LOCAL", Bit63 | 2),
            ("SCX_DSQ_LOCAL_ON", Bit63 | (1L << 62)), ("SCX_DSQ_LOCAL_CPU_MASK", 0xffffffffL));
        Enum32(b, "scx_ent_flags", ("SCX_TASK_QUEUED", 1), ("SCX_TASK_RESET_RUNNABLE_AT", 4), ("SCX_TASK_DEQD_FOR_SLEEP", 8),
            ("SCX_TASK_STATE_SHIFT", 8), ("SCX_TASK_STATE_BITS", 2), ("SCX_TASK_STATE_MASK", 3 << 8), ("SCX_TASK_CURSOR", 1L << 31));
        Enum32(b, "scx_task_state", ("SCX_TASK_NONE", 0), ("SCX_TASK_INIT", 1), ("SCX_TASK_READY", 2), ("SCX_TASK_ENABLED", 3),
            ("SCX_TASK_NR_STATES", 4));
        Enum32(b, "scx_ent_dsq_flags", ("SCX_TASK_DSQ_ON_PRIQ", 1));
        Enum32(b, "scx_kf_mask", ("SCX_KF_UNLOCKED", 0), ("SCX_KF_CPU_RELEASE", 1), ("SCX_KF_DISPATCH", 2), ("SCX_KF_ENQUEUE", 4),
            ("SCX_KF_SELECT_CPU", 8), ("SCX_KF_REST", 16), ("__SCX_KF_RQ_LOCKED", 31), ("__SCX_KF_TERMINAL", 4 | 8 | 16));
        Enum32(b, "scx_dsq_lnode_flags", ("SCX_DSQ_LNODE_ITER_CURSOR", 1), ("__SCX_DSQ_LNODE_PRIV_SHIFT", 16));
        Enum32(b, "scx_exit_kind", ("SCX_EXIT_NONE", 0), ("SCX_EXIT_DONE", 1), ("SCX_EXIT_UNREG", 64), ("SCX_EXIT_UNREG_BPF", 65),
            ("SCX_EXIT_UNREG_KERN", 66), ("SCX_EXIT_SYSRQ", 67), ("SCX_EXIT_ERROR", 1024), ("SCX_EXIT_ERROR_BPF", 1025),
            ("SCX_EXIT_ERROR_STALL", 1026));
        Enum64(b, "scx_exit_code", ("SCX_ECODE_RSN_HOTPLUG", 1L << 32), ("SCX_ECODE_ACT_RESTART", 1L << 48));
        Enum64(b, "scx_ops_flags", ("SCX_OPS_KEEP_BUILTIN_IDLE", 1), ("SCX_OPS_ENQ_LAST", 2), ("SCX_OPS_ENQ_EXITING", 4),
            ("SCX_OPS_SWITCH_PARTIAL", 8), ("SCX_OPS_HAS_CGROUP_WEIGHT", 1L << 16), ("SCX_OPS_ALL_FLAGS", 1 | 2 | 4 | 8 | (1L << 16)));
        Enum64(b, "scx_enq_flags", ("SCX_ENQ_WAKEUP", EnqueueWakeup), ("SCX_ENQ_HEAD", EnqueueHead),
            ("SCX_ENQ_CPU_SELECTED", EnqueueRqSelected), ("SCX_ENQ_PREEMPT", 1L << 32), ("SCX_ENQ_REENQ", 1L << 40),
            ("SCX_ENQ_LAST", 1L << 41), ("__SCX_ENQ_INTERNAL_MASK", 0xffL << 56), ("SCX_ENQ_CLEAR_OPSS", 1L << 56),
            ("SCX_ENQ_DSQ_PRIQ", 1L << 57));
        Enum64(b, "scx_deq_flags", ("SCX_DEQ_SLEEP", DequeueSleep), ("SCX_DEQ_CORE_SCHED_EXEC", 1L << 32));
        Enum64(b, "scx_pick_idle_cpu_flags", ("SCX_PICK_IDLE_CORE", 1));
        Enum64(b, "scx_kick_flags", ("SCX_KICK_IDLE", 1), ("SCX_KICK_PREEMPT", 2), ("SCX_KICK_WAIT", 4));
        Enum32(b, "scx_ops_enable_state", ("SCX_OPS_ENABLING", 0), ("SCX_OPS_ENABLED", 1), ("SCX_OPS_DISABLING", 2), ("SCX_OPS_DISABLED", 3));
        Enum32(b, "scx_cpu_preempt_reason", ("SCX_CPU_PREEMPT_RT", 0), ("SCX_CPU_PREEMPT_DL", 1), ("SCX_CPU_PREEMPT_STOP", 2),
            ("SCX_CPU_PREEMPT_UNKNOWN", 3));
        Enum32(b, "scx_dsq_iter_flags", ("SCX_DSQ_ITER_REV", 1 << 16), ("__SCX_DSQ_ITER_HAS_SLICE", 1 << 30),
            ("__SCX_DSQ_ITER_HAS_VTIME", 1L << 31), ("__SCX_DSQ_ITER_USER_FLAGS", 1 << 16),
            ("__SCX_DSQ_ITER_ALL_FLAGS", (1 << 16) | (1 << 30) | (1L << 31)));
        Enum32(b, "scx_tg_flags", ("SCX_TG_ONLINE", 1), ("SCX_TG_INITED", 2));
        Enum32(b, "scx_wake_flags", ("SCX_WAKE_FORK", WfFork), ("SCX_WAKE_TTWU", WfTtwu), ("SCX_WAKE_SYNC", WfSync));
        // SCX_WATCHDOG_MAX_TIMEOUT is 30 * HZ (HZ 1000); SCX_CPUPERF_ONE is SCHED_CAPACITY_SCALE.
        Enum32(b, "scx_consts", ("SCX_DSP_DFL_MAX_BATCH", 32), ("SCX_DSP_MAX_LOOPS", 32), ("SCX_WATCHDOG_MAX_TIMEOUT", 30 * 1000),
            ("SCX_EXIT_BT_LEN", 64), ("SCX_EXIT_MSG_LEN", 1024), ("SCX_EXIT_DUMP_DFL_LEN", 32768), ("SCX_CPUPERF_ONE", 1024),
            ("SCX_OPS_TASK_ITER_BATCH", 32));
        Enum32(b, "scx_ops_state", ("SCX_OPSS_NONE", 0), ("SCX_OPSS_QUEUEING", 1), ("SCX_OPSS_QUEUED", 2), ("SCX_OPSS_DISPATCHING", 3),
            ("SCX_OPSS_QSEQ_SHIFT", 2));
    }

    private static void Enum32(KernelBtfBuilder b, string name, params (string Name, long Value)[] values)
    {
        if (b.Find(name, BtfKind.Enum) is null)
        {
            b.Add(new BtfEnum(name, 4, false, false, values.Select(v => new BtfEnumValue(v.Name, v.Value)).ToArray()));
        }
    }

    private static void Enum64(KernelBtfBuilder b, string name, params (string Name, long Value)[] values)
    {
        if (b.Find(name, BtfKind.Enum) is null && b.Find(name, BtfKind.Enum64) is null)
        {
            b.Add(new BtfEnum(name, 8, false, true, values.Select(v => new BtfEnumValue(v.Name, v.Value)).ToArray()));
        }
    }
}
