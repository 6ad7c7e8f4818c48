using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Scheduler.Btf;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// The scheduler's kernel BTF: task_struct over TaskStruct with the kernel's names and bpfsim's offsets, sched_ext_ops
/// with the kernel's layout and prototypes, the scx enums with the kernel's values, and a vmlinux.h that
/// tools/sched_ext's headers and schedulers compile against.
/// </summary>
[Category("Ebpf")]
public sealed class SchedKernelBtfTests
{
    internal static BtfSpec Kernel() => KernelBtf.Build([new TcpKernelTypes(), new SchedKernelTypes()]);

    private static BtfMember Member(BtfSpec btf, string structName, string member) =>
        ((BtfComposite)btf[btf.Find(structName, BtfKind.Struct)!.Value]).Members.Single(m => m.Name == member);

    [TestCase("pid", nameof(TaskStruct.Pid))]
    [TestCase("comm", nameof(TaskStruct.Comm))]
    [TestCase("__state", nameof(TaskStruct.State))]
    [TestCase("flags", nameof(TaskStruct.Flags))]
    [TestCase("static_prio", nameof(TaskStruct.StaticPrio))]
    [TestCase("policy", nameof(TaskStruct.Policy))]
    [TestCase("nr_cpus_allowed", nameof(TaskStruct.NrCpusAllowed))]
    [TestCase("cpus_mask", nameof(TaskStruct.CpusMask))]
    [TestCase("cpus_ptr", nameof(TaskStruct.CpusPtr))]
    [TestCase("se", nameof(TaskStruct.Se))]
    [TestCase("scx", nameof(TaskStruct.Scx))]
    public void TaskStruct_MembersSitAtTheSimulatedStructsOffsets(string kernelName, string field)
    {
        var btf = Kernel();
        int offset = (int)Marshal(typeof(TaskStruct), field);
        Assert.That(Member(btf, "task_struct", kernelName).BitOffset, Is.EqualTo((uint)offset * 8));
        Assert.That(((BtfComposite)btf[btf.Find("task_struct", BtfKind.Struct)!.Value]).Size, Is.EqualTo((uint)Unsafe.SizeOf<TaskStruct>()));
    }

    [TestCase("slice", nameof(SchedExtEntity.Slice))]
    [TestCase("dsq_vtime", nameof(SchedExtEntity.DsqVtime))]
    [TestCase("weight", nameof(SchedExtEntity.Weight))]
    [TestCase("disallow", nameof(SchedExtEntity.Disallow))]
    [TestCase("flags", nameof(SchedExtEntity.Flags))]
    public void SchedExtEntity_MembersSitAtTheSimulatedStructsOffsets(string kernelName, string field)
    {
        var btf = Kernel();
        Assert.That(Member(btf, "sched_ext_entity", kernelName).BitOffset, Is.EqualTo((uint)Marshal(typeof(SchedExtEntity), field) * 8));
    }

    private static long Marshal(Type type, string field) =>
        System.Runtime.InteropServices.Marshal.OffsetOf(type, field).ToInt64();

    [Test]
    public void SchedExtOps_KernelLayout_FunctionsThenData()
    {
        var btf = Kernel();
        // 33 function pointers (CONFIG_EXT_GROUP_SCHED), then dispatch_max_batch, flags (aligned), timeout_ms, ...
        Assert.That(Member(btf, "sched_ext_ops", "select_cpu").BitOffset, Is.EqualTo(0u));
        Assert.That(Member(btf, "sched_ext_ops", "exit").BitOffset / 8, Is.EqualTo(32u * 8));
        Assert.That(Member(btf, "sched_ext_ops", "dispatch_max_batch").BitOffset / 8, Is.EqualTo(264u));
        Assert.That(Member(btf, "sched_ext_ops", "flags").BitOffset / 8, Is.EqualTo(272u));
        Assert.That(Member(btf, "sched_ext_ops", "timeout_ms").BitOffset / 8, Is.EqualTo(280u));
        Assert.That(Member(btf, "sched_ext_ops", "name").BitOffset / 8, Is.EqualTo(296u));
        Assert.That(btf.Find("bpf_struct_ops_sched_ext_ops", BtfKind.Struct), Is.Not.Null);
    }

    [Test]
    public void Header_HasTheScxTypesConstantsAndPrototypes()
    {
        string h = BtfCFormatter.Format(Kernel());
        Assert.Multiple(() =>
        {
            Assert.That(h, Does.Contain("s32 (*select_cpu)(struct task_struct *, s32, u64);"));
            Assert.That(h, Does.Contain("void (*stopping)(struct task_struct *, bool);"));
            Assert.That(h, Does.Contain("void (*set_cpumask)(struct task_struct *, const struct cpumask *);"));
            Assert.That(h, Does.Contain("s32 (*init_task)(struct task_struct *, struct scx_init_task_args *);"));
            Assert.That(h, Does.Contain("void (*exit)(struct scx_exit_info *);"));
            Assert.That(h, Does.Contain("SCX_DSQ_FLAG_BUILTIN = 9223372036854775808ULL"));
            Assert.That(h, Does.Contain("SCX_DSQ_LOCAL = 9223372036854775810ULL"));
            Assert.That(h, Does.Contain("SCX_SLICE_DFL = 20000000ULL").And.Contain("SCX_SLICE_INF = 18446744073709551615ULL"));
            Assert.That(h, Does.Contain("SCX_ENQ_WAKEUP = 1ULL").And.Contain("SCX_ENQ_PREEMPT = 4294967296ULL"));
            Assert.That(h, Does.Contain("SCX_KICK_PREEMPT = 2ULL").And.Contain("SCX_OPS_SWITCH_PARTIAL = 8ULL"));
            Assert.That(h, Does.Contain("SCX_EXIT_ERROR_STALL = 1026").And.Contain("SCX_DSP_DFL_MAX_BATCH = 32"));
            Assert.That(h, Does.Contain("typedef struct cpumask cpumask_t;").And.Contain("const cpumask_t *cpus_ptr;"));
            Assert.That(h, Does.Contain("BPF_MAP_TYPE_PERCPU_ARRAY = 6").And.Contain("BPF_MAP_TYPE_QUEUE = 22").And.Contain("true = 1"));
            Assert.That(h, Does.Contain("char *msg;").And.Contain("s64 exit_code;"));
        });
    }

    [Test]
    public void KernelScxSimple_CompilesAgainstTheHeader()
    {
        string dir = SchedClang.TempDir();
        try
        {
            var (code, output) = SchedClang.CompileKernelScheduler(dir, "scx_simple", out _);
            Assert.That(code, Is.Zero, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>The BTF's sched_ext_ops and the live struct_ops type (Ext's SchedExtOpsType) agree member by member.</summary>
[Category("Ebpf")]
public sealed class SchedExtOpsLayoutTests
{
    [Test]
    public void BtfLayout_MatchesTheLiveType_MemberByMember()
    {
        var rig = new ScxObjectRig(1);
        var live = rig.Bpf.FindStructOpsType(SchedExtOpsType.TypeName)!;
        var btf = SchedKernelBtfTests.Kernel();
        var ops = (BtfComposite)btf[btf.Find("sched_ext_ops", BtfKind.Struct)!.Value];
        Assert.That(ops.Members.Select(m => (m.Name, (int)(m.BitOffset / 8))), Is.EqualTo(live.Members.Select(m => (m.Name, m.Offset))));
        Assert.That(ops.Size, Is.EqualTo((uint)live.DataSize));
        // libbpf sizes the map's value from this type (bpf_map__init_kern_struct_ops): 512, as in Linux.
        var value = (BtfComposite)btf[btf.Find("bpf_struct_ops_sched_ext_ops", BtfKind.Struct)!.Value];
        Assert.That((value.Size, (uint)live.ValueSize), Is.EqualTo((512u, 512u)));
    }
}
