using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// idle_sched_class (kernel/sched/idle.c): the lowest class, whose only task is each CPU's idle task. bpfsim has no
/// idle task in the <see cref="TaskTable"/> (rq->curr is −1 while idle); the core does what put_prev_task_idle and
/// set_next_task_idle do (scx_update_idle), so this class holds no tasks and picks nothing.
/// </summary>
public sealed class IdleSchedClass : SchedClass
{
    public override string Name => "idle";

    public override void EnqueueTask(int cpu, ref TaskStruct p, EnqueueFlags flags) =>
        throw new InvalidOperationException($"task {p.Id} cannot be enqueued in the idle class");

    public override bool DequeueTask(int cpu, ref TaskStruct p, DequeueFlags flags) => true;

    public override int PickTask(int cpu) => -1;

    public override void PutPrevTask(int cpu, ref TaskStruct p, int next)
    {
    }

    public override void SetNextTask(int cpu, ref TaskStruct p, bool first)
    {
    }

    public override bool HasRunnable(int cpu) => false;
}
