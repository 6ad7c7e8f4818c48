using BpfSim.Core.Workloads;
using System.Globalization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Reads a scenario file (YAML, DESIGN §5; docs/scenarios.md) into a <see cref="TcpScenarioSpec"/>, checking every
/// key, type, unit and range, and that each flow's algorithm exists. All problems are reported with file:line:column.
/// </summary>
public sealed partial class ScenarioParser
{
    private readonly string _file;
    private readonly ConsumerCatalog _catalog;
    private readonly IReadOnlyCollection<string> _algorithms;
    private readonly string _baseDirectory;
    private readonly List<ScenarioError> _errors = [];
    private static readonly SimTime s_maxTime = SimTime.FromSeconds(ScenarioLimits.MaxSeconds);

    /// <param name="file">The name used in messages.</param>
    /// <param name="algorithms">Built-in algorithm names.</param>
    /// <param name="baseDirectory">Where relative consumer paths are resolved.</param>
    public ScenarioParser(string file, ConsumerCatalog catalog, IReadOnlyCollection<string> algorithms, string baseDirectory)
    {
        _file = file;
        _catalog = catalog;
        _algorithms = algorithms;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Notes about what the file asked for that bpfsim reads but does not model (rt-app keys it ignores); printed with the run's notes.</summary>
    public IReadOnlyList<string> Notes => _notes;

    private readonly List<string> _notes = [];

    /// <summary>Reads a TCP scenario (<c>subsystem: tcp</c>, the default).</summary>
    /// <exception cref="ScenarioException">The file has problems, or is a scheduler scenario.</exception>
    public TcpScenarioSpec Parse(string text) => ParseAny(text) as TcpScenarioSpec
        ?? throw new ScenarioException([new ScenarioError(_file, 1, 1, "this is a subsystem: sched scenario; a TCP scenario was expected here")]);

    /// <summary>
    /// Reads a scenario of either subsystem: a <see cref="TcpScenarioSpec"/>, or a <see cref="SchedScenarioSpec"/> when
    /// the file says <c>subsystem: sched</c>.
    /// </summary>
    /// <exception cref="ScenarioException">The file has problems.</exception>
    public object ParseAny(string text)
    {
        // The guard refuses, without recursion, what would make YamlStream or a walk over its nodes crash.
        YamlGuard.Check(text, _file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw YamlGuard.Error(_file, e.Start, $"not valid YAML: {YamlGuard.Message(e)}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ScenarioException([new ScenarioError(_file, 1, 1, $"not valid YAML: {e.Message}")]);
        }
        if (stream.Documents.Count > 1)
        {
            // A second document would otherwise be ignored without a word.
            var second = stream.Documents[1].RootNode;
            throw new ScenarioException([new ScenarioError(_file, (int)second.Start.Line, (int)second.Start.Column,
                "a scenario file holds one YAML document; this is a second one (after '---')")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ScenarioException([new ScenarioError(_file, 1, 1,
                "a scenario is a mapping with keys such as seed, duration, network, flows (or subsystem: sched, cpus, tasks)")]);
        }
        if (SubsystemNode(root) is { Value: { } named } sub && named is not ("tcp" or "sched"))
        {
            // Which keys belong is unknown until the subsystem is: that is the one error to report.
            string hint = named.ToLowerInvariant() is "tcp" or "sched" ? $"; did you mean {named.ToLowerInvariant()}? (lower case)" : "";
            throw new ScenarioException([new ScenarioError(_file, (int)sub.Start.Line, (int)sub.Start.Column,
                $"unknown subsystem '{named}' (expected tcp or sched){hint}")]);
        }
        object spec = SubsystemOf(root) == "sched" ? ParseSchedRoot(root) : ParseRoot(root);
        if (_errors.Count > 0)
        {
            throw new ScenarioException(_errors);
        }
        return spec;
    }

    private void Error(YamlNode node, string message) =>
        _errors.Add(new ScenarioError(_file, (int)node.Start.Line, (int)node.Start.Column, message));

    private TcpScenarioSpec ParseRoot(YamlMappingNode root)
    {
        if (root.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == "components") is { } components)
        {
            // The one other YAML bpfsim reads: say which command takes it rather than list every key it lacks.
            Error(components, "this is an xdp-chain experiment file (components:), not a run scenario: run it with `bpfsim experiment xdp-chain FILE` (docs/multi-prog.md)");
            return new TcpScenarioSpec();
        }
        var keys = Keys(root, "the scenario", s_schedOnlyKeys, "seed", "duration", "subsystem", "hz", "network", "structops", "xdp", "flows", "sample_interval",
            "receiver_cc", "ecn", "tcp_recovery", "tcp_frto", "tso", "gro", "measure_from", "measure_to", "fct_bins",
            "timeseries_flows");
        var spec = new TcpScenarioSpec();
        if (Hz(keys) is { } hz)
        {
            spec = spec with { Hz = (uint)hz };
        }
        if (keys.TryGetValue("seed", out var seedNode) && Scalar(seedNode, "seed") is { } seedText)
        {
            if (ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed))
            {
                spec = spec with { Seed = seed };
            }
            else
            {
                Error(seedNode, $"seed: '{seedText}' is not a non-negative whole number");
            }
        }
        if (Time(keys, "duration", positive: true) is { } duration)
        {
            spec = spec with { Duration = duration };
        }
        if (Time(keys, "sample_interval", positive: true, minNs: ScenarioLimits.MinSampleIntervalNs) is { } interval)
        {
            spec = spec with { SampleInterval = interval };
        }
        if (Integer(keys, "timeseries_flows", 0, ScenarioLimits.MaxCount) is { } sampledFlows)
        {
            spec = spec with { TimeSeriesFlows = sampledFlows };
        }
        spec = ParseMeasurement(keys, spec);
        if (keys.TryGetValue("receiver_cc", out var rcvNode) && Scalar(rcvNode, "receiver_cc") is { } receiverCc)
        {
            // The receiving hosts are other machines: only their built-in algorithms are modelled.
            if (_algorithms.Contains(receiverCc))
            {
                spec = spec with { ReceiverCc = receiverCc };
            }
            else
            {
                Error(rcvNode, $"receiver_cc must be a built-in algorithm ({string.Join(", ", _algorithms)}), not '{receiverCc}'");
            }
        }
        if (Integer(keys, "ecn", 0) is { } ecn)
        {
            if (ecn > 2)
            {
                Error(keys["ecn"], $"ecn is net.ipv4.tcp_ecn: 0, 1 or 2, not {ecn}");
            }
            else
            {
                spec = spec with { Ecn = (int)ecn };
            }
        }
        if (Integer(keys, "tcp_recovery", 0) is { } recovery)
        {
            if (recovery > 7)
            {
                Error(keys["tcp_recovery"], $"tcp_recovery is net.ipv4.tcp_recovery: a bit mask of 1 (RACK-TLP), 2 (static reordering window) and 4 (no dupthresh), 0 to 7, not {recovery}");
            }
            else
            {
                spec = spec with { Recovery = (int)recovery };
            }
        }
        if (Integer(keys, "tcp_frto", 0) is { } frto)
        {
            if (frto > 2)
            {
                Error(keys["tcp_frto"], $"tcp_frto is net.ipv4.tcp_frto: 0, 1 or 2, not {frto}");
            }
            else
            {
                spec = spec with { Frto = (int)frto };
            }
        }
        // Segmentation and receive offload of the hosts' devices (TcpStackOptions.Tso, .Gro).
        if (Bool(keys, "tso") is { } tso)
        {
            spec = spec with { Tso = tso };
        }
        if (Bool(keys, "gro") is { } gro)
        {
            spec = spec with { Gro = gro };
        }
        if (keys.TryGetValue("subsystem", out var sub))
        {
            Scalar(sub, "subsystem"); // a mapping or a list there is an error; a name other than tcp was refused before
        }
        if (keys.TryGetValue("network", out var net))
        {
            spec = spec with { Network = ParseNetwork(net, spec.Duration) };
        }
        var consumers = new HashSet<string>(StringComparer.Ordinal);
        if (keys.TryGetValue("structops", out var so))
        {
            spec = spec with { StructOps = ParseStructOps(so, consumers) };
        }
        if (keys.TryGetValue("xdp", out var xdp))
        {
            spec = spec with { Xdp = ParseXdp(xdp, spec) };
        }
        if (keys.TryGetValue("flows", out var flows))
        {
            spec = spec with { Flows = ParseFlows(flows, spec, consumers) };
            CheckXdpHosts(spec);
        }
        else
        {
            Error(root, "a scenario needs flows (see docs/scenarios.md)");
        }
        return spec;
    }

    private NetworkSpec ParseNetwork(YamlNode node, SimTime duration)
    {
        var spec = new NetworkSpec();
        if (node is not YamlMappingNode map)
        {
            Error(node, "network must be a mapping");
            return spec;
        }
        var keys = Keys(map, "network", "topology", "hops", "bottleneck", "access");
        if (keys.TryGetValue("topology", out var topo) && Scalar(topo, "topology") is { } t)
        {
            switch (t)
            {
                case "dumbbell":
                    break;
                case "parking_lot":
                    spec = spec with { Topology = TopologyKind.ParkingLot };
                    break;
                default:
                    Error(topo, $"unknown topology '{t}' (expected dumbbell or parking_lot)");
                    break;
            }
        }
        if (Integer(keys, "hops", 1, ScenarioLimits.MaxHops) is { } hops)
        {
            if (spec.Topology != TopologyKind.ParkingLot)
            {
                Error(keys["hops"], "hops applies to topology parking_lot only");
            }
            spec = spec with { Hops = hops };
        }
        if (keys.TryGetValue("bottleneck", out var b))
        {
            if (b is not YamlMappingNode bmap)
            {
                Error(b, "bottleneck must be a mapping");
            }
            else
            {
                var bk = Keys(bmap, "bottleneck", "rate", "delay", "loss", "queue", "mahimahi", "mahimahi_up", "changes");
                spec = spec with
                {
                    BottleneckRateBps = Rate(bk, "rate") ?? spec.BottleneckRateBps,
                    BottleneckDelay = Time(bk, "delay") ?? spec.BottleneckDelay,
                    BottleneckLoss = Number(bk, "loss", 0, 1) ?? 0,
                };
                if (bk.TryGetValue("queue", out var q))
                {
                    spec = spec with { Queue = ParseQueue(q) };
                }
                spec = ParseChangingLinks(bk, spec, duration);
            }
        }
        if (keys.TryGetValue("access", out var a))
        {
            if (a is not YamlMappingNode amap)
            {
                Error(a, "access must be a mapping");
            }
            else
            {
                var ak = Keys(amap, "access", "rate", "delay");
                spec = spec with { AccessRateBps = Rate(ak, "rate") ?? spec.AccessRateBps, AccessDelay = Time(ak, "delay") ?? spec.AccessDelay };
            }
        }
        return spec;
    }

    private List<StructOpsEntry> ParseStructOps(YamlNode node, HashSet<string> consumers)
    {
        var list = new List<StructOpsEntry>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "structops must be a list of { program: NAME|PATH.dll|PATH.bpf.o, at: TIME, unregister_at: TIME }");
            return list;
        }
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each structops entry must be a mapping");
                continue;
            }
            var keys = Keys(map, "a structops entry", "program", "map", "at", "unregister_at", "replace", "globals");
            if (!keys.TryGetValue("program", out var programNode) || Scalar(programNode, "program") is not { } program)
            {
                if (!keys.ContainsKey("program"))
                {
                    Error(map, "a structops entry needs program");
                }
                continue;
            }
            var at = Time(keys, "at");
            var unregisterAt = Time(keys, "unregister_at");
            if (!keys.ContainsKey("at") && !keys.ContainsKey("unregister_at"))
            {
                Error(map, "a structops entry needs at (register) or unregister_at (or both)");
            }
            if (at is { } a && unregisterAt is { } u && u <= a)
            {
                Error(keys["unregister_at"], "unregister_at must be after at");
            }
            string resolved = program;
            IReadOnlyList<ConsumerInfo> found = [];
            if (_catalog.Find(program) is { } info)
            {
                found = [info];
            }
            else if (ConsumerFiles.IsPath(program))
            {
                try
                {
                    resolved = Path.GetFullPath(Path.Combine(_baseDirectory, program));
                    found = ConsumerFiles.LoadInto(_catalog, resolved);
                }
                catch (Exception e) when (e is ConsumerLoadException or ArgumentException or IOException or NotSupportedException)
                {
                    Error(programNode, e.Message);
                }
            }
            else
            {
                Error(programNode, $"unknown consumer '{program}' (known: {string.Join(", ", _catalog.All.Select(c => c.Name))}; or give a path to a .dll or a .bpf.o)");
            }
            if (keys.TryGetValue("map", out var mapNode) && Scalar(mapNode, "map") is { } mapName && found.Count > 0)
            {
                var picked = PickMap(found, mapName, program, mapNode);
                if (picked.Count == 0)
                {
                    // The map: error is the one to report: flows naming the program's algorithms are not refused too.
                    consumers.UnionWith(found.Select(c => c.Algorithm));
                }
                found = picked;
            }
            if (found.Count > 0 && found.All(c => c.Kind == ConsumerKind.Xdp))
            {
                Error(programNode, ConsumerFiles.IsPath(program)
                    ? $"{program} holds only XDP programs ({string.Join(", ", found.Select(c => c.Name))}): they belong in xdp: (with an interface)"
                    : $"{program} is an XDP program, not a struct_ops consumer: it belongs in xdp: (with an interface)");
            }
            // A .dll may hold XDP programs beside its struct_ops consumers: structops: takes only the latter.
            found = found.Where(c => c.Kind != ConsumerKind.Xdp).ToList();
            foreach (var c in found.Where(c => c.StructOpsType == SchedExtOpsType))
            {
                Error(programNode, $"{c.Name} is a sched_ext_ops scheduler: it belongs in a subsystem: sched scenario (with cpus and tasks)");
            }
            foreach (var c in found)
            {
                // Built-in names are taken in every kernel: tcp_register_congestion_control would say EEXIST at `at`.
                if (at is not null && _algorithms.Contains(c.Algorithm))
                {
                    Error(programNode, $"{c.Name} registers '{c.Algorithm}', the name of a built-in algorithm: the kernel would refuse it (EEXIST)");
                }
                consumers.Add(c.Algorithm);
            }
            var names = found.Select(c => c.Name).ToList();
            if (unregisterAt is not null && at is null &&
                !list.Any(e => (e.At is not null && e.Consumers.Intersect(names).Any()) || (e.Replace is { } r && names.Contains(r))))
            {
                Error(map, $"'{program}' is unregistered at {unregisterAt} but no earlier entry registers it: give this entry at: to register it");
            }
            string? replace = null;
            if (keys.TryGetValue("replace", out var replaceNode) && Scalar(replaceNode, "replace") is { } replaced)
            {
                var target = list.FirstOrDefault(e => e.At is not null && e.Consumers.Contains(replaced));
                var mine = found.Count == 1 ? found[0] : null;
                var theirs = _catalog.Find(replaced);
                if (target is null || theirs is null)
                {
                    Error(replaceNode, $"replace: '{replaced}' is not registered by an earlier structops entry");
                }
                else if (found.Count > 1)
                {
                    Error(replaceNode, $"replace swaps one consumer into a link, and {program} holds {found.Count}: pick one with map:");
                }
                else if (mine is null || !mine.Link || !theirs.Link)
                {
                    Error(replaceNode, $"replace needs two link-mode consumers (Link = true); {(mine is { Link: true } ? replaced : program)} is not one");
                }
                else if (mine.Algorithm != theirs.Algorithm)
                {
                    Error(replaceNode, $"a link update keeps the algorithm's name: {program} registers '{mine.Algorithm}', {replaced} '{theirs.Algorithm}'");
                }
                else if (at is null || target.At >= at)
                {
                    Error(replaceNode, $"replace needs at, after {replaced} is registered");
                }
                replace = replaced;
            }
            var globals = keys.TryGetValue("globals", out var globalsNode) ? ParseGlobals(globalsNode, found) : [];
            list.Add(new StructOpsEntry
            {
                Program = resolved, At = at, UnregisterAt = unregisterAt, Replace = replace, Consumers = names,
                Location = $"{_file}:{map.Start.Line}:{map.Start.Column}", Globals = globals,
            });
        }
        return list;
    }

    /// <summary>
    /// The consumer <c>map:</c> names among those of an entry's program: by catalog name, else by the name it
    /// registers (its struct_ops map's name) when only one has it.
    /// </summary>
    private IReadOnlyList<ConsumerInfo> PickMap(IReadOnlyList<ConsumerInfo> found, string name, string program, YamlNode node)
    {
        var byId = found.Where(c => c.Name == name).ToList();
        var picked = byId.Count > 0 ? byId : found.Where(c => c.Algorithm == name).ToList();
        if (picked.Count == 1)
        {
            return picked;
        }
        Error(node, picked.Count == 0
            ? $"map: {program} has no consumer '{name}' (it has: {string.Join(", ", found.Select(c => c.Name))})"
            : $"map: '{name}' is the name of {picked.Count} consumers of {program}; use one of {string.Join(", ", picked.Select(c => c.Name))}");
        return [];
    }

    private List<FlowSpec> ParseFlows(YamlNode node, TcpScenarioSpec scenario, HashSet<string> consumers)
    {
        var list = new List<FlowSpec>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "flows must be a list, e.g. - { count: 2, cc: cubic, start: 0s }");
            return list;
        }
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each flow entry must be a mapping");
                continue;
            }
            var keys = Keys(map, "a flow", "count", "cc", "start", "stop", "size", "access_delay", "arrivals", "rate", "from", "to", "burst", "interval", "stagger");
            var flow = new FlowSpec
            {
                Count = Integer(keys, "count", 1, ScenarioLimits.MaxCount) ?? 1,
                Start = Time(keys, "start") ?? SimTime.Zero,
                Stagger = Time(keys, "stagger") ?? SimTime.Zero,
                Stop = Time(keys, "stop"),
                SizeBytes = Size(keys, "size"),
                AccessDelay = Time(keys, "access_delay"),
                FromRouter = Integer(keys, "from", 0, ScenarioLimits.MaxHops),
                ToRouter = Integer(keys, "to", 1, ScenarioLimits.MaxHops),
            };
            if (keys.TryGetValue("cc", out var ccNode) && Scalar(ccNode, "cc") is { } cc)
            {
                if (!_algorithms.Contains(cc) && !consumers.Contains(cc))
                {
                    Error(ccNode, _catalog.All.Any(c => c.Algorithm == cc)
                        ? $"flow uses consumer '{cc}', which no structops entry registers"
                        : $"unknown congestion control '{cc}' (built-in: {string.Join(", ", _algorithms)}; registered by structops: {(consumers.Count == 0 ? "none" : string.Join(", ", consumers))})");
                }
                flow = flow with { Cc = cc };
            }
            if (keys.TryGetValue("arrivals", out var arr) && Scalar(arr, "arrivals") is { } arrivals)
            {
                if (arrivals != "poisson")
                {
                    Error(arr, $"unknown arrivals '{arrivals}' (expected poisson)");
                }
                else
                {
                    flow = flow with { Arrivals = ArrivalKind.Poisson };
                    if (Number(keys, "rate", 0, ScenarioLimits.MaxArrivalRate, minExclusive: true) is { } rate)
                    {
                        flow = flow with { Rate = rate };
                    }
                    else if (!keys.ContainsKey("rate"))
                    {
                        Error(map, "poisson arrivals need rate (flows per second)");
                    }
                    if (flow.SizeBytes is null)
                    {
                        Error(map, "poisson arrivals need size (each arriving flow sends that much)");
                    }
                    if (keys.ContainsKey("count"))
                    {
                        Error(keys["count"], "count does not apply to poisson arrivals");
                    }
                    if (keys.ContainsKey("stagger"))
                    {
                        Error(keys["stagger"], "stagger does not apply to poisson arrivals (their start times are random)");
                    }
                }
            }
            else if (keys.ContainsKey("rate"))
            {
                Error(keys["rate"], "rate applies to arrivals: poisson only");
            }
            long? burst = Size(keys, "burst");
            SimTime? interval = Time(keys, "interval", minNs: ScenarioLimits.MinWriteIntervalNs);
            if (burst is { } b && interval is { } every)
            {
                if (every <= SimTime.Zero)
                {
                    Error(keys["interval"], "interval must be more than 0");
                }
                else if (flow.Arrivals == ArrivalKind.Poisson)
                {
                    Error(keys["burst"], "burst and interval do not apply to poisson arrivals (each arriving flow sends its size at once)");
                }
                else
                {
                    flow = flow with { Writes = new TcpWritePattern(b, every) };
                }
            }
            else if (keys.ContainsKey("burst") != keys.ContainsKey("interval"))
            {
                Error(keys.TryGetValue("burst", out var only) ? only : keys["interval"], "burst and interval go together: the application writes burst bytes every interval");
            }
            // Saturating: a stagger near the time limit times a large count must not wrap around.
            SimTime lastStart = flow.Arrivals != ArrivalKind.Fixed || flow.Count <= 1 || flow.Stagger == SimTime.Zero ? flow.Start
                : flow.Stagger.Nanoseconds > (long.MaxValue - flow.Start.Nanoseconds) / (flow.Count - 1) ? new SimTime(long.MaxValue)
                : flow.Start + flow.Stagger * (flow.Count - 1);
            if (flow.Stop is { } stop && stop <= lastStart)
            {
                Error(keys["stop"], lastStart == flow.Start
                    ? $"stop ({stop}) must be after start ({flow.Start})"
                    : $"stop ({stop}) must be after the group's last start ({lastStart}: start + (count - 1) × stagger)");
            }
            if (lastStart != flow.Start && lastStart >= scenario.Duration && flow.Start < scenario.Duration)
            {
                Error(keys["stagger"], lastStart.Nanoseconds == long.MaxValue
                    ? $"the group's last flow would start long after the end of the run ({scenario.Duration}): start + (count - 1) × stagger"
                    : $"the group's last flow would start at {lastStart} (start + (count - 1) × stagger), not before the end of the run ({scenario.Duration})");
            }
            if (flow.Start >= scenario.Duration)
            {
                Error(keys.TryGetValue("start", out var s) ? s : map, $"start ({flow.Start}) is not before the end of the run ({scenario.Duration})");
            }
            if (scenario.Network.Topology == TopologyKind.ParkingLot)
            {
                int from = flow.FromRouter ?? 0, to = flow.ToRouter ?? scenario.Network.Hops;
                if (to <= from || to > scenario.Network.Hops)
                {
                    Error(map, $"from/to must satisfy 0 <= from < to <= hops ({scenario.Network.Hops}); got {from}..{to}");
                }
            }
            else if (keys.ContainsKey("from") || keys.ContainsKey("to"))
            {
                Error(keys.TryGetValue("from", out var f) ? f : keys["to"], "from/to apply to topology parking_lot only");
            }
            list.Add(flow);
        }
        if (list.Count == 0 && node is YamlSequenceNode { Children.Count: 0 })
        {
            Error(node, "flows is empty"); // entries that were there but wrong are reported each at its own line
        }
        return list;
    }
}
