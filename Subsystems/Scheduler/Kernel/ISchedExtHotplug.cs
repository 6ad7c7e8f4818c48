namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// The CPU hotplug calls core.c makes into sched_ext outside its sched_class: scx_rq_activate from
/// sched_cpu_activate and scx_rq_deactivate from sched_cpu_deactivate (kernel/sched/ext.h, 6.12). The ext class
/// implements this beside <see cref="ISchedExtHooks"/>.
/// </summary>
public interface ISchedExtHotplug
{
    /// <summary>
    /// handle_hotplug: scx_hotplug_seq is incremented, then ops.cpu_online/cpu_offline is called, or a loaded
    /// scheduler without it exits (SCX_EXIT_UNREG_KERN).
    /// </summary>
    /// <returns>scx_hotplug_seq after the increment.</returns>
    long HandleHotplug(int cpu, bool online);

    /// <summary>scx_hotplug_seq (/sys/kernel/sched_ext/hotplug_seq): CPU hotplug events since boot.</summary>
    long HotplugSeq { get; }
}
