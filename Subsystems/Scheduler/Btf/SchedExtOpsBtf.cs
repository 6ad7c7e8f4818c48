using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Scheduler.Btf;

/// <summary>
/// The kernel BTF of <c>struct sched_ext_ops</c> (kernel/sched/ext.c, 6.12, with CONFIG_EXT_GROUP_SCHED) with each
/// member's prototype, the structs its callbacks receive (scx_init_task_args, scx_exit_task_args,
/// scx_cpu_acquire_args, scx_cpu_release_args, scx_dump_ctx, scx_exit_info, scx_cgroup_init_args), the iterator
/// struct bpf_iter_scx_dsq, and the struct_ops map value type <c>bpf_struct_ops_sched_ext_ops</c>.
/// </summary>
internal static class SchedExtOpsBtf
{
    /// <summary>The struct's name.</summary>
    internal const string TypeName = "sched_ext_ops";

    /// <summary>The function members in kernel order: return type and parameters (C types as vmlinux.h names them).</summary>
    internal static readonly (string Name, string Return, (string Name, string Type)[] Params)[] Functions =
    [
        ("select_cpu", "s32", [("p", "struct task_struct *"), ("prev_cpu", "s32"), ("wake_flags", "u64")]),
        ("enqueue", "void", [("p", "struct task_struct *"), ("enq_flags", "u64")]),
        ("dequeue", "void", [("p", "struct task_struct *"), ("deq_flags", "u64")]),
        ("dispatch", "void", [("cpu", "s32"), ("prev", "struct task_struct *")]),
        ("tick", "void", [("p", "struct task_struct *")]),
        ("runnable", "void", [("p", "struct task_struct *"), ("enq_flags", "u64")]),
        ("running", "void", [("p", "struct task_struct *")]),
        ("stopping", "void", [("p", "struct task_struct *"), ("runnable", "bool")]),
        ("quiescent", "void", [("p", "struct task_struct *"), ("deq_flags", "u64")]),
        ("yield", "bool", [("from", "struct task_struct *"), ("to", "struct task_struct *")]),
        ("core_sched_before", "bool", [("a", "struct task_struct *"), ("b", "struct task_struct *")]),
        ("set_weight", "void", [("p", "struct task_struct *"), ("weight", "u32")]),
        ("set_cpumask", "void", [("p", "struct task_struct *"), ("cpumask", "const struct cpumask *")]),
        ("update_idle", "void", [("cpu", "s32"), ("idle", "bool")]),
        ("cpu_acquire", "void", [("cpu", "s32"), ("args", "struct scx_cpu_acquire_args *")]),
        ("cpu_release", "void", [("cpu", "s32"), ("args", "struct scx_cpu_release_args *")]),
        ("init_task", "s32", [("p", "struct task_struct *"), ("args", "struct scx_init_task_args *")]),
        ("exit_task", "void", [("p", "struct task_struct *"), ("args", "struct scx_exit_task_args *")]),
        ("enable", "void", [("p", "struct task_struct *")]),
        ("disable", "void", [("p", "struct task_struct *")]),
        ("dump", "void", [("ctx", "struct scx_dump_ctx *")]),
        ("dump_cpu", "void", [("ctx", "struct scx_dump_ctx *"), ("cpu", "s32"), ("idle", "bool")]),
        ("dump_task", "void", [("ctx", "struct scx_dump_ctx *"), ("p", "struct task_struct *")]),
        ("cgroup_init", "s32", [("cgrp", "struct cgroup *"), ("args", "struct scx_cgroup_init_args *")]),
        ("cgroup_exit", "void", [("cgrp", "struct cgroup *")]),
        ("cgroup_prep_move", "s32", [("p", "struct task_struct *"), ("from", "struct cgroup *"), ("to", "struct cgroup *")]),
        ("cgroup_move", "void", [("p", "struct task_struct *"), ("from", "struct cgroup *"), ("to", "struct cgroup *")]),
        ("cgroup_cancel_move", "void", [("p", "struct task_struct *"), ("from", "struct cgroup *"), ("to", "struct cgroup *")]),
        ("cgroup_set_weight", "void", [("cgrp", "struct cgroup *"), ("weight", "u32")]),
        ("cpu_online", "void", [("cpu", "s32")]),
        ("cpu_offline", "void", [("cpu", "s32")]),
        ("init", "s32", []),
        ("exit", "void", [("info", "struct scx_exit_info *")]),
    ];

    /// <summary>The data members after the functions, in kernel order.</summary>
    internal static readonly (string Name, StructOpsMemberKind Kind, int Size)[] Data =
    [
        ("dispatch_max_batch", StructOpsMemberKind.U32, 4),
        ("flags", StructOpsMemberKind.U64, 8),
        ("timeout_ms", StructOpsMemberKind.U32, 4),
        ("exit_dump_len", StructOpsMemberKind.U32, 4),
        ("hotplug_seq", StructOpsMemberKind.U64, 8),
        ("name", StructOpsMemberKind.CString, 128), // SCX_OPS_NAME_LEN
    ];

    /// <summary>Adds the types; task_struct, cpumask and the scx enums must be there already.</summary>
    internal static void Add(KernelBtfBuilder b)
    {
        AddCallbackStructs(b);
        var layout = new Layout();
        var members = new List<BtfMember>();
        foreach (var m in layout.Members)
        {
            uint type = m.Kind switch
            {
                StructOpsMemberKind.Function => b.Pointer(Prototype(b, m.Name)),
                StructOpsMemberKind.CString => b.Array(b.Int("char"), (uint)m.Size),
                StructOpsMemberKind.U32 => b.Type("u32"),
                StructOpsMemberKind.U64 => b.Type("u64"),
                _ => throw new BtfException($"sched_ext_ops.{m.Name}: no BTF for member kind {m.Kind}"),
            };
            members.Add(KernelBtfBuilder.Member(m.Name, type, m.Offset));
        }
        uint ops = b.Define(new BtfComposite(TypeName, false, (uint)layout.DataSize, members));
        b.AddStructOpsValue(layout, ops);
    }

    /// <summary>
    /// sched_ext_ops's members with the kernel's natural layout, for the BTF alone (the live type is the Ext
    /// subsystem's SchedExtOpsType; a test checks both give every member the same offset).
    /// </summary>
    internal sealed class Layout() : StructOpsType(TypeName,
        Functions.Select(f => StructOpsMember.Function(f.Name, typeof(Delegate), f.Return)).Concat(Data.Select(d => StructOpsMember.Data(d.Name, d.Kind, d.Size))))
    {
        public override BpfResult Register(StructOpsKernelData data, StructOpsLink? link) => throw new NotSupportedException("a BTF layout only");

        public override void Unregister(StructOpsKernelData data, StructOpsLink? link) => throw new NotSupportedException("a BTF layout only");
    }

    private static uint Prototype(KernelBtfBuilder b, string member)
    {
        var f = Functions.First(x => x.Name == member);
        return b.FuncProto(CDecl(b, f.Return), f.Params.Select(p => (p.Name, CDecl(b, p.Type))).ToArray());
    }

    /// <summary>A C type: <c>void</c>, <c>const</c> and trailing <c>*</c> over a base type, typedef or <c>struct|enum NAME</c>.</summary>
    internal static uint CDecl(KernelBtfBuilder b, string decl)
    {
        decl = decl.Trim();
        if (decl.EndsWith('*'))
        {
            return b.Pointer(CDecl(b, decl[..^1]));
        }
        if (decl.StartsWith("const ", StringComparison.Ordinal))
        {
            return b.Const(CDecl(b, decl["const ".Length..]));
        }
        if (decl.StartsWith("struct ", StringComparison.Ordinal))
        {
            return b.StructRef(decl["struct ".Length..]);
        }
        if (decl.StartsWith("enum ", StringComparison.Ordinal))
        {
            string name = decl["enum ".Length..];
            return b.Find(name, BtfKind.Enum) ?? b.Find(name, BtfKind.Enum64) ?? throw new BtfException($"enum {name} must be added before it is used");
        }
        return decl == "void" ? 0 : b.Type(decl);
    }

    /// <summary>The offsets the bytecode trampoline writes the callback structs at (the BTF below is built from them).</summary>
    internal static class Offsets
    {
        public const int InitTaskArgsFork = 0;
        public const int InitTaskArgsCgroup = 8;
        public const int InitTaskArgsSize = 16;
        public const int ExitTaskArgsCancelled = 0;
        public const int ExitTaskArgsSize = 1;
        public const int CpuReleaseArgsReason = 0;
        public const int CpuReleaseArgsTask = 8;
        public const int CpuReleaseArgsSize = 16;
        public const int DumpCtxKind = 0;
        public const int DumpCtxExitCode = 8;
        public const int DumpCtxReason = 16;
        public const int DumpCtxAtNs = 24;
        public const int DumpCtxAtJiffies = 32;
        public const int DumpCtxSize = 40;
        public const int ExitInfoKind = 0;
        public const int ExitInfoExitCode = 8;
        public const int ExitInfoReason = 16;
        public const int ExitInfoBt = 24;
        public const int ExitInfoBtLen = 32;
        public const int ExitInfoMsg = 40;
        public const int ExitInfoDump = 48;
        public const int ExitInfoSize = 56;
    }

    // The structs of kernel/sched/ext.c callbacks receive, with the kernel's (natural, 64-bit) layout.
    private static void AddCallbackStructs(KernelBtfBuilder b)
    {
        uint boolT = b.Type("bool");
        uint s64 = b.Type("s64");
        uint u64 = b.Type("u64");
        uint u32 = b.Type("u32");
        uint charPtr = b.Pointer(b.Int("char"));
        uint constCharPtr = b.Pointer(b.Const(b.Int("char")));
        uint exitKind = b.Find("scx_exit_kind", BtfKind.Enum)!.Value;
        uint cgroupPtr = b.Pointer(b.StructRef("cgroup"));
        b.StructRef("rq");
        b.Define(new BtfComposite("scx_init_task_args", false, Offsets.InitTaskArgsSize,
        [
            KernelBtfBuilder.Member("fork", boolT, Offsets.InitTaskArgsFork),
            KernelBtfBuilder.Member("cgroup", cgroupPtr, Offsets.InitTaskArgsCgroup),
        ]));
        b.Define(new BtfComposite("scx_exit_task_args", false, Offsets.ExitTaskArgsSize,
            [KernelBtfBuilder.Member("cancelled", boolT, Offsets.ExitTaskArgsCancelled)]));
        b.Define(new BtfComposite("scx_cgroup_init_args", false, 4, [KernelBtfBuilder.Member("weight", u32, 0)]));
        b.Define(new BtfComposite("scx_cpu_acquire_args", false, 0, []));
        b.Define(new BtfComposite("scx_cpu_release_args", false, Offsets.CpuReleaseArgsSize,
        [
            KernelBtfBuilder.Member("reason", b.Find("scx_cpu_preempt_reason", BtfKind.Enum)!.Value, Offsets.CpuReleaseArgsReason),
            KernelBtfBuilder.Member("task", b.Pointer(b.StructRef("task_struct")), Offsets.CpuReleaseArgsTask),
        ]));
        b.Define(new BtfComposite("scx_dump_ctx", false, Offsets.DumpCtxSize,
        [
            KernelBtfBuilder.Member("kind", exitKind, Offsets.DumpCtxKind),
            KernelBtfBuilder.Member("exit_code", s64, Offsets.DumpCtxExitCode),
            KernelBtfBuilder.Member("reason", constCharPtr, Offsets.DumpCtxReason),
            KernelBtfBuilder.Member("at_ns", u64, Offsets.DumpCtxAtNs),
            KernelBtfBuilder.Member("at_jiffies", u64, Offsets.DumpCtxAtJiffies),
        ]));
        b.Define(new BtfComposite("scx_exit_info", false, Offsets.ExitInfoSize,
        [
            KernelBtfBuilder.Member("kind", exitKind, Offsets.ExitInfoKind),
            KernelBtfBuilder.Member("exit_code", s64, Offsets.ExitInfoExitCode),
            KernelBtfBuilder.Member("reason", constCharPtr, Offsets.ExitInfoReason),
            KernelBtfBuilder.Member("bt", b.Pointer(b.Int("long unsigned int")), Offsets.ExitInfoBt),
            KernelBtfBuilder.Member("bt_len", u32, Offsets.ExitInfoBtLen),
            KernelBtfBuilder.Member("msg", charPtr, Offsets.ExitInfoMsg),
            KernelBtfBuilder.Member("dump", charPtr, Offsets.ExitInfoDump),
        ]));
        // struct bpf_iter_scx_dsq { u64 __opaque[6]; } __aligned(8): what bpf_for_each(scx_dsq, ...) puts on the stack.
        b.Define(new BtfComposite("bpf_iter_scx_dsq", false, 48, [KernelBtfBuilder.Member("__opaque", b.Array(u64, 6), 0)]));
    }
}
