namespace BpfSim.Scheduler.Kernel;

/// <summary>One CPU hotplug operation as the kernel carried it out.</summary>
/// <param name="TimeNs">When it happened.</param>
/// <param name="Cpu">The CPU.</param>
/// <param name="Online">True: brought online (cpu_up); false: taken offline (cpu_down).</param>
/// <param name="Seq">scx_hotplug_seq after the event.</param>
/// <param name="TasksMigrated">Tasks pushed off the outgoing CPU (balance_push); 0 for an online event.</param>
/// <param name="AffinityBroken">Tasks whose affinity select_fallback_rq widened to every CPU during this event's pushes.</param>
public readonly record struct CpuHotplugEvent(long TimeNs, int Cpu, bool Online, long Seq, int TasksMigrated, int AffinityBroken);
