using System.Text.Json.Serialization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Tcp.Metrics;

namespace BpfSim.Tcp.Workloads;

/// <summary>One flow's line of the summary (DESIGN §5 names).</summary>
public sealed record FlowResult(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("cc")] string Cc,
    [property: JsonPropertyName("cc_requested")] string? CcRequested,
    [property: JsonPropertyName("start_s")] double StartSeconds,
    [property: JsonPropertyName("end_s")] double EndSeconds,
    [property: JsonPropertyName("bytes_acked")] long BytesAcked,
    [property: JsonPropertyName("goodput_mbps")] double GoodputMbps,
    [property: JsonPropertyName("rtt_ms_mean")] double RttMsMean,
    [property: JsonPropertyName("rtt_ms_min")] double RttMsMin,
    [property: JsonPropertyName("retransmits")] long Retransmits,
    [property: JsonPropertyName("timeouts")] long Timeouts,
    [property: JsonPropertyName("ecn_echoes")] long EcnEchoes,
    [property: JsonPropertyName("completed")] bool Completed,
    [property: JsonPropertyName("cwnd_restarts")] long CwndRestarts,
    [property: JsonPropertyName("loss_probes")] long LossProbes,
    [property: JsonPropertyName("loss_probe_recoveries")] long LossProbeRecoveries,
    [property: JsonPropertyName("rack_reo_timeouts")] long RackReoTimeouts,
    [property: JsonPropertyName("lost_retransmits")] long LostRetransmits,
    [property: JsonPropertyName("dsacks_received")] long DsacksReceived,
    [property: JsonPropertyName("spurious_rtos")] long SpuriousRtos,
    [property: JsonPropertyName("full_undos")] long FullUndos,
    [property: JsonPropertyName("partial_undos")] long PartialUndos,
    [property: JsonPropertyName("dsack_undos")] long DsackUndos,
    [property: JsonPropertyName("loss_undos")] long LossUndos)
{
    /// <summary>The flow's group: the index of its entry in the scenario's <c>flows</c> list (from 0).</summary>
    [JsonPropertyName("group")]
    public int Group { get; init; }
}

/// <summary>One link's line of the summary.</summary>
public sealed record LinkResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("utilization")] double Utilization,
    [property: JsonPropertyName("drops")] long Drops,
    [property: JsonPropertyName("random_losses")] long RandomLosses,
    [property: JsonPropertyName("ecn_marks")] long EcnMarks,
    [property: JsonPropertyName("queue_pkts_mean")] double QueuePacketsMean,
    [property: JsonPropertyName("queue_pkts_max")] int QueuePacketsMax);

/// <summary>Jain's fairness over the flows' goodputs.</summary>
public sealed record FairnessResult([property: JsonPropertyName("jain")] double Jain);

/// <summary>What a TCP scenario run produced; formatted by the CLI.</summary>
public sealed record TcpRunResult
{
    public required IReadOnlyList<FlowResult> Flows { get; init; }
    public required IReadOnlyList<LinkResult> Links { get; init; }
    public required FairnessResult Fairness { get; init; }
    public required IReadOnlyList<StructOpsSummary> StructOps { get; init; }
    public required long Events { get; init; }
    public required double SimSeconds { get; init; }
    public required double WallSeconds { get; init; }
    /// <summary>The time series, as tidy rows.</summary>
    [JsonIgnore]
    public required TcpSampler Samples { get; init; }
    /// <summary>bpftool-shaped dumps of the struct_ops maps still alive at the end.</summary>
    [JsonIgnore]
    public required System.Text.Json.Nodes.JsonArray StructOpsDump { get; init; }
    /// <summary>Things the run noticed that a user should know (a flow whose algorithm was unavailable, ...).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
    /// <summary>Run statistics of the bytecode programs of BPF objects loaded in the run.</summary>
    public IReadOnlyList<Core.Ebpf.Loading.ProgramStats> Programs { get; init; } = [];

    /// <summary>What programs wrote with bpf_printk, in order.</summary>
    [JsonIgnore]
    public IReadOnlyList<Core.Bpf.TraceLine> Trace { get; init; } = [];

    /// <summary>Consumers ejected for a fault, in order: the run went on without them.</summary>
    public IReadOnlyList<ConsumerFault> Faults { get; init; } = [];
}
