using System.Buffers.Binary;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// The base class of a C# sched_ext scheduler. Override the members you implement; each override becomes a
/// struct_ops program and a member you do not override stays an empty slot (its body here is never called: the ext
/// class then does what the kernel does without the op). Mark the class
/// <c>[StructOps("sched_ext_ops", Name = "...", Link = true)]</c>; call the kernel through <see cref="Scx"/>.
/// The data members come from the properties below (0 = the kernel's default).
/// </summary>
public abstract class SchedExtOpsProgram : IStructOpsData
{
    /// <summary>timeout_ms: the watchdog timeout (0 = 30 s, the maximum).</summary>
    public virtual uint TimeoutMs => 0;

    /// <summary>dispatch_max_batch (0 = SCX_DSP_DFL_MAX_BATCH, 32).</summary>
    public virtual uint DispatchMaxBatch => 0;

    /// <summary>exit_dump_len (0 = 32768).</summary>
    public virtual uint ExitDumpLen => 0;

    /// <summary>flags (SCX_OPS_*), ORed with the attribute's.</summary>
    public virtual ScxOpsFlags OpsFlags => ScxOpsFlags.None;

    /// <summary>The exit info ops.exit received (UEI), or null while running.</summary>
    public ScxExitInfo? ExitInfo { get; protected set; }

    void IStructOpsData.WriteData(StructOpsType type, Span<byte> data)
    {
        Write32(type, data, "timeout_ms", TimeoutMs);
        Write32(type, data, "dispatch_max_batch", DispatchMaxBatch);
        Write32(type, data, "exit_dump_len", ExitDumpLen);
        if (type.FindMember("flags") is { Kind: StructOpsMemberKind.U64 } flags)
        {
            var span = data.Slice(flags.Offset, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(span, BinaryPrimitives.ReadUInt64LittleEndian(span) | (ulong)OpsFlags);
        }
    }

    private static void Write32(StructOpsType type, Span<byte> data, string member, uint value)
    {
        if (type.FindMember(member) is { Kind: StructOpsMemberKind.U32 } m)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.Slice(m.Offset, 4), value);
        }
    }

    [StructOpsMember("select_cpu")]
    public virtual int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags) => prevCpu;

    [StructOpsMember("enqueue")]
    public virtual void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
    }

    [StructOpsMember("dequeue")]
    public virtual void Dequeue(ref TaskStruct p, ulong deqFlags)
    {
    }

    /// <summary>ops.dispatch; <paramref name="prev"/> may be a null reference (Unsafe.IsNullRef).</summary>
    [StructOpsMember("dispatch")]
    public virtual void Dispatch(int cpu, ref TaskStruct prev)
    {
    }

    [StructOpsMember("tick")]
    public virtual void Tick(ref TaskStruct p)
    {
    }

    [StructOpsMember("runnable")]
    public virtual void Runnable(ref TaskStruct p, ulong enqFlags)
    {
    }

    [StructOpsMember("running")]
    public virtual void Running(ref TaskStruct p)
    {
    }

    [StructOpsMember("stopping")]
    public virtual void Stopping(ref TaskStruct p, bool runnable)
    {
    }

    [StructOpsMember("quiescent")]
    public virtual void Quiescent(ref TaskStruct p, ulong deqFlags)
    {
    }

    [StructOpsMember("yield")]
    public virtual bool Yield(ref TaskStruct from, ref TaskStruct to) => false;

    [StructOpsMember("core_sched_before")]
    public virtual bool CoreSchedBefore(ref TaskStruct a, ref TaskStruct b) => false;

    [StructOpsMember("set_weight")]
    public virtual void SetWeight(ref TaskStruct p, uint weight)
    {
    }

    [StructOpsMember("set_cpumask")]
    public virtual void SetCpumask(ref TaskStruct p, in Cpumask cpumask)
    {
    }

    [StructOpsMember("update_idle")]
    public virtual void UpdateIdle(int cpu, bool idle)
    {
    }

    [StructOpsMember("cpu_acquire")]
    public virtual void CpuAcquire(int cpu, in ScxCpuAcquireArgs args)
    {
    }

    [StructOpsMember("cpu_release")]
    public virtual void CpuRelease(int cpu, in ScxCpuReleaseArgs args)
    {
    }

    [StructOpsMember("init_task")]
    public virtual int InitTask(ref TaskStruct p, in ScxInitTaskArgs args) => 0;

    [StructOpsMember("exit_task")]
    public virtual void ExitTask(ref TaskStruct p, in ScxExitTaskArgs args)
    {
    }

    [StructOpsMember("enable")]
    public virtual void Enable(ref TaskStruct p)
    {
    }

    [StructOpsMember("disable")]
    public virtual void Disable(ref TaskStruct p)
    {
    }

    [StructOpsMember("dump")]
    public virtual void Dump(in ScxDumpCtx ctx)
    {
    }

    [StructOpsMember("dump_cpu")]
    public virtual void DumpCpu(in ScxDumpCtx ctx, int cpu, bool idle)
    {
    }

    [StructOpsMember("dump_task")]
    public virtual void DumpTask(in ScxDumpCtx ctx, ref TaskStruct p)
    {
    }

    [StructOpsMember("cpu_online")]
    public virtual void CpuOnline(int cpu)
    {
    }

    [StructOpsMember("cpu_offline")]
    public virtual void CpuOffline(int cpu)
    {
    }

    [StructOpsMember("init")]
    public virtual int Init() => 0;

    /// <summary>
    /// ops.exit. Only an override is registered (as for every member): override it and call the base (UEI_RECORD)
    /// to keep the info in <see cref="ExitInfo"/>.
    /// </summary>
    [StructOpsMember("exit")]
    public virtual void Exit(ScxExitInfo info) => ExitInfo = info;
}
