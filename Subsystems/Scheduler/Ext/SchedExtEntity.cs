using System.Runtime.InteropServices;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// struct sched_ext_entity (include/linux/sched/ext.h, 6.12): the per-task state of sched_ext. The fields a BPF
/// scheduler may write are <see cref="Slice"/>, <see cref="DsqVtime"/> and <see cref="Disallow"/>
/// (bpf_scx_btf_struct_access); the rest is read-only to it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedExtEntity
{
    /// <summary>The DSQ the task is queued on (bpfsim: the DSQ id; 0 = none).</summary>
    public ulong DsqId;

    /// <summary>dsq_seq: the DSQ's sequence number when the task was queued (DSQ iteration).</summary>
    public uint DsqSeq;

    /// <summary>dsq_flags: SCX_TASK_DSQ_ON_PRIQ 1.</summary>
    public uint DsqFlags;

    /// <summary>flags: SCX_TASK_QUEUED 1, RESET_RUNNABLE_AT 4, DEQD_FOR_SLEEP 8, and the state in bits 8-9.</summary>
    public uint Flags;

    /// <summary>weight: 1 … 10000, nice 0 = 100 (sched_weight_to_cgroup of the task's load weight).</summary>
    public uint Weight;

    public int StickyCpu;

    public int HoldingCpu;

    /// <summary>kf_mask: the SCX_KF_* contexts the task's current callbacks allow.</summary>
    public uint KfMask;

    /// <summary>ops_qseq: the enqueue sequence the BPF side's dispatch must match.</summary>
    public uint OpsQseq;

    /// <summary>ops_state: SCX_OPSS_* in the low bits, the qseq above SCX_OPSS_QSEQ_SHIFT.</summary>
    public ulong OpsState;

    /// <summary>runnable_at: jiffies when the task became runnable (the watchdog's clock).</summary>
    public ulong RunnableAt;

    public ulong CoreSchedAt;

    /// <summary>ddsp_dsq_id: a direct dispatch's target recorded in select_cpu/enqueue (SCX_DSQ_INVALID = none).</summary>
    public ulong DdspDsqId;

    public ulong DdspEnqFlags;

    /// <summary>slice: the runtime budget in ns, decreased as the task runs (SCX_SLICE_INF = never).</summary>
    public ulong Slice;

    /// <summary>dsq_vtime: the order on a vtime (PRIQ) DSQ.</summary>
    public ulong DsqVtime;

    /// <summary>disallow: reject switching into SCX (set in init_task during load).</summary>
    public byte Disallow;
}
