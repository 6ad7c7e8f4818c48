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
    /// <summary>The flow's group: the index of its entry in the scenario's <c>flows</c> list (from 0; Poisson arrivals of one entry share it).</summary>
    [JsonPropertyName("group")]
    public int Group { get; init; }

    /// <summary>Bytes acknowledged inside the measurement window.</summary>
    [JsonPropertyName("window_bytes_acked")]
    public long WindowBytesAcked { get; init; }

    /// <summary>The part of the flow's life (connect to close, or the run's end) inside the window, in seconds.</summary>
    [JsonPropertyName("window_active_s")]
    public double WindowActiveSeconds { get; init; }

    /// <summary>Goodput while it ran in the window: window bytes acked over its active part (0 if it never ran in it).</summary>
    [JsonPropertyName("window_goodput_mbps")]
    public double WindowGoodputMbps { get; init; }

    /// <summary>Mean one-way delay (ms) of its data packets delivered in the window (0 if none).</summary>
    [JsonPropertyName("owd_ms_mean")]
    public double OwdMsMean { get; init; }

    /// <summary>95th percentile one-way delay (ms) of its data packets delivered in the window (0 if none).</summary>
    [JsonPropertyName("owd_ms_p95")]
    public double OwdMsP95 { get; init; }

    /// <summary>The flow's size (<c>size:</c>); null for a flow that sends until it stops.</summary>
    [JsonPropertyName("size_bytes")]
    public long? SizeBytes { get; init; }

    /// <summary>Flow completion time (ms) of a sized flow that completed; null otherwise.</summary>
    [JsonPropertyName("fct_ms")]
    public double? FctMs { get; init; }

    /// <summary>FCT / ideal FCT (<see cref="FctSample"/>) of a sized flow that completed; null otherwise.</summary>
    [JsonPropertyName("slowdown")]
    public double? Slowdown { get; init; }

    /// <summary>SYNs the flow sent again after a timeout (1 s at first; net.ipv4.tcp_syn_linear_timeouts, then doubling).</summary>
    [JsonPropertyName("syn_retries")]
    public long SynRetries { get; init; }

    /// <summary>SYN-ACKs the receiving host sent again for it (its request timer, or a retransmitted SYN).</summary>
    [JsonPropertyName("synack_retries")]
    public long SynAckRetries { get; init; }

    /// <summary>Whether the handshake completed.</summary>
    [JsonPropertyName("connected")]
    public bool Connected { get; init; }

    /// <summary>Time from the first SYN to the SYN-ACK that established the flow (ms); null if it never connected.</summary>
    [JsonPropertyName("connect_ms")]
    public double? ConnectMs { get; init; }

    /// <summary>connect() failed: every SYN timed out (ETIMEDOUT); the flow sent no data and is not counted as completed.</summary>
    [JsonIgnore]
    public bool NeverConnected { get; init; }

    /// <summary>Still in SYN_SENT when the run ended.</summary>
    [JsonIgnore]
    public bool StillConnecting { get; init; }

    /// <summary>The struct_ops map whose algorithm the flow adopted when it opened (null for a built-in).</summary>
    [JsonPropertyName("map_id")]
    public int? MapId { get; init; }

    /// <summary>That map's name (the object's struct_ops variable, or the C# consumer's), as bpftool shows it.</summary>
    [JsonPropertyName("map_name")]
    public string? MapName { get; init; }

    /// <summary>The structops entry's program (object file or consumer) that loaded the map.</summary>
    [JsonPropertyName("map_program")]
    public string? MapProgram { get; init; }
}

/// <summary>One link's line of the summary.</summary>
public sealed record LinkResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("utilization")] double Utilization,
    [property: JsonPropertyName("drops")] long Drops,
    [property: JsonPropertyName("random_losses")] long RandomLosses,
    [property: JsonPropertyName("ecn_marks")] long EcnMarks,
    [property: JsonPropertyName("queue_pkts_mean")] double QueuePacketsMean,
    [property: JsonPropertyName("queue_pkts_max")] int QueuePacketsMax)
{
    /// <summary>Packets offered to the link's queue inside the measurement window.</summary>
    [JsonPropertyName("packets_arrived")]
    public long PacketsArrived { get; init; }

    /// <summary>Queueing delay of the packets the link sent: each one's time from enqueue to the start of its transmission.</summary>
    [JsonPropertyName("queue_delay_ms")]
    public QueueDelayResult QueueDelayMs { get; init; } = QueueDelayResult.Empty;

    /// <summary>(queue drops + random losses) / packets arrived, inside the measurement window.</summary>
    [JsonPropertyName("loss_rate")]
    public double LossRate { get; init; }
}

/// <summary>
/// A distribution of queueing delays in milliseconds: the exact mean, and quantiles from a log-linear histogram
/// (each the midpoint of its bucket, within 1.6 % of the true value).
/// </summary>
public sealed record QueueDelayResult(
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p95")] double P95,
    [property: JsonPropertyName("p99")] double P99)
{
    /// <summary>No packet measured.</summary>
    public static QueueDelayResult Empty { get; } = new(0, 0, 0, 0);

    /// <summary>The summary of a histogram of nanoseconds (null: none recorded).</summary>
    public static QueueDelayResult From(Core.Metrics.LogLinearHistogram? ns) => ns is null || ns.Count == 0
        ? Empty
        : new(Ms(ns.Mean), Ms(ns.Quantile(0.50)), Ms(ns.Quantile(0.95)), Ms(ns.Quantile(0.99)));

    private static double Ms(double ns) => Math.Round(ns / 1e6, 3);
}

/// <summary>
/// Jain's fairness over the window goodputs (<see cref="FlowResult.WindowGoodputMbps"/>) of the flows that ran in the
/// measurement window: a flow there for part of it counts with its goodput over that part; one never there is left out.
/// </summary>
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

    /// <summary>The measurement window the window metrics are over.</summary>
    public WindowResult Window { get; init; } = new(0, 0);

    /// <summary>Per-algorithm totals over the window, in order of each algorithm's first flow.</summary>
    public IReadOnlyList<AlgorithmResult> ByAlgorithm { get; init; } = [];

    /// <summary>Flow completion times per sized-flow group, in <c>flows:</c> order.</summary>
    public IReadOnlyList<FctResult> Fct { get; init; } = [];

    /// <summary>Flow completion times per size bin (<c>fct_bins</c>), ascending; empty with no sized flows.</summary>
    public IReadOnlyList<FctBinResult> FctBins { get; init; } = [];

    /// <summary>The handshakes: SYN and SYN-ACK retries, flows that never connected, connect times.</summary>
    public HandshakeResult Handshake { get; init; } = HandshakeResult.Empty;

    /// <summary>Every sized flow that started in the window, in flow order: the data of FCT CDFs.</summary>
    [JsonIgnore]
    public IReadOnlyList<FctSample> FctSamples { get; init; } = [];

    /// <summary>Pantheon's throughput-delay points: one per flow that ran in the window, then one per algorithm.</summary>
    [JsonIgnore]
    public IReadOnlyList<PantheonPoint> Pantheon { get; init; } = [];

    /// <summary>Per interface, what its packet hooks did (the summary's <c>xdp</c>); null when the scenario has no <c>xdp:</c>.</summary>
    public IReadOnlyList<XdpInterfaceResult>? Xdp { get; init; }

    /// <summary>The maps of the run's XDP objects, dumped at its end (<c>--dump-map</c>, <c>--out</c>'s maps/NAME.json).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<XdpMapResult> XdpMaps { get; init; } = [];
}
