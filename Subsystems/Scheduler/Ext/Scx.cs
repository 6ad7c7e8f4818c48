using System.Runtime.CompilerServices;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// The sched_ext kfuncs for C# schedulers, under their 6.12 names and their 6.13+ names (scx_bpf_dispatch →
/// <see cref="DsqInsert"/>, …): a thin facade over the <see cref="ScxKfuncs"/> of the kernel whose operation is
/// running. A kfunc called outside any operation of a loaded scheduler throws <see cref="InvalidOperationException"/>
/// (the consumer's guard turns that into an error exit).
/// </summary>
/// <remarks>
/// Why thread-static: a BPF program finds its kernel implicitly (the CPU it runs on), and a C# consumer's methods
/// cannot be given one without changing every member's signature. The ext class sets <see cref="Current"/> around
/// each call into the scheduler and restores it after, so nested calls work; it is per thread because one process
/// runs several simulated kernels (parallel tests, contained runs on their own threads), each single-threaded.
/// </remarks>
public static class Scx
{
    [ThreadStatic]
    private static ScxKfuncs? t_current;

    /// <summary>The kfuncs of the kernel whose scheduler operation is running on this thread, or null.</summary>
    public static ScxKfuncs? Current
    {
        get => t_current;
        internal set => t_current = value;
    }

    private static ScxKfuncs K => t_current ?? throw new InvalidOperationException("a sched_ext kfunc was called outside a scheduler operation");

    /// <summary>SCX_DSQ_GLOBAL.</summary>
    public const ulong DsqGlobal = ScxConsts.DsqGlobal;

    /// <summary>SCX_DSQ_LOCAL.</summary>
    public const ulong DsqLocal = ScxConsts.DsqLocal;

    /// <summary>SCX_DSQ_LOCAL_ON (OR a CPU in).</summary>
    public const ulong DsqLocalOn = ScxConsts.DsqLocalOn;

    /// <summary>SCX_SLICE_DFL.</summary>
    public const ulong SliceDfl = ScxConsts.SliceDfl;

    /// <summary>SCX_SLICE_INF.</summary>
    public const ulong SliceInf = ScxConsts.SliceInf;

    /// <summary>scx_bpf_dsq_insert (6.12: scx_bpf_dispatch).</summary>
    public static void DsqInsert(ref TaskStruct p, ulong dsqId, ulong slice, ulong enqFlags) =>
        K.DsqInsert(Unsafe.IsNullRef(ref p) ? -1 : p.Id, dsqId, slice, enqFlags);

    /// <summary>scx_bpf_dispatch (6.13+: scx_bpf_dsq_insert).</summary>
    public static void Dispatch(ref TaskStruct p, ulong dsqId, ulong slice, ulong enqFlags) => DsqInsert(ref p, dsqId, slice, enqFlags);

    /// <summary>scx_bpf_dsq_insert_vtime (6.12: scx_bpf_dispatch_vtime).</summary>
    public static void DsqInsertVtime(ref TaskStruct p, ulong dsqId, ulong slice, ulong vtime, ulong enqFlags) =>
        K.DsqInsertVtime(Unsafe.IsNullRef(ref p) ? -1 : p.Id, dsqId, slice, vtime, enqFlags);

    /// <summary>scx_bpf_dispatch_vtime (6.13+: scx_bpf_dsq_insert_vtime).</summary>
    public static void DispatchVtime(ref TaskStruct p, ulong dsqId, ulong slice, ulong vtime, ulong enqFlags) =>
        DsqInsertVtime(ref p, dsqId, slice, vtime, enqFlags);

    /// <summary>scx_bpf_dsq_move_to_local (6.12: scx_bpf_consume).</summary>
    public static bool DsqMoveToLocal(ulong dsqId) => K.DsqMoveToLocal(dsqId);

    /// <summary>scx_bpf_consume (6.13+: scx_bpf_dsq_move_to_local).</summary>
    public static bool Consume(ulong dsqId) => K.DsqMoveToLocal(dsqId);

    /// <summary>scx_bpf_create_dsq.</summary>
    public static int CreateDsq(ulong dsqId, int node) => K.CreateDsq(dsqId, node);

    /// <summary>scx_bpf_destroy_dsq.</summary>
    public static void DestroyDsq(ulong dsqId) => K.DestroyDsq(dsqId);

    /// <summary>scx_bpf_kick_cpu (<see cref="ScxKickFlags"/>).</summary>
    public static void KickCpu(int cpu, ulong flags) => K.KickCpu(cpu, flags);

    /// <summary>scx_bpf_select_cpu_dfl.</summary>
    public static int SelectCpuDfl(ref TaskStruct p, int prevCpu, ulong wakeFlags, out bool isIdle) =>
        K.SelectCpuDfl(p.Id, prevCpu, wakeFlags, out isIdle);

    /// <summary>scx_bpf_pick_idle_cpu.</summary>
    public static int PickIdleCpu(in Cpumask allowed, ulong flags) => K.PickIdleCpu(allowed, flags);

    /// <summary>scx_bpf_pick_any_cpu.</summary>
    public static int PickAnyCpu(in Cpumask allowed, ulong flags) => K.PickAnyCpu(allowed, flags);

    /// <summary>scx_bpf_test_and_clear_cpu_idle.</summary>
    public static bool TestAndClearCpuIdle(int cpu) => K.TestAndClearCpuIdle(cpu);

    /// <summary>scx_bpf_get_idle_cpumask (a copy).</summary>
    public static Cpumask GetIdleCpumask() => K.GetIdleCpumask();

    /// <summary>scx_bpf_get_idle_smtmask (a copy).</summary>
    public static Cpumask GetIdleSmtmask() => K.GetIdleSmtmask();

    /// <summary>scx_bpf_get_online_cpumask.</summary>
    public static Cpumask GetOnlineCpumask() => K.GetOnlineCpumask();

    /// <summary>scx_bpf_get_possible_cpumask.</summary>
    public static Cpumask GetPossibleCpumask() => K.GetPossibleCpumask();

    /// <summary>bpf_printk: a line in the run's trace.</summary>
    public static void TracePrintk(string text) => K.TracePrintk(text);

    /// <summary>scx_bpf_put_idle_cpumask.</summary>
    public static void PutIdleCpumask(in Cpumask mask) => ScxKfuncs.PutIdleCpumask(mask);

    /// <summary>scx_bpf_dsq_nr_queued.</summary>
    public static int DsqNrQueued(ulong dsqId) => K.DsqNrQueued(dsqId);

    /// <summary>scx_bpf_task_cpu.</summary>
    public static int TaskCpu(in TaskStruct p) => p.Cpu;

    /// <summary>scx_bpf_dispatch_nr_slots.</summary>
    public static uint DispatchNrSlots() => K.DispatchNrSlots();

    /// <summary>scx_bpf_dispatch_cancel.</summary>
    public static void DispatchCancel() => K.DispatchCancel();

    /// <summary>scx_bpf_reenqueue_local.</summary>
    public static uint ReenqueueLocal() => K.ReenqueueLocal();

    /// <summary>scx_bpf_nr_cpu_ids.</summary>
    public static int NrCpuIds => K.NrCpuIds;

    /// <summary>bpf_ktime_get_ns.</summary>
    public static ulong NowNs => K.NowNs;

    /// <summary>bpf_get_smp_processor_id: the CPU the operation runs for.</summary>
    public static int SmpProcessorId => Math.Max(K.ThisCpu, 0);

    /// <summary>bpf_task_from_pid: the task, or a null reference (test with <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>).</summary>
    public static ref TaskStruct TaskFromPid(int pid)
    {
        var k = K;
        int id = k.TaskFromPid(pid);
        return ref id < 0 ? ref Unsafe.NullRef<TaskStruct>() : ref Kernel(k)[id];
    }

    private static TaskTable Kernel(ScxKfuncs k) => k.TasksTable;

    /// <summary>scx_bpf_error: the scheduler exits with SCX_EXIT_ERROR_BPF.</summary>
    public static void Error(string message) => K.Error(message);

    /// <summary>scx_bpf_exit: the scheduler exits with SCX_EXIT_UNREG_BPF and the code.</summary>
    public static void Exit(long exitCode, string message) => K.Exit(exitCode, message);

    /// <summary>scx_bpf_dump: a line in the exit dump (ops.dump, dump_cpu, dump_task only).</summary>
    public static void Dump(string text) => K.Dump(text);

    /// <summary>scx_bpf_task_running.</summary>
    public static bool TaskRunning(in TaskStruct p) => K.TaskRunning(p.Id);

    /// <summary>bpf_timer_init + bpf_timer_set_callback (call from ops.init; the timer dies with the scheduler).</summary>
    public static ScxTimer CreateTimer(Action callback) => K.CreateTimer(callback);

    /// <summary>
    /// The BpfSystem the scheduler was loaded into: a C# scheduler creates its maps there in ops.init (they are used
    /// from its operations, which run as program invocations on the operation's CPU).
    /// </summary>
    public static Core.Bpf.BpfSystem Bpf => K.Bpf ?? throw new InvalidOperationException("the scheduler was not loaded through struct_ops");
}
