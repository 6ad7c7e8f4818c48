using System.Text.Json;
using System.Text.Json.Serialization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>
/// One task group's line: its tasks' totals and the wait distribution of all of them together (from the run's
/// per-group wait distribution, not an average of per-task percentiles). What the terminal shows instead of a row
/// per task when there are many.
/// </summary>
public sealed record TaskGroupResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("tasks")] int Tasks,
    [property: JsonPropertyName("nice")] string Nice,
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("runtime_s")] double RuntimeSeconds,
    [property: JsonPropertyName("cpu_share")] double CpuShare,
    [property: JsonPropertyName("wait_ms_mean")] double WaitMsMean,
    [property: JsonPropertyName("wait_ms_p50")] double WaitMsP50,
    [property: JsonPropertyName("wait_ms_p99")] double WaitMsP99,
    [property: JsonPropertyName("wait_ms_p999")] double WaitMsP999,
    [property: JsonPropertyName("wait_ms_max")] double WaitMsMax,
    [property: JsonPropertyName("switches")] long Switches,
    [property: JsonPropertyName("migrations")] long Migrations,
    [property: JsonPropertyName("deadline_misses")] long DeadlineMisses);

/// <summary>
/// The summary JSON of a scheduler run (DESIGN §5 "Sched summary JSON"; fields are added, never renamed): the run's
/// header as for TCP, <c>tasks</c>, <c>groups</c>, <c>jobs</c>, <c>cpus</c>, <c>fairness</c>, <c>schedulers</c>,
/// <c>struct_ops</c>, <c>ejected</c> (the first ejection, absent when none) and every one in <c>ejections</c>, and
/// <c>hotplug</c> (absent without CPU hotplug events).
/// </summary>
public sealed record SchedRunSummary(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("subsystem")] string Subsystem,
    [property: JsonPropertyName("sim_time_s")] double SimTimeSeconds,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("events")] long Events,
    [property: JsonPropertyName("sched_events")] long SchedEvents,
    [property: JsonPropertyName("tasks")] IReadOnlyList<TaskResult> Tasks,
    [property: JsonPropertyName("groups")] IReadOnlyList<TaskGroupResult> Groups,
    [property: JsonPropertyName("jobs")] IReadOnlyList<JobGroupResult> Jobs,
    [property: JsonPropertyName("cpus")] IReadOnlyList<CpuResult> Cpus,
    [property: JsonPropertyName("fairness")] SchedFairnessResult Fairness,
    [property: JsonPropertyName("schedulers")] IReadOnlyList<SchedulerResult> Schedulers,
    [property: JsonPropertyName("struct_ops")] IReadOnlyList<StructOpsSummary> StructOps,
    [property: JsonPropertyName("ejected"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EjectionResult? Ejected,
    [property: JsonPropertyName("ejections")] IReadOnlyList<EjectionResult> Ejections,
    [property: JsonPropertyName("timeline")] TimelineInfo Timeline,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes,
    [property: JsonPropertyName("manifest")] Manifest Manifest,
    [property: JsonPropertyName("faults")] IReadOnlyList<ConsumerFault> Faults,
    [property: JsonPropertyName("programs")] IReadOnlyList<Core.Ebpf.Loading.ProgramStats> Programs,
    [property: JsonPropertyName("hotplug"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] HotplugResult? Hotplug = null)
{
    /// <summary>CONFIG_HZ of the simulated kernel (the scenario's <c>hz</c>): the tick's rate.</summary>
    [JsonPropertyName("hz")]
    public int Hz { get; init; } = 1000;

    /// <summary>The CPUs booted nohz_full (the scenario's <c>cpus.nohz_full</c>); absent when none.</summary>
    [JsonPropertyName("nohz_full"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? NohzFull { get; init; }

    /// <summary>
    /// The fair class's sched_feat switches the scenario changed (<c>sched_features</c>), as the kernel's features file
    /// writes them (<c>NO_NI_RANDOM</c>); absent when all are features.h's defaults.
    /// </summary>
    [JsonPropertyName("sched_features"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? SchedFeatures { get; init; }

    /// <summary>
    /// What the run's first line says after the HZ: the nohz_full CPUs and the changed sched_feat switches, if any.
    /// </summary>
    [JsonIgnore]
    public string KernelNotes =>
        (NohzFull is { } nohz ? $" (nohz_full {string.Join(",", nohz)})" : "") +
        (SchedFeatures is { } f ? $" (sched_features {string.Join(" ", f)})" : "");

    public string ToJson() => JsonSerializer.Serialize(this, TcpRunSummary.JsonOptions);

    /// <param name="readerNotes">What the scenario reader noted (rt-app keys ignored), before the run's own notes.</param>
    public static SchedRunSummary From(SchedScenarioSpec spec, SchedRunResult result, Manifest manifest, IReadOnlyList<string> readerNotes) =>
        new(spec.Seed, "sched", result.SimSeconds, Math.Round(result.WallSeconds, 3), result.Events, result.SchedEvents, result.Tasks,
            SchedGroups.Of(result), result.Jobs, result.Cpus, result.Fairness, result.Schedulers, result.StructOps,
            result.Ejections.Count > 0 ? result.Ejections[0] : null, result.Ejections,
            new TimelineInfo(result.Trace.Timeline.Count, result.Trace.TimelineDropped, spec.TimelineLimit),
            [.. readerNotes, .. result.Notes], manifest, result.Faults, result.Programs, result.Hotplug)
        {
            Hz = spec.Hz,
            NohzFull = spec.Cpus.NohzFull.Count > 0 ? spec.Cpus.NohzFull : null,
            SchedFeatures = spec.Features.Changed() is { Count: > 0 } changed ? changed : null,
        };
}

/// <summary>How much of the per-CPU timeline the run kept (timeline.csv, the report) and how much it only counted.</summary>
public sealed record TimelineInfo(
    [property: JsonPropertyName("segments")] long Segments,
    [property: JsonPropertyName("dropped")] long Dropped,
    [property: JsonPropertyName("limit")] int Limit);
