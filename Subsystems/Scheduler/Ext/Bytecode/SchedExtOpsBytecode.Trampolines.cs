using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Scheduler.Btf;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext.Bytecode;

// The struct_ops trampolines (bpf_struct_ops_prepare_trampoline): each member call becomes ctx[0..n] for the program,
// task pointers are task-table rows bound as regions, callback structs are written into the object's scratch
// buffer at the kernel BTF's offsets (SchedExtOpsBtf.Offsets) and bound read-only.
public sealed partial class SchedExtOpsBytecode
{
    private static readonly SchedExtOpsBtf.Layout s_layout = new();

    public override Delegate? Trampoline(StructOpsMember member, BytecodeProgram program)
    {
        var r = _regions.GetValue(program.Object, o => new Regions(o, _taskWrites));
        return member.Name switch
        {
            "select_cpu" => (SelectCpuFn)((ref TaskStruct p, int prev, ulong wake) =>
                (int)(uint)Run(program, r, ref p, ref Unsafe.NullRef<TaskStruct>(), 3, (ulong)(long)prev, wake, 0)),
            "enqueue" or "dequeue" or "runnable" or "quiescent" => (TaskFlagsFn)((ref TaskStruct p, ulong flags) =>
                Run(program, r, ref p, ref Unsafe.NullRef<TaskStruct>(), 2, flags, 0, 0)),
            "dispatch" => (DispatchFn)((int cpu, ref TaskStruct prev) => RunCpuTask(program, r, cpu, ref prev)),
            "tick" or "running" or "enable" or "disable" => (TaskFn)((ref TaskStruct p) =>
                Run(program, r, ref p, ref Unsafe.NullRef<TaskStruct>(), 1, 0, 0, 0)),
            "stopping" => (StoppingFn)((ref TaskStruct p, bool runnable) =>
                Run(program, r, ref p, ref Unsafe.NullRef<TaskStruct>(), 2, runnable ? 1UL : 0, 0, 0)),
            "yield" or "core_sched_before" => (TaskPairFn)((ref TaskStruct a, ref TaskStruct b) =>
                (byte)Run(program, r, ref a, ref b, 2, 0, 0, 0) != 0),
            "set_weight" => (SetWeightFn)((ref TaskStruct p, uint weight) =>
                Run(program, r, ref p, ref Unsafe.NullRef<TaskStruct>(), 2, weight, 0, 0)),
            "set_cpumask" => (SetCpumaskFn)((ref TaskStruct p, in Cpumask mask) => RunSetCpumask(program, r, ref p, in mask)),
            "update_idle" => (UpdateIdleFn)((int cpu, bool idle) => RunScalars(program, r, 2, (ulong)(long)cpu, idle ? 1UL : 0, 0)),
            "cpu_online" or "cpu_offline" => (CpuFn)(cpu => RunScalars(program, r, 1, (ulong)(long)cpu, 0, 0)),
            "init" => (InitFn)(() => (int)(uint)RunScalars(program, r, 0, 0, 0, 0)),
            "cgroup_init" or "cgroup_exit" or "cgroup_prep_move" or "cgroup_move" or "cgroup_cancel_move" or "cgroup_set_weight" =>
                (CgroupFn)((a, b, c) => (int)(uint)RunScalars(program, r, 3, a, b, c)),
            "cpu_acquire" => (CpuAcquireFn)((int cpu, in ScxCpuAcquireArgs _) => RunWithArgs(program, r, cpu, 1)),
            "cpu_release" => (CpuReleaseFn)((int cpu, in ScxCpuReleaseArgs args) => RunCpuRelease(program, r, cpu, in args)),
            "init_task" => (InitTaskFn)((ref TaskStruct p, in ScxInitTaskArgs args) => RunInitTask(program, r, ref p, args.Fork)),
            "exit_task" => (ExitTaskFn)((ref TaskStruct p, in ScxExitTaskArgs args) => RunExitTask(program, r, ref p, args.Cancelled)),
            "dump" => (DumpFn)((in ScxDumpCtx ctx) => RunDump(program, r, in ctx, 1, 0, 0, ref Unsafe.NullRef<TaskStruct>())),
            "dump_cpu" => (DumpCpuFn)((in ScxDumpCtx ctx, int cpu, bool idle) =>
                RunDump(program, r, in ctx, 3, (ulong)(long)cpu, idle ? 1UL : 0, ref Unsafe.NullRef<TaskStruct>())),
            "dump_task" => (DumpTaskFn)((in ScxDumpCtx ctx, ref TaskStruct p) => RunDump(program, r, in ctx, 2, 0, 0, ref p)),
            "exit" => (ExitFn)(info => RunExit(program, r, info)),
            _ => null, // not a member a BPF program can implement: the load refuses it
        };
    }

    /// <summary>The CPU the operation runs on, for EnterProgram (the BpfSystem's CPUs should be the scheduler's).</summary>
    private static int RunCpu(BytecodeProgram program)
    {
        int cpu = Scx.Current?.ThisCpu ?? -1;
        int n = program.Object.System.Cpus.Count;
        return cpu < 0 ? 0 : cpu % n;
    }

    private static ulong Execute(BytecodeProgram program, scoped ref RunContext c, scoped ReadOnlySpan<ulong> args, long owner)
    {
        using (program.Object.System.EnterProgram(RunCpu(program)))
        {
            return program.Run(ref c, args, owner);
        }
    }

    /// <summary>Where a task's row is bound (and points its cpus_ptr at its cpus_mask there); 0 for a NULL task.</summary>
    private static ulong TaskAddress(RegionHandle region, ref TaskStruct p)
    {
        if (Unsafe.IsNullRef(ref p))
        {
            return 0;
        }
        ulong address = AddressSpace.AddressOf(region);
        p.CpusPtr = address + (ulong)s_cpusMaskOffset;
        p.Tgid = p.Pid;
        return address;
    }

    /// <summary>The task's row as the bytes a region binds (empty for a NULL task: an access faults).</summary>
    private static Span<byte> TaskBytes(ref TaskStruct p) =>
        Unsafe.IsNullRef(ref p) ? [] : MemoryMarshal.AsBytes(new Span<TaskStruct>(ref p));

    private static ulong Run(BytecodeProgram program, Regions r, ref TaskStruct a, ref TaskStruct b, int argc, ulong x1, ulong x2, ulong x3)
    {
        scoped RunContext c = program.NewContext();
        ulong pa = TaskAddress(r.Task0, ref a);
        c.Bind(r.Task0, TaskBytes(ref a));
        ulong pb = TaskAddress(r.Task1, ref b);
        c.Bind(r.Task1, TaskBytes(ref b));
        // (a, b) for yield and core_sched_before, the only callers with a second task (whose x1 is 0, so a NULL b is 0
        // either way); (p, x1, x2, x3) for the others. Decided by the task, not the member's name: no string
        // comparison per call.
        Span<ulong> args = [pa, Unsafe.IsNullRef(ref b) ? x1 : pb, x2, x3];
        return Execute(program, ref c, args[..argc], Unsafe.IsNullRef(ref a) ? -1 : a.Pid);
    }

    private static void RunCpuTask(BytecodeProgram program, Regions r, int cpu, ref TaskStruct prev)
    {
        scoped RunContext c = program.NewContext();
        ulong pp = TaskAddress(r.Task0, ref prev);
        c.Bind(r.Task0, TaskBytes(ref prev));
        Span<ulong> args = [(ulong)(long)cpu, pp];
        Execute(program, ref c, args, -1);
    }

    private static ulong RunScalars(BytecodeProgram program, Regions r, int argc, ulong a1, ulong a2, ulong a3)
    {
        scoped RunContext c = program.NewContext();
        Span<ulong> args = [a1, a2, a3];
        return Execute(program, ref c, args[..argc], -1);
    }

    private static void RunSetCpumask(BytecodeProgram program, Regions r, ref TaskStruct p, in Cpumask mask)
    {
        scoped RunContext c = program.NewContext();
        ulong pa = TaskAddress(r.Task0, ref p);
        c.Bind(r.Task0, TaskBytes(ref p));
        var bytes = Scratch(r, Unsafe.SizeOf<Cpumask>());
        MemoryMarshal.Write(bytes, in mask);
        c.Bind(r.Args, bytes);
        Span<ulong> args = [pa, AddressSpace.AddressOf(r.Args)];
        Execute(program, ref c, args, p.Pid);
    }

    private static void RunWithArgs(BytecodeProgram program, Regions r, int cpu, int size)
    {
        scoped RunContext c = program.NewContext();
        var bytes = Scratch(r, size);
        bytes.Clear();
        c.Bind(r.Args, bytes);
        Span<ulong> args = [(ulong)(long)cpu, AddressSpace.AddressOf(r.Args)];
        Execute(program, ref c, args, -1);
    }

    private static void RunCpuRelease(BytecodeProgram program, Regions r, int cpu, in ScxCpuReleaseArgs a)
    {
        scoped RunContext c = program.NewContext();
        var bytes = Scratch(r, SchedExtOpsBtf.Offsets.CpuReleaseArgsSize);
        bytes.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(bytes[SchedExtOpsBtf.Offsets.CpuReleaseArgsReason..], a.Reason);
        // args->task: the task of the higher class, bound as a task region when it is in this kernel's table.
        var k = Scx.Current;
        if (k is not null && a.Task >= 0 && a.Task < k.TasksTable.Count)
        {
            ulong pt = TaskAddress(r.Task0, ref k.TasksTable[a.Task]);
        c.Bind(r.Task0, TaskBytes(ref k.TasksTable[a.Task]));
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.CpuReleaseArgsTask..], pt);
        }
        c.Bind(r.Args, bytes);
        Span<ulong> args = [(ulong)(long)cpu, AddressSpace.AddressOf(r.Args)];
        Execute(program, ref c, args, -1);
    }

    private static int RunInitTask(BytecodeProgram program, Regions r, ref TaskStruct p, bool fork)
    {
        scoped RunContext c = program.NewContext();
        ulong pa = TaskAddress(r.Task0, ref p);
        c.Bind(r.Task0, TaskBytes(ref p));
        var bytes = Scratch(r, SchedExtOpsBtf.Offsets.InitTaskArgsSize);
        bytes.Clear();
        bytes[SchedExtOpsBtf.Offsets.InitTaskArgsFork] = fork ? (byte)1 : (byte)0; // cgroup stays NULL: no cgroups
        c.Bind(r.Args, bytes);
        Span<ulong> args = [pa, AddressSpace.AddressOf(r.Args)];
        return (int)(uint)Execute(program, ref c, args, p.Pid);
    }

    private static void RunExitTask(BytecodeProgram program, Regions r, ref TaskStruct p, bool cancelled)
    {
        scoped RunContext c = program.NewContext();
        ulong pa = TaskAddress(r.Task0, ref p);
        c.Bind(r.Task0, TaskBytes(ref p));
        var bytes = Scratch(r, SchedExtOpsBtf.Offsets.ExitTaskArgsSize);
        bytes[SchedExtOpsBtf.Offsets.ExitTaskArgsCancelled] = cancelled ? (byte)1 : (byte)0;
        c.Bind(r.Args, bytes);
        Span<ulong> args = [pa, AddressSpace.AddressOf(r.Args)];
        Execute(program, ref c, args, p.Pid);
    }

    /// <summary>struct scx_dump_ctx followed by its reason string, one read-only region.</summary>
    private static void RunDump(BytecodeProgram program, Regions r, in ScxDumpCtx ctx, int argc, ulong a2, ulong a3, ref TaskStruct p)
    {
        const int o = SchedExtOpsBtf.Offsets.DumpCtxSize;
        var reason = Encoding.UTF8.GetBytes(ctx.Reason);
        Span<byte> bytes = new byte[o + reason.Length + 1]; // a dump is rare: its own buffer, safe from nested calls
        ulong at = AddressSpace.AddressOf(r.Args);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[SchedExtOpsBtf.Offsets.DumpCtxKind..], (int)ctx.Kind);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.DumpCtxExitCode..], ctx.ExitCode);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.DumpCtxReason..], at + o);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.DumpCtxAtNs..], ctx.AtNs);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.DumpCtxAtJiffies..], ctx.AtJiffies);
        reason.CopyTo(bytes[o..]);
        scoped RunContext c = program.NewContext();
        c.Bind(r.Args, bytes);
        ulong pt = TaskAddress(r.Task0, ref p);
        c.Bind(r.Task0, TaskBytes(ref p));
        Span<ulong> args = [at, argc == 2 ? pt : a2, a3];
        Execute(program, ref c, args[..argc], -1);
    }

    /// <summary>
    /// struct scx_exit_info followed by reason, msg and dump (NUL-terminated), one read-only region: what
    /// user_exit_info.h's UEI_RECORD copies into the object's <c>uei</c> with bpf_probe_read_kernel_str.
    /// </summary>
    private static void RunExit(BytecodeProgram program, Regions r, ScxExitInfo info)
    {
        const int o = SchedExtOpsBtf.Offsets.ExitInfoSize;
        var reason = Encoding.UTF8.GetBytes(info.Reason);
        var msg = Encoding.UTF8.GetBytes(info.Message);
        var dump = Encoding.UTF8.GetBytes(info.Dump);
        int msgAt = o + reason.Length + 1, dumpAt = msgAt + msg.Length + 1;
        Span<byte> bytes = new byte[dumpAt + dump.Length + 1]; // an exit is rare: its own buffer, safe from nested calls
        ulong at = AddressSpace.AddressOf(r.Args);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[SchedExtOpsBtf.Offsets.ExitInfoKind..], (int)info.Kind);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.ExitInfoExitCode..], info.ExitCode);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.ExitInfoReason..], at + o);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.ExitInfoMsg..], at + (ulong)msgAt);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SchedExtOpsBtf.Offsets.ExitInfoDump..], at + (ulong)dumpAt);
        reason.CopyTo(bytes[o..]);
        msg.CopyTo(bytes[msgAt..]);
        dump.CopyTo(bytes[dumpAt..]);
        scoped RunContext c = program.NewContext();
        c.Bind(r.Args, bytes);
        Span<ulong> args = [at];
        Execute(program, ref c, args, -1);
    }

    /// <summary>The object's scratch buffer, grown once to <paramref name="size"/> (exit and dump are rare; the rest fit).</summary>
    private static Span<byte> Scratch(Regions r, int size)
    {
        if (r.Scratch.Length < size)
        {
            r.Scratch = new byte[Math.Max(size, r.Scratch.Length * 2)];
        }
        return r.Scratch.AsSpan(0, size);
    }

    /// <summary>sched_ext_ops's kernel layout (for tests comparing it with the live type).</summary>
    internal static StructOpsType KernelLayout => s_layout;
}
