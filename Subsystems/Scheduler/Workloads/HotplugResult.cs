using System.Text.Json.Serialization;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// The run's CPU hotplug (summary.json <c>hotplug</c>): every event, the tasks pushed off outgoing CPUs, the tasks
/// whose affinity select_fallback_rq had to break, scx_hotplug_seq at the end, the schedulers restarted, and per CPU
/// the time it was offline (neither busy nor idle: the CPUs' utilization is over the time they were online).
/// </summary>
public sealed record HotplugResult(
    [property: JsonPropertyName("events")] IReadOnlyList<HotplugEventResult> Events,
    [property: JsonPropertyName("tasks_migrated")] long TasksMigrated,
    [property: JsonPropertyName("affinity_broken")] long AffinityBroken,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("restarts")] int Restarts,
    [property: JsonPropertyName("cpu_offline_s")] IReadOnlyList<double> CpuOfflineSeconds);

/// <summary>One hotplug event: when, which CPU, which way, scx_hotplug_seq after it, what it moved and who handled it.</summary>
/// <param name="HandledBy">What handle_hotplug did: the scheduler's ops.cpu_online/offline, its exit, or nothing (no sched_ext scheduler loaded).</param>
public sealed record HotplugEventResult(
    [property: JsonPropertyName("t_s")] double Seconds,
    [property: JsonPropertyName("cpu")] int Cpu,
    [property: JsonPropertyName("online")] bool Online,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("tasks_migrated")] int TasksMigrated,
    [property: JsonPropertyName("affinity_broken")] int AffinityBroken,
    [property: JsonPropertyName("handled_by")] string HandledBy);
