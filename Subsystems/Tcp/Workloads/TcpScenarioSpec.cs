using BpfSim.Core.Workloads;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Workloads;

/// <summary>The topology of a TCP scenario.</summary>
public enum TopologyKind
{
    Dumbbell,
    ParkingLot,
}

/// <summary>The bottleneck queue discipline.</summary>
public enum QueueKind
{
    DropTail,
    Red,
    EcnThreshold,
    /// <summary>sch_codel.</summary>
    Codel,
    /// <summary>sch_fq_codel, Linux's default qdisc.</summary>
    FqCodel,
    /// <summary>sch_pie.</summary>
    Pie,
    /// <summary>sch_fq, with per-flow pacing.</summary>
    Fq,
}

/// <summary>A bottleneck queue as a scenario describes it.</summary>
public sealed record QueueSpec
{
    public QueueKind Kind { get; init; } = QueueKind.DropTail;
    /// <summary>Packets (0 = use <see cref="LimitBytes"/>).</summary>
    public int Limit { get; init; } = 250;
    public long LimitBytes { get; init; }
    public double Min { get; init; } = 30;
    public double Max { get; init; } = 90;
    public double MaxProbability { get; init; } = 0.1;
    public bool Ecn { get; init; }
    public int K { get; init; } = 20;

    // The Linux qdiscs' parameters, named as tc names them; null keeps the kernel's default for the type.
    /// <summary>codel, fq_codel, pie: target delay.</summary>
    public SimTime? Target { get; init; }
    /// <summary>codel, fq_codel: interval.</summary>
    public SimTime? Interval { get; init; }
    /// <summary>codel, fq_codel, fq: ce_threshold.</summary>
    public SimTime? CeThreshold { get; init; }
    /// <summary>fq_codel: flows (hash buckets).</summary>
    public int? Flows { get; init; }
    /// <summary>fq_codel, fq: quantum in bytes.</summary>
    public int? Quantum { get; init; }
    /// <summary>fq_codel: memory_limit in bytes.</summary>
    public long? MemoryLimit { get; init; }
    /// <summary>fq_codel: drop_batch (drop_batch_size).</summary>
    public int? DropBatch { get; init; }
    /// <summary>pie: tupdate.</summary>
    public SimTime? Tupdate { get; init; }
    /// <summary>pie: alpha and beta in 1/16 units.</summary>
    public int? Alpha { get; init; }
    public int? Beta { get; init; }
    /// <summary>pie: bytemode.</summary>
    public bool Bytemode { get; init; }
    /// <summary>pie: dq_rate_estimator.</summary>
    public bool DqRateEstimator { get; init; }
    /// <summary>fq: flow_limit in packets.</summary>
    public int? FlowLimit { get; init; }
    /// <summary>fq: initial_quantum in bytes.</summary>
    public int? InitialQuantum { get; init; }
    /// <summary>fq: maxrate per flow in bits per second.</summary>
    public long? MaxRateBps { get; init; }
    /// <summary>fq: pacing (rate_enable).</summary>
    public bool Pacing { get; init; } = true;
    /// <summary>fq: refill_delay.</summary>
    public SimTime? RefillDelay { get; init; }
    /// <summary>fq: low_rate_threshold in bits per second.</summary>
    public long? LowRateThresholdBps { get; init; }
    /// <summary>fq: horizon, and whether a packet beyond it is dropped (else capped).</summary>
    public SimTime? Horizon { get; init; }
    public bool HorizonDrop { get; init; } = true;

    /// <summary>The packet limit a type has in Linux when none is given (droptail, red and ecn_threshold: 250).</summary>
    public static int DefaultLimit(QueueKind kind) => kind switch
    {
        QueueKind.Codel => 1000,
        QueueKind.FqCodel => 10 * 1024,
        QueueKind.Pie => 1000,
        QueueKind.Fq => 10000,
        _ => 250,
    };
}

/// <summary>The network of a TCP scenario.</summary>
public sealed record NetworkSpec
{
    public TopologyKind Topology { get; init; } = TopologyKind.Dumbbell;
    /// <summary>Bottleneck links of a parking lot.</summary>
    public int Hops { get; init; } = 3;
    public long BottleneckRateBps { get; init; } = 100_000_000;
    public SimTime BottleneckDelay { get; init; } = SimTime.FromMilliseconds(10);
    public double BottleneckLoss { get; init; }
    public QueueSpec Queue { get; init; } = new();
    public long AccessRateBps { get; init; } = 1_000_000_000;
    public SimTime AccessDelay { get; init; } = SimTime.FromMilliseconds(1);
    /// <summary>The Mahimahi trace the bottleneck's data direction delivers at (<c>mahimahi:</c>); null = its fixed rate.</summary>
    public DeliveryTrace? Mahimahi { get; init; }
    /// <summary>The Mahimahi trace of the bottleneck's ACK direction (<c>mahimahi_up:</c>); null = its fixed rate.</summary>
    public DeliveryTrace? MahimahiUp { get; init; }
    /// <summary>
    /// Changes of the bottleneck over time (<c>changes:</c>), in time order: rate and delay apply to both directions
    /// (rate only to a direction without a trace), loss to the data direction, as the keys they change do.
    /// </summary>
    public IReadOnlyList<LinkChange> Changes { get; init; } = [];
}

/// <summary>How flows of a group begin.</summary>
public enum ArrivalKind
{
    /// <summary><c>count</c> flows at <c>start</c>.</summary>
    Fixed,
    /// <summary>Sized flows arriving as a Poisson process of <c>rate</c> per second between start and stop.</summary>
    Poisson,
}

/// <summary>A group of flows.</summary>
public sealed record FlowSpec
{
    public ArrivalKind Arrivals { get; init; } = ArrivalKind.Fixed;
    public int Count { get; init; } = 1;
    /// <summary>Poisson arrivals per second.</summary>
    public double Rate { get; init; }
    /// <summary>Congestion control (built-in or consumer name); null = the default.</summary>
    public string? Cc { get; init; }
    public SimTime Start { get; init; }
    /// <summary>
    /// Between the starts of consecutive flows of a fixed group: flow i (from 0) opens at Start + i × Stagger. Zero
    /// opens the whole group at one instant, which no real host does (its connects are some 0.1 ms apart).
    /// </summary>
    public SimTime Stagger { get; init; }
    public SimTime? Stop { get; init; }
    /// <summary>Bytes to send; null = until stop or the end.</summary>
    public long? SizeBytes { get; init; }
    /// <summary>On/off application writes (a burst every interval); null = everything queued at the start.</summary>
    public TcpWritePattern? Writes { get; init; }
    /// <summary>The sender's access delay (RTT heterogeneity).</summary>
    public SimTime? AccessDelay { get; init; }
    /// <summary>Parking lot: the routers the flow enters and leaves at (default: all hops).</summary>
    public int? FromRouter { get; init; }
    public int? ToRouter { get; init; }
}

/// <summary>A complete TCP scenario (DESIGN §5).</summary>
public sealed record TcpScenarioSpec
{
    public ulong Seed { get; init; } = 1;
    public SimTime Duration { get; init; } = SimTime.FromSeconds(30);
    public NetworkSpec Network { get; init; } = new();
    public IReadOnlyList<StructOpsEntry> StructOps { get; init; } = [];
    /// <summary>XDP programs attached to interfaces during the run (<c>xdp:</c>); empty leaves the interfaces without hooks.</summary>
    public IReadOnlyList<XdpEntry> Xdp { get; init; } = [];
    public IReadOnlyList<FlowSpec> Flows { get; init; } = [];
    /// <summary>How often time series are sampled.</summary>
    public SimTime SampleInterval { get; init; } = SimTime.FromMilliseconds(100);

    /// <summary>
    /// Flows (the first, by id) whose time series are sampled; later flows are in the summary and flows.csv only. A
    /// sample stores a row of every sampled flow's columns, so without a bound 100,000 flows sampled 100 times keep
    /// 840 MB that no plot or table can show.
    /// </summary>
    public int TimeSeriesFlows { get; init; } = DefaultTimeSeriesFlows;

    /// <summary>The default of <see cref="TimeSeriesFlows"/>.</summary>
    public const int DefaultTimeSeriesFlows = 1000;
    /// <summary>The receiving hosts' built-in algorithm (<see cref="TcpStackOptions.ReceiverCc"/>); null = automatic.</summary>
    public string? ReceiverCc { get; init; }
    /// <summary>CONFIG_HZ of every simulated kernel (<c>hz</c>; <see cref="TcpStackOptions.Hz"/>): 100, 250, 300 or 1000.</summary>
    public uint Hz { get; init; } = Jiffies.DefaultHz;
    /// <summary>net.ipv4.tcp_ecn on every host (<see cref="TcpStackOptions.Ecn"/>).</summary>
    public int Ecn { get; init; } = 2;
    /// <summary>net.ipv4.tcp_recovery on every host (<see cref="TcpStackOptions.Recovery"/>): 1 = RACK-TLP.</summary>
    public int Recovery { get; init; } = 1;
    /// <summary>net.ipv4.tcp_frto on every host (<see cref="TcpStackOptions.Frto"/>).</summary>
    public int Frto { get; init; } = 2;
    /// <summary>Segmentation offload on the senders (<see cref="TcpStackOptions.Tso"/>): on, as on a physical NIC.</summary>
    public bool Tso { get; init; } = true;
    /// <summary>Receive offload on the receivers (<see cref="TcpStackOptions.Gro"/>): on, as on a physical NIC.</summary>
    public bool Gro { get; init; } = true;

    /// <summary>
    /// Start of the steady-state window (<c>measure_from</c>) the window metrics are measured over (goodput in the window,
    /// utilization, queue mean, loss rate, fairness, per-algorithm totals, one-way delay, which sized flows' FCTs count);
    /// null = the start of the run.
    /// </summary>
    public SimTime? MeasureFrom { get; init; }

    /// <summary>End of the steady-state window (<c>measure_to</c>); null = the end of the run.</summary>
    public SimTime? MeasureTo { get; init; }

    /// <summary>
    /// Upper edges (bytes, ascending) of the size bins sized flows' completion times are summarised by (<c>fct_bins</c>):
    /// the default [100 KB, 1 MB] makes the bins &lt;100 KB, 100 KB–1 MB and ≥1 MB.
    /// </summary>
    public IReadOnlyList<long> FctBins { get; init; } = [100_000, 1_000_000];

    /// <summary>The window a run of this scenario measures over: [measure_from, measure_to] clipped to [0, duration].</summary>
    public Metrics.MeasureWindow Window
    {
        get
        {
            long to = Math.Min(MeasureTo?.Nanoseconds ?? Duration.Nanoseconds, Duration.Nanoseconds);
            long from = Math.Min(MeasureFrom?.Nanoseconds ?? 0, to);
            return new Metrics.MeasureWindow(new SimTime(from), new SimTime(to));
        }
    }
}
