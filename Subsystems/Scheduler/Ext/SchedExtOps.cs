using System.Buffers.Binary;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// A BPF scheduler as the ext class calls it: the <c>sched_ext_ops</c> table with its functions resolved once from a
/// populated struct_ops value (as <c>scx_ops = *ops</c> in scx_ops_enable). A null function is an empty slot, which
/// the class skips or replaces by the kernel's default, as SCX_HAS_OP does.
/// </summary>
public sealed class SchedExtOps
{
    public required string Name { get; init; }
    public ScxOpsFlags Flags { get; init; }
    public uint DispatchMaxBatch { get; init; }
    public uint TimeoutMs { get; init; }
    public uint ExitDumpLen { get; init; } = ScxConsts.ExitDumpDflLen;
    public ulong HotplugSeq { get; init; }

    public SelectCpuFn? SelectCpu { get; init; }
    public TaskFlagsFn? Enqueue { get; init; }
    public TaskFlagsFn? Dequeue { get; init; }
    public DispatchFn? Dispatch { get; init; }
    public TaskFn? Tick { get; init; }
    public TaskFlagsFn? Runnable { get; init; }
    public TaskFn? Running { get; init; }
    public StoppingFn? Stopping { get; init; }
    public TaskFlagsFn? Quiescent { get; init; }
    public TaskPairFn? Yield { get; init; }
    public TaskPairFn? CoreSchedBefore { get; init; }
    public SetWeightFn? SetWeight { get; init; }
    public SetCpumaskFn? SetCpumask { get; init; }
    public UpdateIdleFn? UpdateIdle { get; init; }
    public CpuAcquireFn? CpuAcquire { get; init; }
    public CpuReleaseFn? CpuRelease { get; init; }
    public InitTaskFn? InitTask { get; init; }
    public ExitTaskFn? ExitTask { get; init; }
    public TaskFn? Enable { get; init; }
    public TaskFn? Disable { get; init; }
    public DumpFn? Dump { get; init; }
    public DumpCpuFn? DumpCpu { get; init; }
    public DumpTaskFn? DumpTask { get; init; }
    public CpuFn? CpuOnline { get; init; }
    public CpuFn? CpuOffline { get; init; }
    public InitFn? Init { get; init; }
    public ExitFn? Exit { get; init; }

    /// <summary>The struct_ops value behind this scheduler (null for a table built directly, e.g. in tests).</summary>
    public StructOpsKernelData? Owner { get; init; }

    /// <summary>Builds the table from a populated sched_ext_ops value (init_member has checked the data members).</summary>
    public static SchedExtOps FromStructOps(StructOpsKernelData data) => new()
    {
        Name = data.ReadString("name"),
        Flags = (ScxOpsFlags)BinaryPrimitives.ReadUInt64LittleEndian(data.Data("flags")),
        DispatchMaxBatch = data.ReadUInt32("dispatch_max_batch"),
        TimeoutMs = data.ReadUInt32("timeout_ms"),
        ExitDumpLen = data.ReadUInt32("exit_dump_len"),
        HotplugSeq = BinaryPrimitives.ReadUInt64LittleEndian(data.Data("hotplug_seq")),
        SelectCpu = data.Function<SelectCpuFn>("select_cpu"),
        Enqueue = data.Function<TaskFlagsFn>("enqueue"),
        Dequeue = data.Function<TaskFlagsFn>("dequeue"),
        Dispatch = data.Function<DispatchFn>("dispatch"),
        Tick = data.Function<TaskFn>("tick"),
        Runnable = data.Function<TaskFlagsFn>("runnable"),
        Running = data.Function<TaskFn>("running"),
        Stopping = data.Function<StoppingFn>("stopping"),
        Quiescent = data.Function<TaskFlagsFn>("quiescent"),
        Yield = data.Function<TaskPairFn>("yield"),
        CoreSchedBefore = data.Function<TaskPairFn>("core_sched_before"),
        SetWeight = data.Function<SetWeightFn>("set_weight"),
        SetCpumask = data.Function<SetCpumaskFn>("set_cpumask"),
        UpdateIdle = data.Function<UpdateIdleFn>("update_idle"),
        CpuAcquire = data.Function<CpuAcquireFn>("cpu_acquire"),
        CpuRelease = data.Function<CpuReleaseFn>("cpu_release"),
        InitTask = data.Function<InitTaskFn>("init_task"),
        ExitTask = data.Function<ExitTaskFn>("exit_task"),
        Enable = data.Function<TaskFn>("enable"),
        Disable = data.Function<TaskFn>("disable"),
        Dump = data.Function<DumpFn>("dump"),
        DumpCpu = data.Function<DumpCpuFn>("dump_cpu"),
        DumpTask = data.Function<DumpTaskFn>("dump_task"),
        CpuOnline = data.Function<CpuFn>("cpu_online"),
        CpuOffline = data.Function<CpuFn>("cpu_offline"),
        Init = data.Function<InitFn>("init"),
        Exit = data.Function<ExitFn>("exit"),
        Owner = data,
    };
}
