using System.Text.Json.Serialization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Scheduler.Workloads;

/// <summary>One task's line of the summary (DESIGN §5 names). Jobs of arrival groups are summarised per group instead.</summary>
public sealed record TaskResult(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("nice")] int Nice,
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
    [property: JsonPropertyName("wakeups")] long Wakeups,
    [property: JsonPropertyName("deadline_misses")] long DeadlineMisses,
    [property: JsonPropertyName("periods")] long Periods,
    [property: JsonPropertyName("exited_s")] double? ExitedSeconds);

/// <summary>An arrivals group's jobs: how many came, finished, and their response times (fork → exit).</summary>
public sealed record JobGroupResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("completed")] long Completed,
    [property: JsonPropertyName("response_ms_mean")] double ResponseMsMean,
    [property: JsonPropertyName("response_ms_p50")] double ResponseMsP50,
    [property: JsonPropertyName("response_ms_p99")] double ResponseMsP99,
    [property: JsonPropertyName("wait_ms_mean")] double WaitMsMean,
    [property: JsonPropertyName("wait_ms_p99")] double WaitMsP99);

/// <summary>
/// One CPU's line: the fraction of the time it was online that it ran tasks (all of the run without hotplug; the
/// time offline is in <see cref="HotplugResult.CpuOfflineSeconds"/>), its context switches, and its scheduler ticks
/// (none while idle, nor while a nohz_full CPU runs tickless; the 1 Hz remote ticks are not counted).
/// </summary>
public sealed record CpuResult(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("utilization")] double Utilization,
    [property: JsonPropertyName("switches")] long Switches,
    [property: JsonPropertyName("node")] int Node,
    [property: JsonPropertyName("ticks")] long Ticks = 0);

/// <summary>Fairness against weights: each CPU-bound task's CPU share over its weight-proportional share.</summary>
public sealed record SchedFairnessResult(
    [property: JsonPropertyName("jain_weighted")] double JainWeighted,
    [property: JsonPropertyName("max_share_error")] double MaxShareError);

/// <summary>A scheduler's ejection: when, and the exit info as the kernel reports it (struct scx_exit_info).</summary>
public sealed record EjectionResult(
    [property: JsonPropertyName("t_s")] double Seconds,
    [property: JsonPropertyName("scheduler")] string Scheduler,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("kind_code")] int KindCode,
    [property: JsonPropertyName("exit_code")] long ExitCode,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("msg")] string Message);

/// <summary>A scheduler's life in the run: enabled and disabled times and how it exited.</summary>
public sealed record SchedulerResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("enabled_s")] double? EnabledSeconds,
    [property: JsonPropertyName("disabled_s")] double? DisabledSeconds,
    [property: JsonPropertyName("exit_kind")] string? ExitKind,
    [property: JsonPropertyName("exit_reason")] string? ExitReason,
    [property: JsonPropertyName("exit_msg")] string? ExitMessage);

/// <summary>What a scheduler scenario run produced; formatted by the CLI.</summary>
public sealed record SchedRunResult
{
    public required IReadOnlyList<TaskResult> Tasks { get; init; }
    public required IReadOnlyList<JobGroupResult> Jobs { get; init; }
    public required IReadOnlyList<CpuResult> Cpus { get; init; }
    public required SchedFairnessResult Fairness { get; init; }
    public required IReadOnlyList<SchedulerResult> Schedulers { get; init; }
    /// <summary>Ejections (error exits) in order; empty when every scheduler behaved.</summary>
    public required IReadOnlyList<EjectionResult> Ejections { get; init; }
    public required IReadOnlyList<StructOpsSummary> StructOps { get; init; }
    public required long Events { get; init; }
    /// <summary>Context switches, wake-ups, ticks and migrations: the scheduling events of the run.</summary>
    public required long SchedEvents { get; init; }
    public required double SimSeconds { get; init; }
    public required double WallSeconds { get; init; }
    /// <summary>Per-CPU "which task ran when" and sampled series, for the report and CSVs.</summary>
    [JsonIgnore]
    public required SchedTrace Trace { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public IReadOnlyList<Core.Ebpf.Loading.ProgramStats> Programs { get; init; } = [];
    [JsonIgnore]
    public IReadOnlyList<Core.Bpf.TraceLine> PrintkTrace { get; init; } = [];
    /// <summary>Consumers ejected for an exception or memory fault (also listed in <see cref="Ejections"/>).</summary>
    public IReadOnlyList<ConsumerFault> Faults { get; init; } = [];
    /// <summary>CPU hotplug: the events and what they did; null for a run without hotplug.</summary>
    public HotplugResult? Hotplug { get; init; }
}
