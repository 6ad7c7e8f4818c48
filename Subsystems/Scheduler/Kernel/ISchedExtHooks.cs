using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// The calls core.c, idle.c and sched.h make into sched_ext outside its sched_class (kernel/sched/ext.h, 6.12). The
/// ext class implements this and registers it with the core; with no scheduler loaded <see cref="Enabled"/> is false
/// and the core behaves as a kernel without one.
/// </summary>
public interface ISchedExtHooks
{
    /// <summary>The ext sched_class (ext_sched_class), ordered after fair and before idle.</summary>
    SchedClass Class { get; }

    /// <summary>scx_enabled(): a BPF scheduler is loaded (enabling, enabled or disabling).</summary>
    bool Enabled { get; }

    /// <summary>scx_switched_all(): every SCHED_NORMAL task is in ext, so the fair class is skipped when picking.</summary>
    bool SwitchedAll { get; }

    /// <summary>task_should_scx(policy): the class a task of this policy gets now (__setscheduler_class).</summary>
    bool TaskShouldScx(in TaskStruct p);

    /// <summary>scx_pre_fork + scx_fork: ops.init_task for the new task when a scheduler is loaded; an errno (negative) fails the fork.</summary>
    int Fork(ref TaskStruct p);

    /// <summary>scx_post_fork: the forked task is now visible (enabled in SCX if it is in the ext class).</summary>
    void PostFork(ref TaskStruct p);

    /// <summary>sched_ext_free: the task is gone (ops.exit_task).</summary>
    void TaskFree(ref TaskStruct p);

    /// <summary>scx_tick: every tick on every busy CPU (the watchdog's check-in), before the current task's task_tick.</summary>
    void Tick(int cpu);

    /// <summary>
    /// scx_update_idle (idle.c): <paramref name="cpu"/> enters (true) or leaves idle; without <paramref name="notify"/>
    /// an idle CPU picking idle again (pick_task_idle), which refreshes the idle masks only.
    /// </summary>
    void UpdateIdle(int cpu, bool idle, bool notify = true);

    /// <summary>scx_can_stop_tick: whether a busy CPU may stop its tick (a SCX_SLICE_INF task: tickless).</summary>
    bool CanStopTick(int cpu);
}
