using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Btf;

/// <summary>
/// The scheduler's part of bpfsim's kernel BTF: <c>struct task_struct</c> laid over <see cref="TaskStruct"/> with the
/// kernel's member names (pid, comm, __state, flags, prio, static_prio, normal_prio, policy, nr_cpus_allowed,
/// cpus_ptr, cpus_mask, se, scx, …) and bpfsim's offsets, <c>struct cpumask</c>, <c>struct sched_entity</c>,
/// <c>struct sched_ext_entity</c>, and everything sched_ext programs are compiled against
/// (<see cref="SchedExtOpsBtf"/>, <see cref="SchedExtEnumsBtf"/>): a vmlinux.h from <c>bpfsim btf dump</c> compiles
/// tools/sched_ext's headers and schedulers.
/// </summary>
/// <remarks>
/// Names and C types follow include/linux/sched.h, include/linux/sched/ext.h, include/linux/cpumask.h and
/// kernel/sched/ext.c of Linux 6.12. A kernel member bpfsim does not model is absent: a CO-RE access to it fails to
/// relocate and <c>bpf_core_field_exists</c> gives 0 (common.bpf.h's is_migration_disabled() reads
/// <c>migration_disabled</c> only if it exists).
/// </remarks>
public sealed class SchedKernelTypes : IKernelBtfContributor
{
    /// <inheritdoc/>
    public void AddTypes(KernelBtfBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var b = builder;
        SchedExtEnumsBtf.Add(b);
        AddCpumask(b);
        uint se = AddSchedEntity(b);
        uint scx = AddSchedExtEntity(b);
        AddTaskStruct(b, se, scx);
        SchedExtOpsBtf.Add(b);
    }

    // struct cpumask { unsigned long bits[BITS_TO_LONGS(NR_CPUS)]; } and typedef struct cpumask cpumask_t.
    private static void AddCpumask(KernelBtfBuilder b)
    {
        int size = Unsafe.SizeOf<Cpumask>();
        uint mask = b.Define(new BtfComposite("cpumask", false, (uint)size,
            [KernelBtfBuilder.Member("bits", b.Array(b.Int("long unsigned int"), (uint)(size / 8)), 0)]));
        b.Add(new BtfAlias(BtfKind.Typedef, "cpumask_t", mask));
    }

    // struct load_weight and struct sched_entity (include/linux/sched.h) over SchedEntity. on_rq is absent: bpfsim
    // keeps it inside load_weight's tail padding (the kernel's struct is 16 bytes), where C cannot place a member.
    private static uint AddSchedEntity(KernelBtfBuilder b)
    {
        uint load = b.Define(new BtfComposite("load_weight", false, 16,
        [
            KernelBtfBuilder.Member("weight", b.Int("long unsigned int"), 0),
            KernelBtfBuilder.Member("inv_weight", b.Type("u32"), 8),
        ]));
        static BtfMember M<T>(KernelBtfBuilder b, string name, uint type, FieldRef<SchedEntity, T> f) =>
            KernelBtfBuilder.Member(name, type, KernelBtfBuilder.OffsetOf(f));
        uint u64 = b.Type("u64");
        return b.Define(new BtfComposite("sched_entity", false, (uint)Unsafe.SizeOf<SchedEntity>(), InOffsetOrder(
        [
            M(b, "load", load, (ref SchedEntity e) => ref e.Weight),
            M(b, "exec_start", u64, (ref SchedEntity e) => ref e.ExecStart),
            M(b, "sum_exec_runtime", u64, (ref SchedEntity e) => ref e.SumExecRuntime),
            M(b, "prev_sum_exec_runtime", u64, (ref SchedEntity e) => ref e.PrevSumExecRuntime),
            M(b, "vruntime", u64, (ref SchedEntity e) => ref e.Vruntime),
            M(b, "deadline", u64, (ref SchedEntity e) => ref e.Deadline),
            M(b, "min_vruntime", u64, (ref SchedEntity e) => ref e.MinVruntime),
            M(b, "vlag", b.Type("s64"), (ref SchedEntity e) => ref e.Vlag),
            M(b, "slice", u64, (ref SchedEntity e) => ref e.Slice),
        ])));
    }

    // struct sched_ext_entity (include/linux/sched/ext.h) over SchedExtEntity. The kernel's dsq pointer, list nodes
    // and kf_tasks are not modelled (bpfsim keeps the DSQ id, which the kernel has no member for).
    private static uint AddSchedExtEntity(KernelBtfBuilder b)
    {
        static BtfMember M<T>(KernelBtfBuilder b, string name, uint type, FieldRef<SchedExtEntity, T> f) =>
            KernelBtfBuilder.Member(name, type, KernelBtfBuilder.OffsetOf(f));
        uint u32 = b.Type("u32");
        uint s32 = b.Type("s32");
        uint u64 = b.Type("u64");
        // typedef struct { s64 counter; } atomic64_t; typedef atomic64_t atomic_long_t (64-bit).
        uint atomic64 = b.Find("atomic64_t", BtfKind.Typedef) ?? b.Add(new BtfAlias(BtfKind.Typedef, "atomic64_t",
            b.Add(new BtfComposite("", false, 8, [KernelBtfBuilder.Member("counter", b.Type("s64"), 0)]))));
        uint atomicLong = b.Find("atomic_long_t", BtfKind.Typedef) ?? b.Add(new BtfAlias(BtfKind.Typedef, "atomic_long_t", atomic64));
        return b.Define(new BtfComposite("sched_ext_entity", false, (uint)Unsafe.SizeOf<SchedExtEntity>(),
        [
            M(b, "dsq_seq", u32, (ref SchedExtEntity e) => ref e.DsqSeq),
            M(b, "dsq_flags", u32, (ref SchedExtEntity e) => ref e.DsqFlags),
            M(b, "flags", u32, (ref SchedExtEntity e) => ref e.Flags),
            M(b, "weight", u32, (ref SchedExtEntity e) => ref e.Weight),
            M(b, "sticky_cpu", s32, (ref SchedExtEntity e) => ref e.StickyCpu),
            M(b, "holding_cpu", s32, (ref SchedExtEntity e) => ref e.HoldingCpu),
            M(b, "kf_mask", u32, (ref SchedExtEntity e) => ref e.KfMask),
            M(b, "ops_qseq", u32, (ref SchedExtEntity e) => ref e.OpsQseq),
            M(b, "ops_state", atomicLong, (ref SchedExtEntity e) => ref e.OpsState),
            M(b, "runnable_at", b.Int("long unsigned int"), (ref SchedExtEntity e) => ref e.RunnableAt),
            M(b, "core_sched_at", u64, (ref SchedExtEntity e) => ref e.CoreSchedAt),
            M(b, "ddsp_dsq_id", u64, (ref SchedExtEntity e) => ref e.DdspDsqId),
            M(b, "ddsp_enq_flags", u64, (ref SchedExtEntity e) => ref e.DdspEnqFlags),
            M(b, "slice", u64, (ref SchedExtEntity e) => ref e.Slice),
            M(b, "dsq_vtime", u64, (ref SchedExtEntity e) => ref e.DsqVtime),
            M(b, "disallow", b.Type("bool"), (ref SchedExtEntity e) => ref e.Disallow),
        ]));
    }

    private static void AddTaskStruct(KernelBtfBuilder b, uint se, uint scx)
    {
        static BtfMember M<T>(KernelBtfBuilder b, string name, uint type, FieldRef<TaskStruct, T> f) =>
            KernelBtfBuilder.Member(name, type, KernelBtfBuilder.OffsetOf(f));
        uint i32 = b.Int("int");
        uint u32 = b.Int("unsigned int");
        // typedef int __kernel_pid_t; typedef __kernel_pid_t pid_t.
        uint pid = b.Find("pid_t", BtfKind.Typedef) ?? b.Add(new BtfAlias(BtfKind.Typedef, "pid_t",
            b.Find("__kernel_pid_t", BtfKind.Typedef) ?? b.Add(new BtfAlias(BtfKind.Typedef, "__kernel_pid_t", i32))));
        uint cpumaskT = b.Find("cpumask_t", BtfKind.Typedef)!.Value;
        // struct thread_info { u32 cpu; }: task_cpu() reads p->thread_info.cpu (CONFIG_THREAD_INFO_IN_TASK).
        uint threadInfo = b.Define(new BtfComposite("thread_info", false, 4, [KernelBtfBuilder.Member("cpu", b.Type("u32"), 0)]));
        b.Define(new BtfComposite("task_struct", false, (uint)Unsafe.SizeOf<TaskStruct>(), InOffsetOrder(
        [
            M(b, "pid", pid, (ref TaskStruct t) => ref t.Pid),
            M(b, "comm", b.Array(b.Int("char"), TaskStruct.CommLength), (ref TaskStruct t) => ref t.Comm),
            M(b, "__state", u32, (ref TaskStruct t) => ref t.State),
            M(b, "flags", u32, (ref TaskStruct t) => ref t.Flags),
            M(b, "prio", i32, (ref TaskStruct t) => ref t.Prio),
            M(b, "static_prio", i32, (ref TaskStruct t) => ref t.StaticPrio),
            M(b, "normal_prio", i32, (ref TaskStruct t) => ref t.NormalPrio),
            M(b, "policy", u32, (ref TaskStruct t) => ref t.Policy),
            M(b, "nr_cpus_allowed", i32, (ref TaskStruct t) => ref t.NrCpusAllowed),
            M(b, "thread_info", threadInfo, (ref TaskStruct t) => ref t.Cpu),
            M(b, "wake_cpu", i32, (ref TaskStruct t) => ref t.WakeCpu),
            M(b, "on_rq", i32, (ref TaskStruct t) => ref t.OnRq),
            M(b, "on_cpu", i32, (ref TaskStruct t) => ref t.OnCpu),
            M(b, "cpus_mask", cpumaskT, (ref TaskStruct t) => ref t.CpusMask),
            M(b, "se", se, (ref TaskStruct t) => ref t.Se),
            M(b, "scx", scx, (ref TaskStruct t) => ref t.Scx),
            M(b, "cpus_ptr", b.Pointer(b.Const(cpumaskT)), (ref TaskStruct t) => ref t.CpusPtr),
            M(b, "migration_disabled", b.Int("short unsigned int"), (ref TaskStruct t) => ref t.MigrationDisabled),
            M(b, "tgid", pid, (ref TaskStruct t) => ref t.Tgid),
        ])));
    }

    // BTF lists a struct's members by offset; bpfsim's order is the kernel's names in whatever order the C# layout has
    // them, which a layout change for the caches may reorder.
    private static BtfMember[] InOffsetOrder(BtfMember[] members) => [.. members.OrderBy(m => m.BitOffset)];
}
