using System.Runtime.InteropServices;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Ext.Bytecode;

// The sched_ext kfunc sets (scx_kfunc_ids_* in kernel/sched/ext.c, 6.12) plus the renames of 6.13
// (scx_bpf_dsq_insert[_vtime], scx_bpf_dsq_move_to_local), and the cheap read-only cpumask kfuncs of
// kernel/bpf/cpumask.c. Each calls the running kernel's ScxKfuncs, which checks the calling context (scx_kf_allowed)
// and turns misuse into an error exit; a bad pointer faults the program.
public sealed partial class SchedExtOpsBytecode
{
    private const ulong CpuperfOne = 1024; // SCX_CPUPERF_ONE = SCHED_CAPACITY_SCALE

    private static ScxKfuncs K(ref RunContext c, string kfunc) =>
        Scx.Current ?? throw new BpfFault(FaultKind.Helper, c.ProgramCounter, $"{kfunc} called outside a sched_ext operation");

    private static ulong S32(int v) => (ulong)(long)v;

    private static ulong Bool(bool v) => v ? 1UL : 0;

    /// <summary>A const struct cpumask * argument: 32 bytes of any readable region.</summary>
    private static Cpumask Mask(ref RunContext c, ulong address) =>
        MemoryMarshal.Read<Cpumask>(c.GetBytes(address, System.Runtime.CompilerServices.Unsafe.SizeOf<Cpumask>(), MemoryAccess.Read));

    private Dictionary<string, BpfFunction> Kfuncs()
    {
        BpfFunction insert = (ref RunContext c, ulong p, ulong dsq, ulong slice, ulong flags, ulong _) =>
        {
            K(ref c, "scx_bpf_dsq_insert").DsqInsert(TaskId(ref c, p, "scx_bpf_dsq_insert"), dsq, slice, flags);
            return 0;
        };
        BpfFunction insertVtime = (ref RunContext c, ulong p, ulong dsq, ulong slice, ulong vtime, ulong flags) =>
        {
            K(ref c, "scx_bpf_dsq_insert_vtime").DsqInsertVtime(TaskId(ref c, p, "scx_bpf_dsq_insert_vtime"), dsq, slice, vtime, flags);
            return 0;
        };
        BpfFunction moveToLocal = (ref RunContext c, ulong dsq, ulong _, ulong _, ulong _, ulong _) =>
            Bool(K(ref c, "scx_bpf_dsq_move_to_local").DsqMoveToLocal(dsq));
        BpfFunction putMask = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) => 0;
        var k = new Dictionary<string, BpfFunction>(StringComparer.Ordinal)
        {
            ["scx_bpf_dispatch"] = insert,
            ["scx_bpf_dsq_insert"] = insert,
            ["scx_bpf_dispatch_vtime"] = insertVtime,
            ["scx_bpf_dsq_insert_vtime"] = insertVtime,
            ["scx_bpf_consume"] = moveToLocal,
            ["scx_bpf_dsq_move_to_local"] = moveToLocal,
            ["scx_bpf_dispatch_nr_slots"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                K(ref c, "scx_bpf_dispatch_nr_slots").DispatchNrSlots(),
            ["scx_bpf_dispatch_cancel"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
            {
                K(ref c, "scx_bpf_dispatch_cancel").DispatchCancel();
                return 0;
            },
            ["scx_bpf_reenqueue_local"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                K(ref c, "scx_bpf_reenqueue_local").ReenqueueLocal(),
            ["scx_bpf_create_dsq"] = (ref RunContext c, ulong dsq, ulong node, ulong _, ulong _, ulong _) =>
                S32(K(ref c, "scx_bpf_create_dsq").CreateDsq(dsq, (int)node)),
            ["scx_bpf_destroy_dsq"] = (ref RunContext c, ulong dsq, ulong _, ulong _, ulong _, ulong _) =>
            {
                K(ref c, "scx_bpf_destroy_dsq").DestroyDsq(dsq);
                return 0;
            },
            ["scx_bpf_kick_cpu"] = (ref RunContext c, ulong cpu, ulong flags, ulong _, ulong _, ulong _) =>
            {
                K(ref c, "scx_bpf_kick_cpu").KickCpu((int)cpu, flags);
                return 0;
            },
            ["scx_bpf_select_cpu_dfl"] = SelectCpuDfl,
            ["scx_bpf_pick_idle_cpu"] = (ref RunContext c, ulong mask, ulong flags, ulong _, ulong _, ulong _) =>
                S32(K(ref c, "scx_bpf_pick_idle_cpu").PickIdleCpu(Mask(ref c, mask), flags)),
            ["scx_bpf_pick_any_cpu"] = (ref RunContext c, ulong mask, ulong flags, ulong _, ulong _, ulong _) =>
                S32(K(ref c, "scx_bpf_pick_any_cpu").PickAnyCpu(Mask(ref c, mask), flags)),
            ["scx_bpf_test_and_clear_cpu_idle"] = (ref RunContext c, ulong cpu, ulong _, ulong _, ulong _, ulong _) =>
                Bool(K(ref c, "scx_bpf_test_and_clear_cpu_idle").TestAndClearCpuIdle((int)cpu)),
            ["scx_bpf_dsq_nr_queued"] = (ref RunContext c, ulong dsq, ulong _, ulong _, ulong _, ulong _) =>
                S32(K(ref c, "scx_bpf_dsq_nr_queued").DsqNrQueued(dsq)),
            ["scx_bpf_task_cpu"] = (ref RunContext c, ulong p, ulong _, ulong _, ulong _, ulong _) =>
                S32(K(ref c, "scx_bpf_task_cpu").TaskCpu(TaskId(ref c, p, "scx_bpf_task_cpu"))),
            ["scx_bpf_task_running"] = (ref RunContext c, ulong p, ulong _, ulong _, ulong _, ulong _) =>
                Bool(K(ref c, "scx_bpf_task_running").TasksTable[TaskId(ref c, p, "scx_bpf_task_running")].OnCpu != 0),
            ["scx_bpf_nr_cpu_ids"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                (ulong)K(ref c, "scx_bpf_nr_cpu_ids").NrCpuIds,
            ["scx_bpf_get_idle_cpumask"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                MaskPointer(ref c, K(ref c, "scx_bpf_get_idle_cpumask").GetIdleCpumask(), 0),
            ["scx_bpf_get_idle_smtmask"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                MaskPointer(ref c, K(ref c, "scx_bpf_get_idle_smtmask").GetIdleSmtmask(), 1),
            ["scx_bpf_get_possible_cpumask"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                MaskPointer(ref c, Cpumask.FirstN(K(ref c, "scx_bpf_get_possible_cpumask").NrCpuIds), 2),
            ["scx_bpf_get_online_cpumask"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) =>
                MaskPointer(ref c, K(ref c, "scx_bpf_get_online_cpumask").GetOnlineCpumask(), 3),
            ["scx_bpf_put_idle_cpumask"] = putMask,
            ["scx_bpf_put_cpumask"] = putMask,
            // No frequency scaling in bpfsim: every CPU runs at full capacity, and a requested level changes nothing.
            ["scx_bpf_cpuperf_cap"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) => CpuperfOne,
            ["scx_bpf_cpuperf_cur"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) => CpuperfOne,
            ["scx_bpf_cpuperf_set"] = (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) => 0,
            // __bstr_format (kernel/sched/ext.c): a malformed format or data size is scx_ops_error (SCX_EXIT_ERROR)
            // with the kernel's message, and the caller's own exit is skipped.
            ["scx_bpf_error_bstr"] = (ref RunContext c, ulong fmt, ulong data, ulong len, ulong _, ulong _) =>
            {
                var kf = K(ref c, "scx_bpf_error_bstr");
                if (ScxBstr.Format(ref c, fmt, data, (uint)len, out var text, out var error, out _) < 0)
                {
                    kf.OpsError(error);
                }
                else
                {
                    kf.Error(text);
                }
                return 0;
            },
            ["scx_bpf_exit_bstr"] = (ref RunContext c, ulong code, ulong fmt, ulong data, ulong len, ulong _) =>
            {
                var kf = K(ref c, "scx_bpf_exit_bstr");
                if (ScxBstr.Format(ref c, fmt, data, (uint)len, out var text, out var error, out string _) < 0)
                {
                    kf.OpsError(error);
                }
                else
                {
                    kf.Exit((long)code, text);
                }
                return 0;
            },
            ["scx_bpf_dump_bstr"] = (ref RunContext c, ulong fmt, ulong data, ulong len, ulong _, ulong _) =>
            {
                var kf = K(ref c, "scx_bpf_dump_bstr");
                int ret = ScxBstr.Format(ref c, fmt, data, (uint)len, out var text, out var error, out var format);
                if (ret < 0)
                {
                    // scx_bpf_dump_bstr: the error, then a line in the dump saying what failed.
                    kf.OpsError(error);
                    text = $"[!] (\"{format}\", {ScxBstr.Pointer(data)}, {(uint)len}) failed to format ({ret})\n";
                }
                kf.Dump(text);
                return 0;
            },
            ["bpf_rcu_read_lock"] = putMask,
            ["bpf_rcu_read_unlock"] = putMask,
            ["bpf_cpumask_test_cpu"] = (ref RunContext c, ulong cpu, ulong mask, ulong _, ulong _, ulong _) => Bool(Mask(ref c, mask).Test((int)cpu)),
            ["bpf_cpumask_first"] = (ref RunContext c, ulong mask, ulong _, ulong _, ulong _, ulong _) => First(Mask(ref c, mask)),
            ["bpf_cpumask_weight"] = (ref RunContext c, ulong mask, ulong _, ulong _, ulong _, ulong _) => (ulong)Mask(ref c, mask).Weight,
            ["bpf_cpumask_empty"] = (ref RunContext c, ulong mask, ulong _, ulong _, ulong _, ulong _) => Bool(Mask(ref c, mask).IsEmpty),
            ["bpf_cpumask_full"] = (ref RunContext c, ulong mask, ulong _, ulong _, ulong _, ulong _) =>
                Bool(Mask(ref c, mask).Weight == Cpumask.MaxCpus),
            ["bpf_cpumask_intersects"] = (ref RunContext c, ulong a, ulong b, ulong _, ulong _, ulong _) =>
                Bool(!Mask(ref c, a).And(Mask(ref c, b)).IsEmpty),
            ["bpf_cpumask_subset"] = (ref RunContext c, ulong a, ulong b, ulong _, ulong _, ulong _) =>
                Bool(Mask(ref c, a).IsSubsetOf(Mask(ref c, b))),
            ["bpf_cpumask_equal"] = (ref RunContext c, ulong a, ulong b, ulong _, ulong _, ulong _) => Bool(Mask(ref c, a) == Mask(ref c, b)),
        };
        return k;
    }

    /// <summary>cpumask_first: the lowest set bit, or nr_cpu_ids (here NR_CPUS) when empty.</summary>
    private static ulong First(in Cpumask m)
    {
        int f = m.First;
        return (ulong)(f < 0 ? Cpumask.MaxCpus : f);
    }

    /// <summary>
    /// scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, bool *is_idle): the pick, and whether it was idle written
    /// through the out-pointer (a stack slot).
    /// </summary>
    private static ulong SelectCpuDfl(ref RunContext c, ulong p, ulong prev, ulong wake, ulong isIdle, ulong _)
    {
        int cpu = K(ref c, "scx_bpf_select_cpu_dfl").SelectCpuDfl(TaskId(ref c, p, "scx_bpf_select_cpu_dfl"), (int)prev, wake, out bool idle);
        c.Store(isIdle, 1, idle ? 1UL : 0);
        return S32(cpu);
    }

    // The masks the get kfuncs hand out: per object and kind, a read-only copy mapped for the rest of the run (the
    // kernel's are live RCU-protected masks; a program reads them between get and put).
    [ThreadStatic]
    private static byte[][]? t_masks;

    private static ulong MaskPointer(ref RunContext c, in Cpumask mask, int kind)
    {
        t_masks ??= [new byte[32], new byte[32], new byte[32], new byte[32]];
        var bytes = t_masks[kind];
        MemoryMarshal.Write(bytes, in mask);
        return AddressSpace.AddressOf(c.Memory.MapTransient(bytes, 0, bytes.Length, RegionKind.KernelObject, MemoryAccess.Read, "cpumask"));
    }

    /// <inheritdoc/>
    public override bool KfuncSleepable(string name) => name == "scx_bpf_create_dsq"; // scx_kfunc_ids_unlocked: KF_SLEEPABLE

    public override BpfFunction? Kfunc(string name, StructOpsMember member, out bool exists, out string refusal)
    {
        exists = _kfuncs.TryGetValue(name, out var fn);
        refusal = exists ? "" : $"calling kernel function {name} is not allowed";
        return fn;
    }
}
