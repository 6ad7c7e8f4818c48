using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// One design on one scenario: a simulated kernel with one interface, a packet source at its hook, and one actor per
/// component executing its timeline through the design's client, each call taking its modelled latency.
/// </summary>
internal sealed partial class XdpChainRun : IEventHandler
{
    private const int KindPacket = 0;
    private const int KindActionDue = 1;
    private const int KindResume = 2;

    private readonly XdpChainScenario _scenario;
    private readonly XdpChainDesign _design;
    private readonly BpfSystem _bpf;
    private readonly NetDevice _device;
    private readonly HandlerId _handler;
    private readonly ComponentActor[] _actors;
    private readonly ChainClient _client;
    private readonly ComponentExpectation[] _expected;
    private readonly List<double> _updateMs = [];
    private int _updates;
    private int _failedUpdates;
    private SimTime _start;
    private SimTime _end;

    public XdpChainRun(XdpChainScenario scenario, XdpChainDesign design)
    {
        scenario.Validate();
        _scenario = scenario;
        _design = design;
        _bpf = new BpfSystem(new BpfSystemOptions { Cpus = 1 });
        _device = _bpf.AddNetDevice("eth0");
        _handler = _bpf.Simulator.Register(this);
        _actors = scenario.Components
            .Select((c, i) => new ComponentActor(i, c, SimRandom.For(scenario.Seed, $"xdp-chain/{design.Name()}/{c.Name}")))
            .ToArray();
        _expected = new ComponentExpectation[_actors.Length];
        var identities = new ChainProgramIdentities(scenario.Components);
        var context = new ChainRunContext(_bpf, _device, scenario, _actors, identities);
        _client = design switch
        {
            XdpChainDesign.ChainCallMap => new ChainCallMapClient(context),
            XdpChainDesign.Libxdp => new LibxdpClient(context),
            _ => new MprogClient(context),
        };
        _observer = new ChainPacketObserver(identities, scenario.Components);
        _checker = new ChainOrderChecker(scenario.Components.Select(c => c.Priority).ToArray());
        _bucketNs = Math.Max(1, scenario.Duration.Nanoseconds / Buckets);
        _frame = BuildFrame();
    }

    /// <summary>The kernel of the run, for tests that look at what ended up attached.</summary>
    public BpfSystem Bpf => _bpf;

    public NetDevice Device => _device;

    /// <summary>The run's packet observer, for tests that run packets after <see cref="Execute"/>.</summary>
    public IPacketProgramObserver Observer => _observer;

    /// <summary>Runs the scenario to its end and returns what it measured.</summary>
    public XdpChainResult Execute()
    {
        _client.Setup();
        var sim = _bpf.Simulator;
        _start = sim.Now;
        _end = _start + _scenario.Duration;
        _bpf.PacketObserver = _observer;
        foreach (var actor in _actors)
        {
            if (actor.Spec.Timeline.Count > 0)
            {
                var at = _start + actor.Spec.Timeline[0].At;
                if (at < _end)
                {
                    sim.Schedule(at, _handler, KindActionDue, actor.Index);
                }
            }
        }
        sim.Schedule(_start, _handler, KindPacket);
        sim.RunUntil(_end);
        // Actions still in progress at the end finish (no more packets), so their latency is counted.
        _stopPackets = true;
        sim.RunUntil(SimTime.MaxValue);
        _bpf.PacketObserver = null;
        return Result();
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        switch (kind)
        {
            case KindPacket:
                OnPacket();
                break;
            case KindActionDue:
                OnActionDue(_actors[arg]);
                break;
            case KindResume:
                Advance(_actors[arg]);
                break;
        }
    }

    private void OnActionDue(ComponentActor actor)
    {
        if (actor.Steps is null)
        {
            BeginNext(actor);
        }
        // Otherwise the action in progress starts the next one when it completes.
    }

    private void BeginNext(ComponentActor actor)
    {
        var timeline = actor.Spec.Timeline;
        if (actor.NextAction >= timeline.Count || _start + timeline[actor.NextAction].At > _bpf.Simulator.Now)
        {
            return;
        }
        var action = timeline[actor.NextAction++];
        if (_start + action.At >= _end)
        {
            return;
        }
        if (Effective(actor, action) is not { } effective)
        {
            // Nothing to do (an earlier action failed and left the component where this one wants it): go on.
            ScheduleNext(actor);
            return;
        }
        action = effective;
        actor.Current = action;
        actor.ActionBegan = _bpf.Simulator.Now;
        actor.Failure = null;
        actor.RetriesAtActionStart = actor.Retries;
        _expected[actor.Index] = action.Kind switch
        {
            ComponentActionKind.Start => ComponentExpectation.Starting(action.Version),
            ComponentActionKind.Replace => ComponentExpectation.Replacing(actor.Version, action.Version),
            _ => ComponentExpectation.Stopping(actor.Version),
        };
        Trace?.Add($"{(_bpf.Simulator.Now - _start).TotalMilliseconds:0.000} {actor.Name} begins {action.Kind} {action.Version}");
        actor.Steps = _client.Run(actor, action).GetEnumerator();
        Advance(actor);
    }

    /// <summary>Performs the call whose latency has passed and runs on to the next call, or completes the action.</summary>
    private void Advance(ComponentActor actor)
    {
        var steps = actor.Steps!;
        if (steps.MoveNext())
        {
            SimTime latency;
            if (steps.Current == SyscallKind.Sleep)
            {
                latency = actor.SleepFor; // a back-off or a blocked flock: time, not a call
            }
            else
            {
                actor.Syscalls++;
                latency = _scenario.Latency.Sample(steps.Current, actor.Random);
            }
            _bpf.Simulator.ScheduleIn(latency, _handler, KindResume, actor.Index);
            return;
        }
        steps.Dispose();
        actor.Steps = null;
        Complete(actor, actor.Current!);
        ScheduleNext(actor);
    }

    /// <summary>Begins the next timeline action now if it is due, or schedules it.</summary>
    private void ScheduleNext(ComponentActor actor)
    {
        var timeline = actor.Spec.Timeline;
        if (actor.NextAction < timeline.Count)
        {
            var next = _start + timeline[actor.NextAction].At;
            if (next <= _bpf.Simulator.Now)
            {
                BeginNext(actor);
            }
            else if (next < _end)
            {
                _bpf.Simulator.Schedule(next, _handler, KindActionDue, actor.Index);
            }
        }
    }

    /// <summary>
    /// The action as the component's state makes it: the timeline was written assuming every earlier action worked,
    /// so after a failed one a replace of a stopped component is a start, a start of a running one a replace (or
    /// nothing for the same version), and a stop of a stopped one nothing.
    /// </summary>
    private static ComponentActionSpec? Effective(ComponentActor actor, ComponentActionSpec action) => action.Kind switch
    {
        ComponentActionKind.Stop when actor.Version < 0 => null,
        ComponentActionKind.Replace when actor.Version < 0 => action with { Kind = ComponentActionKind.Start },
        ComponentActionKind.Start or ComponentActionKind.Replace when actor.Version == action.Version => null,
        ComponentActionKind.Start when actor.Version >= 0 => action with { Kind = ComponentActionKind.Replace },
        _ => action,
    };

    private void Complete(ComponentActor actor, ComponentActionSpec action)
    {
        Trace?.Add($"{(_bpf.Simulator.Now - _start).TotalMilliseconds:0.000} {actor.Name} ends {action.Kind} {action.Version} {actor.Failure}");
        if (actor.Failure is not null)
        {
            _failedUpdates++;
            string where = actor.Index < _scenario.ComponentLocations.Count ? $"{_scenario.ComponentLocations[actor.Index]}: " : "";
            _failures.Add($"{where}{actor.Name} {action.Kind.ToString().ToLowerInvariant()} at {action.At}: {actor.Failure}");
            // Nothing changed as far as the component knows: back to what was intended before.
            _expected[actor.Index] = actor.Version < 0 ? ComponentExpectation.Absent : ComponentExpectation.Attached(actor.Version);
            return;
        }
        _updates++;
        _updateMs.Add((_bpf.Simulator.Now - actor.ActionBegan).TotalMilliseconds);
        actor.Version = action.Kind == ComponentActionKind.Stop ? -1 : action.Version;
        _expected[actor.Index] = actor.Version < 0 ? ComponentExpectation.Absent : ComponentExpectation.Attached(actor.Version);
    }

    private readonly List<string> _failures = [];

    /// <summary>When set, receives a line per action begun and ended (for tests and debugging).</summary>
    public List<string>? Trace { get; set; }

    /// <summary>Actions that failed, with why.</summary>
    public IReadOnlyList<string> Failures => _failures;
}
