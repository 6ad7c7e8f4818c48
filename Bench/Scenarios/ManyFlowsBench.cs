using System.Collections.Concurrent;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BpfSim.Core.Bpf;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Programs;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Scenarios;

/// <summary>
/// The many-flow benchmark of issue #16: 10 to 100,000 cubic flows through one dumbbell whose bottleneck grows with
/// them (1 Mbit/s per flow, a 20 ms RTT, a DropTail queue of one bandwidth-delay product), all starting at once or
/// spread over the first second. The simulated time is scaled so every case moves about
/// <see cref="TargetDataPackets"/> data packets (at least <see cref="MinSimSeconds"/>, so the staggered starts are all
/// in): each case does a comparable number of events. Besides BenchmarkDotNet's time per run, the columns give
/// events and data packets per wall-clock second, managed bytes per flow live at the end of the run, the highest
/// managed heap seen during it, and the handshakes (SYN retries, flows that never connected). Run:
/// <c>dotnet run -c Release --project Bench -- --filter '*ManyFlows*'</c> (BPFSIM_MANYFLOWS=10,1000 for a subset), or one case
/// once: <c>dotnet run -c Release --project Bench -- manyflows 100000 Staggered</c>.
/// </summary>
[Config(typeof(ManyFlowsColumns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1)]
public class ManyFlowsBench
{
    /// <summary>How the flows start.</summary>
    public enum StartMode
    {
        /// <summary>Every flow's SYN at time 0: all the handshakes meet in the queues at once.</summary>
        AllAtOnce,
        /// <summary>Uniformly at random over the first second.</summary>
        Staggered,
    }

    /// <summary>The bottleneck's share per flow.</summary>
    public const long PerFlowBps = 1_000_000;

    /// <summary>Data packets each case aims to move across the bottleneck.</summary>
    public const double TargetDataPackets = 2_000_000;

    /// <summary>The least simulated time: a second of staggered starts and some running after.</summary>
    public const double MinSimSeconds = 1.2;

    private const int DataPacketBits = 1500 * 8;

    /// <summary>
    /// The flow counts: 10, 1,000, 10,000 and 100,000, or the comma-separated list in BPFSIM_MANYFLOWS (the 100,000
    /// case takes minutes per run, and BenchmarkDotNet runs each case five times).
    /// </summary>
    public static IEnumerable<int> FlowCounts =>
        Environment.GetEnvironmentVariable("BPFSIM_MANYFLOWS") is { Length: > 0 } list
            ? list.Split(',').Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture))
            : [10, 1_000, 10_000, 100_000];

    [ParamsSource(nameof(FlowCounts))]
    public int Flows { get; set; }

    [Params(StartMode.AllAtOnce, StartMode.Staggered)]
    public StartMode Start { get; set; }

    /// <summary>What the last run of each case measured, for the columns (the in-process toolchain shares this process).</summary>
    internal static ConcurrentDictionary<(int Flows, StartMode Start), CaseResult> Results { get; } = new();

    private BpfSystem _bpf = null!;
    private Dumbbell _bell = null!;
    private TcpStack _stack = null!;
    private HeapSampler _sampler = null!;
    private long _heapBefore;
    private CaseResult? _last;

    /// <summary>
    /// One case, run <c>runs</c> times (default 1) in this process without BenchmarkDotNet, each printing its line:
    /// <c>manyflows FLOWS AllAtOnce|Staggered [runs]</c>.
    /// </summary>
    public static void RunCase(string[] args)
    {
        var bench = new ManyFlowsBench
        {
            Flows = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture),
            Start = Enum.Parse<StartMode>(args[1]),
        };
        int runs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
        for (int i = 0; i < runs; i++)
        {
            bench.Setup();
            bench.Run();
            bench.Cleanup();
        }
    }

    /// <summary>The simulated seconds of a case with <paramref name="flows"/> flows.</summary>
    public static double SimSeconds(int flows) =>
        Math.Max(MinSimSeconds, TargetDataPackets / (flows * (double)PerFlowBps / DataPacketBits));

    [IterationSetup]
    public void Setup()
    {
        // Drop the previous iteration's simulation (the sampler holds its simulator too) before the baseline.
        _bpf = null!;
        _bell = null!;
        _stack = null!;
        _sampler = null!;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        _bpf = services.GetRequiredService<BpfSimFactory>().Create();
        var type = (TcpCongestionOpsType)_bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!;
        var net = new Network(_bpf.Simulator, seed: 1, packetCapacity: 1 << 16);
        long bottleneckBps = Flows * PerFlowBps;
        // One bandwidth-delay product of the 20 ms RTT, in 1500-byte packets.
        int queue = Math.Max(16, (int)Math.Ceiling(bottleneckBps * 0.020 / DataPacketBits));
        _bell = new Dumbbell(net, new DumbbellOptions
        {
            BottleneckRateBps = bottleneckBps,
            BottleneckDelay = SimTime.FromMilliseconds(8),
            AccessDelay = SimTime.FromMilliseconds(1),
            BottleneckQueue = _ => new DropTailQueue(queue),
        });
        _stack = new TcpStack(net, type.Registry, bpf: _bpf);
        var random = SimRandom.For(1, "starts");
        for (int i = 0; i < Flows; i++)
        {
            var at = Start == StartMode.AllAtOnce ? SimTime.Zero : SimTime.FromMicroseconds(random.Next(1_000_000));
            _stack.Open((s, r) => _bell.AddFlow(s, r), "cubic", at, out _).ThrowIfFailed();
        }
        _sampler = new HeapSampler(_bpf.Simulator, new SimTime((long)(SimSeconds(Flows) / 200 * 1e9)));
    }

    [Benchmark]
    public long Run()
    {
        var sim = _bpf.Simulator;
        long events = sim.EventsDispatched;
        var wall = Stopwatch.StartNew();
        sim.RunUntil(new SimTime((long)(SimSeconds(Flows) * 1e9)));
        wall.Stop();
        events = sim.EventsDispatched - events;
        long data = _bell.Bottleneck.Stats.PacketsSent;
        long synRetries = 0, neverConnected = 0, connecting = 0;
        foreach (var c in _stack.Connections)
        {
            synRetries += c.Stats.SynRetransmits;
            neverConnected += c.ConnectFailed ? 1 : 0;
            connecting += c.State == TcpConnectionState.SynSent ? 1 : 0;
        }
        _last = new CaseResult(wall.Elapsed.TotalSeconds, events, data, 0, _sampler.PeakBytes, synRetries, neverConnected, connecting);
        return events;
    }

    [IterationCleanup]
    public void Cleanup()
    {
        if (_last is null)
        {
            return;
        }
        // Live managed bytes per flow at the end of the run (connections, sockets, scoreboards, links, queued packets).
        long live = GC.GetTotalMemory(forceFullCollection: true) - _heapBefore;
        GC.KeepAlive(_stack);
        var r = _last with { LiveBytesPerFlow = live / (double)Flows };
        Results[(Flows, Start)] = r;
        Console.WriteLine($"// ManyFlows {Flows} {Start}: sim {SimSeconds(Flows):0.###} s, wall {r.WallS:0.000} s, {r.Events:N0} events " +
                          $"({r.Events / r.WallS / 1e6:0.00} M/s), {r.DataPackets:N0} data pkts ({r.DataPackets / r.WallS / 1e6:0.00} M/s), " +
                          $"{r.LiveBytesPerFlow:0} B/flow live, peak heap {r.PeakHeapBytes / 1e6:0} MB, SYN retries {r.SynRetries:N0}, " +
                          $"never connected {r.NeverConnected}, still connecting {r.StillConnecting}");
        _last = null;
    }

    /// <summary>One run's numbers.</summary>
    internal sealed record CaseResult(double WallS, long Events, long DataPackets, double LiveBytesPerFlow, long PeakHeapBytes, long SynRetries,
        long NeverConnected, long StillConnecting);

    /// <summary>Samples the managed heap size at a fixed simulated interval (no allocation per sample).</summary>
    private sealed class HeapSampler : IEventHandler
    {
        private readonly Simulator _sim;
        private readonly HandlerId _handler;
        private readonly SimTime _every;

        public HeapSampler(Simulator sim, SimTime every)
        {
            _sim = sim;
            _every = every;
            _handler = sim.Register(this);
            sim.Schedule(SimTime.Zero, _handler, 0);
        }

        public long PeakBytes { get; private set; }

        public void OnEvent(int kind, long arg)
        {
            PeakBytes = Math.Max(PeakBytes, GC.GetTotalMemory(forceFullCollection: false));
            _sim.Schedule(_sim.Now + _every, _handler, 0);
        }
    }
}

/// <summary>The many-flow benchmark's own columns, read from <see cref="ManyFlowsBench.Results"/>.</summary>
internal sealed class ManyFlowsColumns : ManualConfig
{
    public ManyFlowsColumns()
    {
        AddColumn(
            new ManyFlowsColumn("Sim s", (f, _) => $"{ManyFlowsBench.SimSeconds(f):0.###}"),
            new ManyFlowsColumn("Events", (_, r) => $"{r.Events:N0}"),
            new ManyFlowsColumn("Events/s", (_, r) => $"{r.Events / r.WallS / 1e6:0.00} M"),
            new ManyFlowsColumn("Data pkts/s", (_, r) => $"{r.DataPackets / r.WallS / 1e6:0.00} M"),
            new ManyFlowsColumn("B/flow live", (_, r) => $"{r.LiveBytesPerFlow:0}"),
            new ManyFlowsColumn("Peak heap MB", (_, r) => $"{r.PeakHeapBytes / 1e6:0}"),
            new ManyFlowsColumn("SYN retries", (_, r) => $"{r.SynRetries:N0}"),
            new ManyFlowsColumn("Never connected", (_, r) => $"{r.NeverConnected + r.StillConnecting:N0}"));
    }
}
