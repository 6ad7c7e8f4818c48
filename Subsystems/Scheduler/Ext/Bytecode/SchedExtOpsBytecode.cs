using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext.Bytecode;

/// <summary>
/// How bytecode programs implement <c>sched_ext_ops</c> (kernel/sched/ext.c, 6.12): the helpers of
/// bpf_scx_get_func_proto (the base ones: map access incl. queue/stack, bpf_ktime_get_ns, bpf_get_smp_processor_id,
/// bpf_probe_read_kernel_str, …), the sched_ext kfuncs under their 6.12 and 6.13+ names backed by the running
/// kernel's <see cref="ScxKfuncs"/>, writes to task_struct limited as bpf_scx_btf_struct_access limits them
/// (scx.slice, scx.dsq_vtime, scx.disallow), and a trampoline per member: a task is its row of the task table bound
/// as a region (no copy), NULL tasks are 0, callback structs (init/exit task args, exit info, dump ctx, cpumask) are
/// laid out as the kernel BTF describes them.
/// </summary>
/// <remarks>
/// Each run enters the CPU the operation runs on (<c>BpfSystem.EnterProgram</c>), so per-CPU maps and
/// bpf_get_smp_processor_id see the scheduler's CPU. A fault ends the call with <see cref="BpfFault"/>, which the
/// ext class's guard turns into an error exit, as the kernel ejects a scheduler that misbehaves.
/// </remarks>
public sealed partial class SchedExtOpsBytecode : BytecodeSupport
{
    /// <summary>The name the task regions carry; kfuncs accept a task pointer only at offset 0 of one.</summary>
    internal const string TaskRegion = "task_struct";

    private static readonly int s_cpusMaskOffset = KernelBtfBuilder.OffsetOf((ref TaskStruct t) => ref t.CpusMask);
    private static readonly int s_taskSize = Unsafe.SizeOf<TaskStruct>();

    private readonly WriteFilter _taskWrites;
    private readonly ConditionalWeakTable<LoadedObject, Regions> _regions = new();
    private readonly Dictionary<string, BpfFunction> _kfuncs;

    public SchedExtOpsBytecode()
    {
        _taskWrites = new WriteFilter(TaskRegion, WritableFields.Select(f => new WritableField(f.Offset, f.Size)));
        _kfuncs = Kfuncs();
    }

    /// <summary>
    /// The task_struct members a sched_ext program may write (bpf_scx_btf_struct_access: scx.slice, scx.dsq_vtime,
    /// scx.disallow), with bpfsim's offsets; any other store is refused at load (EACCES) or faults.
    /// </summary>
    public static IReadOnlyList<(string Member, int Offset, int Size)> WritableFields { get; } =
    [
        ("scx.slice", ScxOffset((ref SchedExtEntity e) => ref e.Slice), 8),
        ("scx.dsq_vtime", ScxOffset((ref SchedExtEntity e) => ref e.DsqVtime), 8),
        ("scx.disallow", ScxOffset((ref SchedExtEntity e) => ref e.Disallow), 1),
    ];

    private static int ScxOffset<T>(FieldRef<SchedExtEntity, T> field) =>
        KernelBtfBuilder.OffsetOf((ref TaskStruct t) => ref t.Scx) + KernelBtfBuilder.OffsetOf(field);

    /// <summary>The regions a call binds, mapped once per object (in every nesting level).</summary>
    private sealed class Regions(LoadedObject obj, WriteFilter taskWrites)
    {
        public readonly RegionHandle Task0 = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, TaskRegion, taskWrites);
        public readonly RegionHandle Task1 = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, TaskRegion, taskWrites);
        public readonly RegionHandle Args = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.Read, "args");

        /// <summary>Scratch for the callback structs (the largest is an exit info with its strings).</summary>
        public byte[] Scratch = new byte[256];
    }

    /// <summary>SCX_OPS_LOAD's UEI_SET_SIZE: the exit-dump buffer sized and its length set (<see cref="UeiDumpSizing"/>).</summary>
    public override ObjectSpec PrepareObject(ObjectSpec spec) => UeiDumpSizing.Apply(spec);

    // ---- helpers ----

    /// <summary>bpf_scx_get_func_proto: bpf_base_func_proto (kernel/bpf/helpers.c) — what BaseHelpers implements.</summary>
    public override BpfFunction? Helper(int id, StructOpsMember member, out string refusal)
    {
        var fn = BaseHelpers.For(id);
        refusal = fn is null ? $"program of this type cannot use helper {HelperNames.TryGetName(id) ?? "unknown"}#{id}" : "";
        return fn;
    }

    // ---- context ----

    /// <summary>Task arguments may be written where bpf_scx_btf_struct_access allows; callback structs are read-only.</summary>
    public override WriteFilter? ArgumentWrites(StructOpsMember member, int argument) => (member.Name, argument) switch
    {
        ("dispatch", 1) or ("dump_task", 1) => _taskWrites,
        ("dispatch" or "update_idle" or "cpu_acquire" or "cpu_release" or "dump" or "dump_cpu" or "cpu_online" or "cpu_offline" or "exit"
            or "init" or "cgroup_init" or "cgroup_exit" or "cgroup_set_weight", _) => null,
        (_, 0) => _taskWrites,
        ("yield" or "core_sched_before", 1) => _taskWrites,
        _ => null,
    };

    /// <summary>The task a kfunc argument points to: offset 0 of a task region (PTR_TO_BTF_ID task_struct), else a fault.</summary>
    internal static int TaskId(ref RunContext c, ulong address, string kfunc)
    {
        if (address == 0)
        {
            return -1;
        }
        if (!c.Memory.TryTranslate(address, out var region, out int offset) || offset != 0 || c.Memory.NameOf(region) != TaskRegion)
        {
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter,
                $"{kfunc}: R1 type=scalar expected=ptr_to_btf_id task_struct (0x{address:x} is not a task)", address);
        }
        return MemoryMarshal.Read<int>(c.GetBytes(address, s_taskSize, MemoryAccess.Read));
    }
}
