using BpfSim.Core.Workloads;
using System.Diagnostics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Runs a <see cref="TcpScenarioSpec"/> in a fresh simulated kernel: builds the topology, loads and registers the
/// struct_ops consumers at their times, opens flows at their start times (setsockopt of the requested algorithm; if it
/// is not available then, the socket keeps the default, as in the kernel), samples time series, and summarises.
/// </summary>
public sealed partial class TcpScenarioRunner
{
    private readonly TcpScenarioSpec _spec;
    private readonly BpfSystem _bpf;
    private readonly ConsumerCatalog _catalog;
    private readonly Network _net;
    private readonly TcpStack _stack;
    private readonly Func<IPacketSink, IPacketSink, SimTime?, int?, int?, FlowPath> _connect;
    private readonly IReadOnlyList<Link> _watched;
    private readonly List<OpenedFlow> _flows = [];
    private readonly StructOpsActions _actions;
    private readonly XdpActions _xdp;
    private readonly List<string> _notes = [];
    private readonly List<ConsumerFault> _faults = [];
    private readonly TcpSampler _sampler;
    private readonly WindowMeter _meter;
    private readonly TcpCongestionOpsType _type;
    private readonly IReadOnlyList<ITcpRunObserver> _observers;

    /// <param name="bpf">A fresh system with the tcp_congestion_ops type registered.</param>
    /// <exception cref="InvalidOperationException">The system has no tcp_congestion_ops type.</exception>
    /// <param name="observers">Watch the run from the inside (traces, pcaps); they never change it.</param>
    public TcpScenarioRunner(TcpScenarioSpec spec, BpfSystem bpf, ConsumerCatalog catalog, IReadOnlyList<ITcpRunObserver>? observers = null)
    {
        _observers = observers ?? [];
        _spec = spec;
        _bpf = bpf;
        _catalog = catalog;
        var type = bpf.FindStructOpsType(TcpCongestionOpsType.TypeName) as TcpCongestionOpsType
            ?? throw new InvalidOperationException("the TCP subsystem is not added to this BpfSystem");
        // Hosts' nodes and ports serve only the packet hooks, which xdp: entries attach.
        _net = new Network(bpf.Simulator, spec.Seed, packetCapacity: 1 << 14) { HostPorts = spec.Xdp.Count > 0 };
        var n = spec.Network;
        Func<SimRandom, QueueDiscipline> queue = random => QueueFactory.Create(n.Queue, random, spec.Hz);
        LossModel loss = n.BottleneckLoss > 0 ? new BernoulliLoss(n.BottleneckLoss) : LossModel.None;
        if (n.Topology == TopologyKind.ParkingLot)
        {
            var lot = new ParkingLot(_net, new ParkingLotOptions
            {
                Hops = n.Hops, HopRateBps = n.BottleneckRateBps, HopDelay = n.BottleneckDelay, HopQueue = queue,
                AccessRateBps = n.AccessRateBps, AccessDelay = n.AccessDelay, HopTrace = n.Mahimahi, HopReverseTrace = n.MahimahiUp,
            });
            _connect = (s, r, delay, from, to) => lot.AddFlow(s, r, from ?? 0, to ?? n.Hops, delay);
            _watched = lot.Hops;
            ScheduleChanges(n.Changes, lot.Hops, lot.ReverseHops);
        }
        else
        {
            var bell = new Dumbbell(_net, new DumbbellOptions
            {
                BottleneckRateBps = n.BottleneckRateBps, BottleneckDelay = n.BottleneckDelay, BottleneckQueue = queue,
                BottleneckLoss = loss, AccessRateBps = n.AccessRateBps, AccessDelay = n.AccessDelay,
                BottleneckTrace = n.Mahimahi, BottleneckReverseTrace = n.MahimahiUp,
            });
            _connect = (s, r, delay, _, _) => bell.AddFlow(s, r, delay);
            _watched = [bell.Bottleneck];
            ScheduleChanges(n.Changes, [bell.Bottleneck], [bell.BottleneckReverse]);
        }
        _stack = new TcpStack(_net, type.Registry, new TcpStackOptions
        {
            Hz = spec.Hz, ReceiverCc = spec.ReceiverCc, Ecn = spec.Ecn, Recovery = spec.Recovery, Frto = spec.Frto, Tso = spec.Tso, Gro = spec.Gro,
        }, bpf);
        foreach (var link in _watched)
        {
            link.RecordQueueDelay();
            if (link.Queue is FqQueue fq)
            {
                fq.AttachSockets(_stack); // skb->sk: fq reads the senders' pacing rates and sets SK_PACING_FQ
            }
        }
        _sampler = new TcpSampler(bpf.Simulator, _stack, _watched, spec.SampleInterval, spec.TimeSeriesFlows);
        _meter = new WindowMeter(bpf.Simulator, _stack, _watched, spec.Window);
        _stack.RecordOneWayDelay(spec.Window);
        _actions = new StructOpsActions(bpf, catalog, _notes);
        if (spec.Xdp.Count > 0)
        {
            _net.AttachKernel(bpf); // interfaces become net devices; without xdp: entries a hop costs one null check
        }
        _xdp = new XdpActions(bpf, _net, _notes);
        _type = type;
        // A fault is handled after the call that caused it has returned to the stack, at the same instant, as
        // sched_ext disables a scheduler from a work item after scx_ops_error.
        type.ConsumerFaulted += guard => bpf.Simulator.Schedule(bpf.Simulator.Now, () => Eject(guard));
        type.CwndWarning += (guard, member, cwnd) => _notes.Add(
            $"t={bpf.Simulator.Now}: {guard.Consumer}.{member} set snd_cwnd to {(int)cwnd}: the kernel's tcp_snd_cwnd_set would " +
            "WARN_ON_ONCE((int)val <= 0) (include/net/tcp.h); a flow with no window sends nothing until it grows");
    }

    /// <summary>
    /// Schedules the bottleneck's changes on each of its links: rate (on fixed-rate directions) and delay on both
    /// directions, loss on the data direction, as the keys <c>rate</c>, <c>delay</c> and <c>loss</c> apply.
    /// </summary>
    private void ScheduleChanges(IReadOnlyList<LinkChange> changes, IReadOnlyList<Link> forward, IReadOnlyList<Link> reverse)
    {
        foreach (var change in changes)
        {
            foreach (var link in forward)
            {
                _net.ScheduleChange(link, link.Trace is null ? change : change with { RateBps = null });
            }
            foreach (var link in reverse)
            {
                _net.ScheduleChange(link, change with { RateBps = link.Trace is null ? change.RateBps : null, Loss = null });
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="spec"/> in fresh kernels from <paramref name="kernel"/> under a <see cref="ContainedRun"/>
    /// watchdog: a consumer call that exceeds <paramref name="callBudget"/> (default 1 s) is abandoned and the run
    /// replayed with that consumer ejected at that call.
    /// </summary>
    /// <param name="abandoned">Told about each hung call before the replay starts.</param>
    /// <param name="observers">
    /// Made afresh for each attempt (a replay starts a new run, so a trace or pcap starts again from nothing).
    /// </param>
    public static TcpRunResult RunContained(TcpScenarioSpec spec, Func<BpfSystem> kernel, ConsumerCatalog catalog, Action<double>? progress = null,
        TimeSpan? callBudget = null, Action<ConsumerGuard, long>? abandoned = null, Func<IReadOnlyList<ITcpRunObserver>>? observers = null) =>
        ContainedRun.Run(refuse =>
        {
            var runner = new TcpScenarioRunner(spec, kernel(), catalog, observers?.Invoke());
            foreach (var (ordinal, call) in refuse)
            {
                var abandoned = ordinal >= XdpActions.GuardOrdinalBase ? runner._xdp.AbandonedCalls : runner._type.AbandonedCalls;
                abandoned[ordinal] = call;
            }
            return new ContainedAttempt<TcpRunResult>(() => runner.Run(progress), () => [.. runner._type.Guards, .. runner._xdp.Guards]);
        }, callBudget ?? ContainedRun.DefaultCallBudget, abandoned);

    /// <summary>Runs the scenario to its duration and returns the summary. <paramref name="progress"/> gets the fraction done.</summary>
    public TcpRunResult Run(Action<double>? progress = null)
    {
        var sim = _bpf.Simulator;
        var wall = Stopwatch.StartNew();
        _actions.Schedule(_spec.StructOps);
        _xdp.Schedule(_spec.Xdp);
        int group = 0;
        foreach (var flow in _spec.Flows)
        {
            ScheduleGroup(flow, group++);
        }
        _sampler.Start(SimTime.Zero);
        _meter.Start(_spec.Duration);
        _notes.AddRange(StructOpsEntry.PastTheEnd(_spec.StructOps, _spec.Duration));
        for (int g = 0; g < _spec.Flows.Count; g++)
        {
            // As for struct_ops entries: only a --duration shorter than the file's can leave a group past the end.
            var flow = _spec.Flows[g];
            if (flow.Start >= _spec.Duration)
            {
                _notes.Add($"flows entry {g + 1} ({flow.Cc ?? "the default cc"}) starts at {flow.Start}, not before the end of the run ({_spec.Duration}): none of its flows opened");
            }
        }
        if (_spec.MeasureTo > _spec.Duration || _spec.MeasureFrom >= _spec.Duration)
        {
            // Only a --duration shorter than the file's can do this: the parser refuses a window outside the run.
            _notes.Add($"the measurement window ({_spec.MeasureFrom ?? SimTime.Zero} to {_spec.MeasureTo ?? _spec.Duration}) ends after the run " +
                $"({_spec.Duration}): measured over {_meter.Window.From} to {_meter.Window.To}" +
                (_meter.Window.From == _meter.Window.To ? ", an empty window: the window metrics are 0" : ""));
        }
        if (_observers.Count > 0)
        {
            var context = new TcpRunContext(_spec, _bpf, _net, _stack, _watched);
            foreach (var observer in _observers)
            {
                observer.Attach(context);
            }
        }
        long before = sim.EventsDispatched;
        var end = _spec.Duration;
        const int steps = 50;
        for (int i = 1; i <= steps; i++)
        {
            sim.RunUntil(new SimTime(end.Nanoseconds / steps * i));
            progress?.Invoke(i / (double)steps);
        }
        sim.RunUntil(end);
        long events = sim.EventsDispatched - before;
        if (_flows.Count > _sampler.FlowLimit)
        {
            _notes.Add($"time series sample the first {_sampler.FlowLimit} of {_flows.Count} flows (timeseries_flows); the summary and flows.csv have every flow");
        }
        _net.FinishAccounting();
        _meter.Finish();
        foreach (var observer in _observers)
        {
            observer.Finish(end);
        }
        var flows = Summarise(end);
        var links = SummariseLinks();
        var fct = FctSamples(flows);
        var algorithms = ByAlgorithm(flows);
        var dump = new System.Text.Json.Nodes.JsonArray();
        foreach (var map in _bpf.StructOpsMaps)
        {
            foreach (var node in BpftoolJson.StructOpsDump(map))
            {
                dump.Add(node!.DeepClone());
            }
        }
        var programs = Core.Ebpf.Loading.ProgramStats.Of(ConsumerLoading.Objects(_bpf).Concat(_xdp.Objects));
        // A scenario attaches packet programs through its xdp: entries only; without any, their results are empty,
        // and building them anyway (LINQ over every interface, compiled at first use) cost some 6 ms of every run.
        bool withXdp = _spec.Xdp.Count > 0;
        var xdp = withXdp ? _xdp.Results() : [];
        var xdpMaps = withXdp ? _xdp.Maps() : [];
        if (withXdp)
        {
            _notes.AddRange(_xdp.FaultNotes());
        }
        // End of the run: sockets close and the loader's fds go, so what is unregistered can be freed.
        _stack.CloseAll();
        sim.RunUntil(sim.Now); // a consumer that faulted in release is ejected while its loader's fds are still open
        _actions.Dispose();
        sim.RunUntil(end + SimTime.FromMilliseconds(20)); // one grace period for the frees
        return new TcpRunResult
        {
            Flows = flows,
            Links = links,
            Fairness = new FairnessResult(Math.Round(Fairness.Jain(flows.Where(f => f.WindowActiveSeconds > 0).Select(f => f.WindowGoodputMbps).ToList()), 4)),
            StructOps = _bpf.StructOpsHistory.Select(StructOpsSummary.From).ToList(),
            Events = events,
            SimSeconds = end.TotalSeconds,
            WallSeconds = wall.Elapsed.TotalSeconds,
            Samples = _sampler,
            StructOpsDump = dump,
            Notes = _notes,
            // Ordered by time; a load fault and an ejection at the same instant keep the order they happened in.
            Programs = programs,
            Trace = _bpf.Trace,
            Faults = _faults.Concat(_actions.LoadFaults.Select(f => f.Fault)).Concat(_xdp.Faults).OrderBy(f => f.Time).ToList(),
            Window = new WindowResult(_meter.Window.From.TotalSeconds, _meter.Window.To.TotalSeconds),
            ByAlgorithm = algorithms,
            Fct = FctGroups(fct),
            FctBins = FctBins(fct, _spec.FctBins),
            Handshake = HandshakeResult.Of(flows),
            FctSamples = fct,
            Pantheon = PantheonPoints(flows, algorithms),
            Xdp = withXdp ? xdp : null,
            XdpMaps = xdpMaps,
        };
    }

    /// <summary>
    /// Ejects a faulted consumer: its map is unregistered (delete of key 0, or the link detached) and the sockets
    /// using it move to the default algorithm. New flows asking for it then fall back as setsockopt fails.
    /// </summary>
    private void Eject(ConsumerGuard guard)
    {
        var fault = guard.Fault!;
        _faults.Add(fault);
        var loaded = guard.Map is null ? null : _actions.LoaderOf(guard.Map);
        string unregistered = "its map was no longer registered";
        if (loaded is not null)
        {
            _actions.MarkEjected(loaded);
            var r = loaded.Unregister();
            unregistered = r.IsOk ? $"map {loaded.Map.Id} unregistered ({loaded.Map.State.ShortName()})" : $"unregister failed: {r.Reason}";
        }
        var moved = _stack.MoveToDefault(guard);
        string to = moved.Count > 0 ? moved[0].Ops.Name : _type.Registry.Default.Name;
        _notes.Add($"{fault}: {guard.Consumer} ejected; {unregistered}; {moved.Count} flow(s) moved to {to}");
    }

    private void ScheduleGroup(FlowSpec flow, int group)
    {
        var sim = _bpf.Simulator;
        if (flow.Arrivals == ArrivalKind.Poisson)
        {
            // One arrival is pending at a time, each scheduling the next, so memory does not grow with the rate
            // times the window; arrivals end with the run even when stop is later.
            var random = SimRandom.For(_spec.Seed, $"arrivals:{group}");
            var stop = flow.Stop is { } s && s < _spec.Duration ? s : _spec.Duration;
            double t = flow.Start.TotalSeconds;
            void ScheduleNext()
            {
                t += random.NextExponential(1.0 / flow.Rate);
                var at = new SimTime((long)(t * 1e9));
                if (at < stop)
                {
                    sim.Schedule(at, () =>
                    {
                        OpenFlow(flow, group, stopAt: null);
                        ScheduleNext();
                    });
                }
            }
            ScheduleNext();
            return;
        }
        for (int i = 0; i < flow.Count; i++)
        {
            sim.Schedule(flow.Start + flow.Stagger * i, () => OpenFlow(flow, group, flow.Stop));
        }
    }

    private void OpenFlow(FlowSpec flow, int group, SimTime? stopAt)
    {
        var now = _bpf.Simulator.Now;
        var r = _stack.Open((s, rcv) => _connect(s, rcv, flow.AccessDelay, flow.FromRouter, flow.ToRouter), flow.Cc, now, out var conn,
            flow.SizeBytes ?? -1, stopAt, flow.Writes);
        if (!r.IsOk)
        {
            // setsockopt(TCP_CONGESTION) failed: the socket keeps the default algorithm.
            _notes.Add($"t={now}: flow {_flows.Count + 1}: {flow.Cc} is not available ({r.Errno}); it uses the default instead");
            _stack.Open((s, rcv) => _connect(s, rcv, flow.AccessDelay, flow.FromRouter, flow.ToRouter), null, now, out conn,
                flow.SizeBytes ?? -1, stopAt, flow.Writes).ThrowIfFailed();
        }
        var map = conn!.Ops.Owner?.Map;
        _flows.Add(new OpenedFlow(flow, conn, flow.Cc, group, (int?)map?.Id, map?.Name, map is null ? null : _actions.ProgramOf(map)));
        foreach (var observer in _observers)
        {
            observer.FlowOpened(conn!, flow, group);
        }
    }
}
