using System.Globalization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>The <c>subsystem: sched</c> form (DESIGN §5, docs/scenarios.md "CPU schedulers"): the machine and its schedulers.</summary>
public sealed partial class ScenarioParser
{
    /// <summary>The struct_ops type a scheduler scenario's consumers implement.</summary>
    public const string SchedExtOpsType = "sched_ext_ops";

    private const string SchedHint = "a subsystem: sched scenario has cpus and tasks instead (docs/scenarios.md)";
    private const string TcpHint = "add subsystem: sched for a CPU-scheduler scenario (this one is TCP, the default subsystem)";

    /// <summary>TCP keys, refused in a scheduler scenario with a word on why.</summary>
    private static readonly Dictionary<string, string> s_tcpOnlyKeys = new[] { "network", "flows", "receiver_cc", "ecn", "tcp_recovery", "tcp_frto", "tso", "gro", "timeseries_flows" }
        .ToDictionary(k => k, k => $"{k} is a key of TCP scenarios; {SchedHint}", StringComparer.Ordinal);

    /// <summary>Scheduler keys, refused in a TCP scenario (hz is a key of both).</summary>
    private static readonly Dictionary<string, string> s_schedOnlyKeys = new[] { "cpus", "tasks", "timeline_limit", "hotplug", "sched_features" }
        .ToDictionary(k => k, k => $"{k} is a key of scheduler scenarios; {TcpHint}", StringComparer.Ordinal);

    /// <summary>CONFIG_HZ's choices (kernel/Kconfig.hz).</summary>
    private static readonly int[] s_hzChoices = [100, 250, 300, 1000];

    /// <summary>The most timeline segments a run may keep for the report (each is 24 bytes).</summary>
    public const int MaxTimelineLimit = 10_000_000;

    private static string? SubsystemOf(YamlMappingNode root) => SubsystemNode(root)?.Value;

    /// <summary>The root's <c>subsystem:</c> value when it is a single value.</summary>
    private static YamlScalarNode? SubsystemNode(YamlMappingNode root) =>
        root.Children.FirstOrDefault(p => p.Key is YamlScalarNode { Value: "subsystem" }).Value is YamlScalarNode { Value: not null } v ? v : null;

    /// <summary>The <c>hz</c> key (CONFIG_HZ), of scheduler and TCP scenarios alike; a value Kconfig does not offer is an error at its line.</summary>
    private int? Hz(Dictionary<string, YamlNode> keys)
    {
        if (Integer(keys, "hz", 1) is not { } hz)
        {
            return null;
        }
        if (Array.IndexOf(s_hzChoices, hz) < 0)
        {
            Error(keys["hz"], $"hz is CONFIG_HZ: 100, 250, 300 or 1000, not {hz}");
            return null;
        }
        return hz;
    }

    private ulong? Seed(Dictionary<string, YamlNode> keys)
    {
        if (!keys.TryGetValue("seed", out var node) || Scalar(node, "seed") is not { } text)
        {
            return null;
        }
        if (ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed))
        {
            return seed;
        }
        Error(node, $"seed: '{text}' is not a non-negative whole number");
        return null;
    }

    private SchedScenarioSpec ParseSchedRoot(YamlMappingNode root)
    {
        var keys = Keys(root, "a sched scenario", s_tcpOnlyKeys, "seed", "duration", "subsystem", "cpus", "hz", "sample_interval", "timeline_limit",
            "structops", "tasks", "hotplug", "sched_features");
        var spec = new SchedScenarioSpec();
        if (Seed(keys) is { } seed)
        {
            spec = spec with { Seed = seed };
        }
        if (Time(keys, "duration", positive: true) is { } duration)
        {
            spec = spec with { Duration = duration };
        }
        if (Time(keys, "sample_interval", positive: true, minNs: ScenarioLimits.MinSampleIntervalNs) is { } interval)
        {
            spec = spec with { SampleInterval = interval };
        }
        if (Hz(keys) is { } hz)
        {
            spec = spec with { Hz = hz };
        }
        if (Integer(keys, "timeline_limit", 0, MaxTimelineLimit) is { } limit)
        {
            spec = spec with { TimelineLimit = limit };
        }
        if (keys.TryGetValue("cpus", out var cpus))
        {
            spec = spec with { Cpus = ParseCpus(cpus) };
        }
        if (keys.TryGetValue("sched_features", out var features))
        {
            spec = spec with { Features = ParseSchedFeatures(features) };
        }
        if (keys.TryGetValue("hotplug", out var hotplug))
        {
            spec = spec with { Hotplug = ParseHotplug(hotplug, spec) };
        }
        if (keys.TryGetValue("structops", out var so))
        {
            spec = spec with { StructOps = ParseSchedStructOps(so, spec.Duration) };
        }
        if (keys.TryGetValue("tasks", out var tasks))
        {
            spec = spec with { Tasks = ParseTasks(tasks, spec) };
        }
        else
        {
            Error(root, "a sched scenario needs tasks (see docs/scenarios.md)");
        }
        return spec;
    }

    /// <summary><c>sched_features: { NI_RANDOM: false }</c>: features.h switches by name, each true or false.</summary>
    private FairFeatures ParseSchedFeatures(YamlNode node)
    {
        var features = FairFeatures.Default;
        if (node is not YamlMappingNode map)
        {
            Error(node, "sched_features must be a mapping of features.h names to true or false, such as { NI_RANDOM: false }");
            return features;
        }
        var names = FairFeatures.Switches.Select(s => s.Name).ToArray();
        var keys = Keys(map, "sched_features", names);
        foreach (var (name, _, with) in FairFeatures.Switches)
        {
            if (Bool(keys, name) is { } on)
            {
                features = with(features, on);
            }
        }
        return features;
    }

    private CpuSpec ParseCpus(YamlNode node)
    {
        if (node is YamlScalarNode)
        {
            var one = new Dictionary<string, YamlNode>(StringComparer.Ordinal) { ["cpus"] = node };
            return Integer(one, "cpus", 1, Cpumask.MaxCpus) is { } n ? new CpuSpec { Count = n } : new CpuSpec();
        }
        if (node is not YamlMappingNode map)
        {
            Error(node, "cpus must be a number of CPUs or a mapping such as { count: 8, smt: true, nodes: 2 }");
            return new CpuSpec();
        }
        var keys = Keys(map, "cpus", "count", "smt", "nodes", "nohz_full");
        var spec = new CpuSpec
        {
            Count = Integer(keys, "count", 1, Cpumask.MaxCpus) ?? 4,
            Smt = Bool(keys, "smt") ?? false,
            Nodes = Integer(keys, "nodes", 1, Cpumask.MaxCpus) ?? 1,
        };
        // CpuTopology's shape: SMT pairs, and nodes of whole cores.
        int cores = spec.Smt ? spec.Count / 2 : spec.Count;
        if (spec.Smt && spec.Count % 2 != 0)
        {
            Error(keys["count"], $"smt pairs CPUs 2k and 2k+1 into a core: count must be even, not {spec.Count}");
        }
        else if (cores % spec.Nodes != 0)
        {
            Error(keys.TryGetValue("nodes", out var n) ? n : map,
                $"{cores} {(spec.Smt ? "cores" : "CPUs")} cannot be split evenly into {spec.Nodes} NUMA nodes");
        }
        if (keys.TryGetValue("nohz_full", out var nohzNode) && Affinity(nohzNode, spec.Count, "nohz_full") is { } nohz)
        {
            if (nohz.Contains(0))
            {
                // tick_nohz_init (kernel/time/tick-sched.c) takes the boot CPU back: "NO_HZ: Clearing 0 from nohz_full
                // range for timekeeping". Said here rather than done silently.
                Error(nohzNode, "nohz_full cannot include CPU 0: it does the timekeeping for the tickless CPUs " +
                                "(the kernel clears it: \"NO_HZ: Clearing 0 from nohz_full range for timekeeping\")");
            }
            else
            {
                nohz.Sort(); // the kernel keeps a mask; it prints it in order
                spec = spec with { NohzFull = nohz };
            }
        }
        return spec;
    }

    /// <summary>
    /// <c>structops</c> of a scheduler scenario: sched_ext_ops consumers, each attached through a link at <c>at</c> and
    /// detached at <c>unregister_at</c>. The kernel runs one sched_ext scheduler at a time (scx_ops_enable: EBUSY),
    /// so registrations may not overlap, and has no link update for them (bpf_scx_update: EOPNOTSUPP).
    /// </summary>
    private List<StructOpsEntry> ParseSchedStructOps(YamlNode node, SimTime duration)
    {
        var list = new List<StructOpsEntry>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "structops must be a list of { program: NAME|PATH.dll|PATH.bpf.o, at: TIME, unregister_at: TIME, globals: { … } }");
            return list;
        }
        var attached = new List<(SimTime From, SimTime? To, string Program, YamlNode Node)>();
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each structops entry must be a mapping");
                continue;
            }
            var keys = Keys(map, "a structops entry", "program", "map", "at", "unregister_at", "globals", "replace", "restart_on_exit");
            if (keys.TryGetValue("replace", out var replaceNode))
            {
                Error(replaceNode, "replace: sched_ext schedulers cannot be swapped into a link (the kernel's bpf_scx_update returns EOPNOTSUPP); " +
                                   "unregister one, then register the other");
            }
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
            if (at is null && !keys.ContainsKey("at"))
            {
                Error(map, "a scheduler's structops entry needs at (when its link is created); unregister_at goes in the same entry");
            }
            if (at is { } end && end >= duration)
            {
                Error(keys["at"], $"at ({end}) is not before the end of the run ({duration}): the scheduler would never be attached");
            }
            if (at is { } a && unregisterAt is { } u && u <= a)
            {
                Error(keys["unregister_at"], "unregister_at must be after at");
            }
            var (resolved, found) = ResolveConsumers(program, programNode);
            if (keys.TryGetValue("map", out var mapNode) && Scalar(mapNode, "map") is { } mapName && found.Count > 0)
            {
                found = PickMap(found, mapName, program, mapNode);
            }
            foreach (var c in found.Where(c => c.StructOpsType != SchedExtOpsType))
            {
                Error(programNode, $"{c.Name} is a {c.StructOpsType} consumer; a sched scenario loads sched_ext_ops schedulers (see bpfsim list)");
            }
            if (found.Count > 1)
            {
                Error(keys.TryGetValue("map", out var m) ? m : programNode,
                    $"{program} holds {found.Count} schedulers ({string.Join(", ", found.Select(c => c.Name))}); one runs at a time: pick one with map:");
            }
            if (at is { } from && found.Count == 1)
            {
                var clash = attached.FirstOrDefault(x => x.From <= (unregisterAt ?? SimTime.MaxValue) && from < (x.To ?? SimTime.MaxValue));
                if (clash.Program is not null)
                {
                    Error(keys["at"], $"{found[0].Name} would attach at {from} while {clash.Program} (attached at {clash.From}" +
                                      $"{(clash.To is { } to ? $", detached at {to}" : ", never detached")}) is the scheduler: the kernel runs one " +
                                      "sched_ext scheduler at a time and refuses a second (EBUSY)");
                }
                attached.Add((from, unregisterAt, found[0].Name, programNode));
            }
            var globals = keys.TryGetValue("globals", out var globalsNode) ? ParseGlobals(globalsNode, found) : [];
            list.Add(new StructOpsEntry
            {
                Program = resolved, At = at, UnregisterAt = unregisterAt, Consumers = found.Select(c => c.Name).ToList(),
                Location = $"{_file}:{map.Start.Line}:{map.Start.Column}",
                Globals = globals,
                RestartOnExit = Bool(keys, "restart_on_exit") ?? false,
            });
        }
        return list;
    }

    /// <summary>A consumer name from the catalog, or a path to a .dll or .bpf.o, loaded into the catalog.</summary>
    private (string Resolved, IReadOnlyList<ConsumerInfo> Found) ResolveConsumers(string program, YamlNode programNode)
    {
        if (_catalog.Find(program) is { } info)
        {
            return (program, [info]);
        }
        if (ConsumerFiles.IsPath(program))
        {
            try
            {
                string resolved = Path.GetFullPath(Path.Combine(_baseDirectory, program));
                return (resolved, ConsumerFiles.LoadInto(_catalog, resolved));
            }
            catch (Exception e) when (e is ConsumerLoadException or ArgumentException or IOException or NotSupportedException)
            {
                Error(programNode, e.Message);
                return (program, []);
            }
        }
        var schedulers = _catalog.All.Where(c => c.StructOpsType == SchedExtOpsType).Select(c => c.Name).ToList();
        Error(programNode, $"unknown scheduler '{program}' (known: {(schedulers.Count == 0 ? "none in this build" : string.Join(", ", schedulers))}; " +
                           "or give a path to a .dll or a .bpf.o)");
        return (program, []);
    }
}
