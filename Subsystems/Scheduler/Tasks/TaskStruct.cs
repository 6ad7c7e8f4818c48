using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Tasks;

/// <summary>
/// The part of the kernel's <c>struct task_struct</c> (include/linux/sched.h, 6.12) a scheduler reads and writes:
/// blittable, with the kernel's field names in the kernel BTF, kept in the <see cref="TaskTable"/> indexed by
/// <see cref="Id"/> so that bytecode can address a task as a region and nothing is allocated per scheduling event.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct TaskStruct
{
    /// <summary>TASK_COMM_LEN.</summary>
    public const int CommLength = 16;

    [InlineArray(CommLength)]
    public struct CommBytes
    {
        private byte _byte;
    }

    /// <summary>bpfsim's index of the task in its <see cref="TaskTable"/> (not a kernel field).</summary>
    public int Id;

    /// <summary>pid (a thread id; bpfsim's tasks are single-threaded processes, tgid = pid).</summary>
    public int Pid;

    /// <summary>comm: the task's name, NUL-padded, at most 15 characters.</summary>
    public CommBytes Comm;

    /// <summary>__state: <see cref="TaskState"/>.</summary>
    public uint State;

    /// <summary>flags: PF_* (<see cref="TaskFlags"/>).</summary>
    public uint Flags;

    /// <summary>prio, static_prio, normal_prio: 120 + nice for SCHED_NORMAL/SCHED_EXT (MAX_RT_PRIO 100 + 20 + nice).</summary>
    public int Prio;

    public int StaticPrio;

    public int NormalPrio;

    /// <summary>policy: SCHED_NORMAL 0, SCHED_BATCH 3, SCHED_IDLE 5, SCHED_EXT 7 (<see cref="SchedPolicy"/>).</summary>
    public uint Policy;

    /// <summary>nr_cpus_allowed: the weight of <see cref="CpusMask"/>.</summary>
    public int NrCpusAllowed;

    /// <summary>The CPU the task is on or last ran on (task_thread_info(p)->cpu, task_cpu()).</summary>
    public int Cpu;

    /// <summary>wake_cpu: the CPU a wakeup was last targeted at.</summary>
    public int WakeCpu;

    /// <summary>on_rq: 0, <see cref="OnRqQueued"/> or <see cref="OnRqMigrating"/>.</summary>
    public int OnRq;

    /// <summary>TASK_ON_RQ_QUEUED (kernel/sched/sched.h): the task is on its runqueue.</summary>
    public const int OnRqQueued = 1;

    /// <summary>TASK_ON_RQ_MIGRATING: between deactivate_task and activate_task of a migration.</summary>
    public const int OnRqMigrating = 2;

    /// <summary>on_cpu: 1 while the task is the current task of its CPU.</summary>
    public int OnCpu;

    /// <summary>cpus_mask (cpus_ptr points at it: bpfsim has no migrate_disable).</summary>
    public Cpumask CpusMask;

    /// <summary>se: the fair class's entity (EEVDF).</summary>
    public SchedEntity Se;

    /// <summary>scx: the sched_ext entity.</summary>
    public SchedExtEntity Scx;

    /// <summary>
    /// cpus_ptr as a BPF program reads it: the address of <see cref="CpusMask"/> in the program's address space,
    /// which the bytecode trampoline writes before each call (C# code uses <see cref="CpusMask"/>; 0 otherwise).
    /// </summary>
    public ulong CpusPtr;

    /// <summary>migration_disabled: always 0 (bpfsim has no migrate_disable); present so common.bpf.h's check reads it.</summary>
    public ushort MigrationDisabled;

    /// <summary>tgid as a BPF program reads it: bpfsim's tasks are single-threaded processes, so the trampoline sets it to <see cref="Pid"/>.</summary>
    public int Tgid;

    /// <summary>The nice value, −20 … 19 (PRIO_TO_NICE(static_prio)).</summary>
    public readonly int Nice => StaticPrio - 120;

    /// <summary>comm as a string.</summary>
    public readonly string CommString
    {
        get
        {
            ReadOnlySpan<byte> bytes = Comm;
            int nul = bytes.IndexOf((byte)0);
            return Encoding.ASCII.GetString(nul < 0 ? bytes : bytes[..nul]);
        }
    }

    /// <summary>Sets comm as __set_task_comm does: truncated to 15 characters, NUL-padded.</summary>
    public void SetComm(string name)
    {
        Span<byte> bytes = Comm;
        bytes.Clear();
        int n = Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, CommLength - 1)), bytes);
        bytes[n..].Clear();
    }
}

/// <summary>Task states bpfsim models (include/linux/sched.h __state values).</summary>
public enum TaskState : uint
{
    /// <summary>TASK_RUNNING: runnable or running.</summary>
    Running = 0,

    /// <summary>TASK_INTERRUPTIBLE: sleeping.</summary>
    Interruptible = 1,

    /// <summary>TASK_DEAD: exited.</summary>
    Dead = 0x80,

    /// <summary>TASK_NEW: forked, not yet woken for the first time.</summary>
    New = 0x800,
}

/// <summary>PF_* task flags bpfsim sets.</summary>
[Flags]
public enum TaskFlags : uint
{
    None = 0,

    /// <summary>PF_IDLE: the idle task.</summary>
    Idle = 0x2,

    /// <summary>PF_EXITING: getting shut down.</summary>
    Exiting = 0x4,

    /// <summary>PF_KTHREAD: a kernel thread.</summary>
    Kthread = 0x00200000,
}

/// <summary>Scheduling policies (include/uapi/linux/sched.h).</summary>
public enum SchedPolicy : uint
{
    Normal = 0,
    Batch = 3,
    Idle = 5,
    Ext = 7,
}
