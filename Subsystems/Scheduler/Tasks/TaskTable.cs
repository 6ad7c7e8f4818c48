using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Tasks;

/// <summary>
/// Every task of a simulated kernel, indexed by <see cref="TaskStruct.Id"/>: one array of blittable structs, grown
/// (doubling) only when a task is forked, so scheduling events allocate nothing. A reference returned by
/// <see cref="this[int]"/> stays valid until the next <see cref="Add"/>.
/// </summary>
public sealed class TaskTable
{
    private TaskStruct[] _tasks;

    public TaskTable(int capacity = 64)
    {
        _tasks = new TaskStruct[Math.Max(capacity, 1)];
    }

    /// <summary>Tasks created so far (exited ones included: ids are never reused).</summary>
    public int Count { get; private set; }

    public ref TaskStruct this[int id]
    {
        // Every class reads tasks through here on every event: the throw is out of line so that this inlines.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)id >= (uint)Count)
            {
                ThrowNoTask(id);
            }
            return ref _tasks[id];
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNoTask(int id) => throw new ArgumentOutOfRangeException(nameof(id), id, $"no task {id} (there are {Count})");

    /// <summary>A new task in state TASK_NEW with pid <paramref name="pid"/>, allowed on <paramref name="cpus"/>.</summary>
    public ref TaskStruct Add(int pid, string comm, int nice, in Cpumask cpus)
    {
        if (Count == _tasks.Length)
        {
            Array.Resize(ref _tasks, _tasks.Length * 2);
        }
        ref var p = ref _tasks[Count];
        p = default;
        p.Id = Count;
        p.Pid = pid;
        p.SetComm(comm);
        p.State = (uint)TaskState.New;
        p.StaticPrio = p.NormalPrio = p.Prio = 120 + nice;
        p.CpusMask = cpus;
        p.NrCpusAllowed = cpus.Weight;
        p.Cpu = p.WakeCpu = cpus.First;
        Count++;
        return ref p;
    }

    /// <summary>The tasks as a span (for metrics after a run; do not hold across <see cref="Add"/>).</summary>
    public Span<TaskStruct> AsSpan() => _tasks.AsSpan(0, Count);
}
