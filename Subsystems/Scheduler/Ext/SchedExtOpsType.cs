using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// <c>sched_ext_ops</c> as a struct_ops type: the bridge of kernel/sched/ext.c (bpf_sched_ext_ops, 6.12). Members in
/// the kernel's order and layout with CONFIG_EXT_GROUP_SCHED (the six cgroup members are laid out so offsets match
/// the kernel's BTF, and never called: bpfsim has no cgroups); init_member is bpf_scx_init_member, check_member
/// bpf_scx_check_member, validate accepts (bpf_scx_validate: the ENQ_LAST rule is checked in scx_ops_enable, after
/// ops.init, as an error exit); reg is scx_ops_enable, unreg scx_ops_disable(SCX_EXIT_UNREG), update EOPNOTSUPP.
/// </summary>
/// <remarks>
/// bpf_scx_reg passes the link through to scx_ops_enable, which ignores it in 6.12: a plain (non-link) map registers
/// by update of key 0 and unregisters by delete, exactly as a link does by create and detach. libbpf's SCX_OPS_DEFINE
/// puts the map in <c>.struct_ops.link</c>, so C and C# schedulers normally use a link.
/// </remarks>
public sealed class SchedExtOpsType : StructOpsType
{
    public const string TypeName = "sched_ext_ops";

    /// <summary>The members a program may implement sleepable (bpf_scx_check_member).</summary>
    private static readonly HashSet<string> s_sleepable = new(StringComparer.Ordinal)
    {
        "init_task", "cgroup_init", "cgroup_exit", "cgroup_prep_move", "cpu_online", "cpu_offline", "init", "exit",
    };

    public SchedExtOpsType(ExtSchedClass ext) : base(TypeName, Layout(), structAlignment: 8)
    {
        Ext = ext;
    }

    /// <summary>The ext class this type enables schedulers in.</summary>
    public ExtSchedClass Ext { get; }

    /// <summary>
    /// Calls that earlier attempts of a contained run never returned from, by guard ordinal (one guard per enable, in
    /// order): the replay refuses exactly that call, an error exit naming the op (see <see cref="ExtSchedClass.AbandonedCalls"/>).
    /// </summary>
    public IDictionary<int, (long Call, string Message)> AbandonedCalls => Ext.AbandonedCalls;

    /// <summary>The guard of every scheduler enabled so far, in order; safe to read from another thread.</summary>
    public IReadOnlyList<Core.Bpf.Consumers.ConsumerGuard> Guards => Ext.Guards;

    /// <summary>The member names in kernel order (a guard's member numbers are these indexes).</summary>
    public static IReadOnlyList<string> MemberNames { get; } = Layout().Select(m => m.Name).ToArray();

    private static IEnumerable<StructOpsMember> Layout() =>
    [
        Fn("select_cpu", typeof(SelectCpuFn), "s32 (struct task_struct *, s32, u64)"),
        Fn("enqueue", typeof(TaskFlagsFn), "void (struct task_struct *, u64)"),
        Fn("dequeue", typeof(TaskFlagsFn), "void (struct task_struct *, u64)"),
        Fn("dispatch", typeof(DispatchFn), "void (s32, struct task_struct *)"),
        Fn("tick", typeof(TaskFn), "void (struct task_struct *)"),
        Fn("runnable", typeof(TaskFlagsFn), "void (struct task_struct *, u64)"),
        Fn("running", typeof(TaskFn), "void (struct task_struct *)"),
        Fn("stopping", typeof(StoppingFn), "void (struct task_struct *, bool)"),
        Fn("quiescent", typeof(TaskFlagsFn), "void (struct task_struct *, u64)"),
        Fn("yield", typeof(TaskPairFn), "bool (struct task_struct *, struct task_struct *)"),
        Fn("core_sched_before", typeof(TaskPairFn), "bool (struct task_struct *, struct task_struct *)"),
        Fn("set_weight", typeof(SetWeightFn), "void (struct task_struct *, u32)"),
        Fn("set_cpumask", typeof(SetCpumaskFn), "void (struct task_struct *, const struct cpumask *)"),
        Fn("update_idle", typeof(UpdateIdleFn), "void (s32, bool)"),
        Fn("cpu_acquire", typeof(CpuAcquireFn), "void (s32, struct scx_cpu_acquire_args *)"),
        Fn("cpu_release", typeof(CpuReleaseFn), "void (s32, struct scx_cpu_release_args *)"),
        Fn("init_task", typeof(InitTaskFn), "s32 (struct task_struct *, struct scx_init_task_args *)"),
        Fn("exit_task", typeof(ExitTaskFn), "void (struct task_struct *, struct scx_exit_task_args *)"),
        Fn("enable", typeof(TaskFn), "void (struct task_struct *)"),
        Fn("disable", typeof(TaskFn), "void (struct task_struct *)"),
        Fn("dump", typeof(DumpFn), "void (struct scx_dump_ctx *)"),
        Fn("dump_cpu", typeof(DumpCpuFn), "void (struct scx_dump_ctx *, s32, bool)"),
        Fn("dump_task", typeof(DumpTaskFn), "void (struct scx_dump_ctx *, struct task_struct *)"),
        // CONFIG_EXT_GROUP_SCHED: laid out for the kernel's offsets; bpfsim has no cgroups and never calls them.
        Fn("cgroup_init", typeof(CgroupFn), "s32 (struct cgroup *, struct scx_cgroup_init_args *)"),
        Fn("cgroup_exit", typeof(CgroupFn), "void (struct cgroup *)"),
        Fn("cgroup_prep_move", typeof(CgroupFn), "s32 (struct task_struct *, struct cgroup *, struct cgroup *)"),
        Fn("cgroup_move", typeof(CgroupFn), "void (struct task_struct *, struct cgroup *, struct cgroup *)"),
        Fn("cgroup_cancel_move", typeof(CgroupFn), "void (struct task_struct *, struct cgroup *, struct cgroup *)"),
        Fn("cgroup_set_weight", typeof(CgroupFn), "void (struct cgroup *, u32)"),
        Fn("cpu_online", typeof(CpuFn), "void (s32)"),
        Fn("cpu_offline", typeof(CpuFn), "void (s32)"),
        Fn("init", typeof(InitFn), "s32 (void)"),
        Fn("exit", typeof(ExitFn), "void (struct scx_exit_info *)"),
        StructOpsMember.Data("dispatch_max_batch", StructOpsMemberKind.U32),
        StructOpsMember.Data("flags", StructOpsMemberKind.U64),
        StructOpsMember.Data("timeout_ms", StructOpsMemberKind.U32),
        StructOpsMember.Data("exit_dump_len", StructOpsMemberKind.U32),
        StructOpsMember.Data("hotplug_seq", StructOpsMemberKind.U64),
        StructOpsMember.Data("name", StructOpsMemberKind.CString, ScxConsts.OpsNameLen),
    ];

    // Every member has a cfi stub (__bpf_ops_sched_ext_ops), so every one is supported; the sleepable rule is
    // check_member's, below, so the framework lets any program through to it.
    private static StructOpsMember Fn(string name, Type signature, string prototype) =>
        StructOpsMember.Function(name, signature, prototype, allowSleepable: true);

    /// <summary>bpf_scx_check_member: only init_task, cgroup_init/exit/prep_move, cpu_online/offline, init and exit may sleep.</summary>
    public override BpfResult CheckMember(StructOpsMember member, ProgramSpec program) =>
        program.Sleepable && !s_sleepable.Contains(member.Name)
            ? BpfResult.Fail(Errno.EINVAL, $"attach to unsupported member {member.Name} of struct {Name}")
            : BpfResult.Ok;

    /// <summary>bpf_scx_init_member.</summary>
    public override BpfResult InitMember(StructOpsMember member, ReadOnlySpan<byte> userData, Span<byte> kernelData, out bool handled)
    {
        handled = true;
        switch (member.Name)
        {
            case "dispatch_max_batch":
                uint batch = BinaryPrimitives.ReadUInt32LittleEndian(userData);
                if (batch > int.MaxValue)
                {
                    return BpfResult.Fail(Errno.E2BIG, $"dispatch_max_batch {batch} is above INT_MAX");
                }
                userData.CopyTo(kernelData);
                return BpfResult.Ok;
            case "flags":
                ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(userData);
                if ((flags & ~(ulong)ScxOpsFlags.All) != 0)
                {
                    return BpfResult.Fail(Errno.EINVAL, $"flags 0x{flags:x} has bits outside SCX_OPS_ALL_FLAGS (0x{(ulong)ScxOpsFlags.All:x})");
                }
                userData.CopyTo(kernelData);
                return BpfResult.Ok;
            case "name":
                return CopyName(userData, kernelData);
            case "timeout_ms":
                uint ms = BinaryPrimitives.ReadUInt32LittleEndian(userData);
                // msecs_to_jiffies(ms) > SCX_WATCHDOG_MAX_TIMEOUT (30 * HZ).
                if (Jiffies.MsecsToJiffies(ms, (uint)Ext.Hz) > 30UL * (ulong)Ext.Hz)
                {
                    return BpfResult.Fail(Errno.E2BIG, $"timeout_ms {ms} is above the 30 s maximum (SCX_WATCHDOG_MAX_TIMEOUT)");
                }
                userData.CopyTo(kernelData);
                return BpfResult.Ok;
            case "exit_dump_len":
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(userData);
                BinaryPrimitives.WriteUInt32LittleEndian(kernelData, len != 0 ? len : ScxConsts.ExitDumpDflLen);
                return BpfResult.Ok;
            case "hotplug_seq":
                userData.CopyTo(kernelData);
                return BpfResult.Ok;
            default:
                handled = false;
                return BpfResult.Ok;
        }
    }

    /// <summary>bpf_obj_name_cpy into name[128]: [A-Za-z0-9_.] up to a NUL inside the array, and not empty.</summary>
    private static BpfResult CopyName(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        dst.Clear();
        int i = 0;
        for (; i < src.Length && src[i] != 0; i++)
        {
            byte c = src[i];
            if (!(char.IsAsciiLetterOrDigit((char)c) || c == '_' || c == '.'))
            {
                return BpfResult.Fail(Errno.EINVAL, $"name has '{(char)c}' at {i}: only [A-Za-z0-9_.] (bpf_obj_name_cpy)");
            }
            dst[i] = c;
        }
        if (i == src.Length)
        {
            return BpfResult.Fail(Errno.EINVAL, $"name is not NUL-terminated within {src.Length} bytes");
        }
        return i == 0 ? BpfResult.Fail(Errno.EINVAL, "name is empty") : BpfResult.Ok;
    }

    /// <summary>bpf_scx_reg → scx_ops_enable (the link is not used in 6.12).</summary>
    public override BpfResult Register(StructOpsKernelData data, StructOpsLink? link) =>
        Ext.EnableScheduler(SchedExtOps.FromStructOps(data), data.Map);

    /// <summary>bpf_scx_unreg: scx_ops_disable(SCX_EXIT_UNREG) and wait for the disable to finish.</summary>
    public override void Unregister(StructOpsKernelData data, StructOpsLink? link) => Ext.UnregisterScheduler(data.Map);

    /// <summary>bpf_scx_update: "sched_ext does not support updating the actively-loaded BPF scheduler".</summary>
    public override BpfResult Update(StructOpsKernelData data, StructOpsKernelData old, StructOpsLink? link) =>
        BpfResult.Fail(Errno.EOPNOTSUPP, "sched_ext does not support updating the actively-loaded BPF scheduler");

    public override bool SupportsUpdate => true;

    /// <summary>How clang-compiled sched_ext programs run (helpers, kfuncs, task regions, trampolines): BPF's SchedExtOpsBytecode.</summary>
    public override Core.Ebpf.Loading.BytecodeSupport? Bytecode => s_bytecode;

    private static readonly Bytecode.SchedExtOpsBytecode s_bytecode = new();
}
