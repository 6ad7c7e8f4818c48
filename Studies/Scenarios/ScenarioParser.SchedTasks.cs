using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>The <c>tasks:</c> of a scheduler scenario: groups of tasks, their behaviour, arrivals and rt-app imports.</summary>
public sealed partial class ScenarioParser
{
    /// <summary>TASK_COMM_LEN is 16 with the NUL: a comm holds 15 characters (include/linux/sched.h).</summary>
    public const int MaxCommLength = 15;

    /// <summary>Tasks in one group (<c>count</c>); the work estimate bounds the total.</summary>
    public const int MaxTasksPerGroup = 100_000;

    private List<TaskGroupSpec> ParseTasks(YamlNode node, SchedScenarioSpec scenario)
    {
        var list = new List<TaskGroupSpec>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "tasks must be a list, e.g. - { name: hog, count: 2, behavior: cpu_bound }");
            return list;
        }
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each tasks entry must be a mapping");
                continue;
            }
            var groups = map.Children.Any(p => p.Key is YamlScalarNode { Value: "rt_app" })
                ? ParseRtAppEntry(map, scenario)
                : ParseTaskGroup(map, scenario) is { } g ? [g] : [];
            foreach (var group in groups)
            {
                // Results are reported per group name: two groups of one name would be merged without a word.
                if (names.TryGetValue(group.Name, out var where))
                {
                    Error(map, $"task name '{group.Name}' is used twice (also at {where}); each group needs its own name");
                    continue;
                }
                names[group.Name] = group.Location ?? "";
                list.Add(group);
            }
        }
        if (list.Count == 0 && seq.Children.Count == 0)
        {
            Error(node, "tasks is empty");
        }
        return list;
    }

    private TaskGroupSpec? ParseTaskGroup(YamlMappingNode map, SchedScenarioSpec scenario)
    {
        var keys = Keys(map, "a task group", "name", "count", "nice", "cpus", "policy", "behavior", "arrivals", "rate", "work", "start", "stop");
        string? name = null;
        if (keys.TryGetValue("name", out var nameNode) && Scalar(nameNode, "name") is { } n && CheckComm(n, nameNode))
        {
            name = n;
        }
        else if (!keys.ContainsKey("name"))
        {
            Error(map, "a task group needs name (the tasks' comm)");
        }
        var group = new TaskGroupSpec
        {
            Name = name ?? "",
            Count = Integer(keys, "count", 1, MaxTasksPerGroup) ?? 1,
            Nice = Nice(keys) ?? 0,
            Start = Time(keys, "start") ?? SimTime.Zero,
            Stop = Time(keys, "stop"),
            Location = $"{_file}:{map.Start.Line}:{map.Start.Column}",
        };
        if (keys.TryGetValue("cpus", out var cpusNode))
        {
            group = group with { Cpus = Affinity(cpusNode, scenario.Cpus.Count) };
        }
        if (Policy(keys) is { } ext)
        {
            group = group with { PolicyExt = ext };
        }
        if (keys.TryGetValue("arrivals", out var arr) && Scalar(arr, "arrivals") is { } arrivals)
        {
            if (arrivals != "poisson")
            {
                Error(arr, $"unknown arrivals '{arrivals}' (expected poisson)");
            }
            group = group with { Arrivals = TaskArrivalKind.Poisson };
            if (Number(keys, "rate", 0, ScenarioLimits.MaxArrivalRate, minExclusive: true) is { } rate)
            {
                group = group with { Rate = rate };
            }
            else if (!keys.ContainsKey("rate"))
            {
                Error(map, "poisson arrivals need rate (jobs per second)");
            }
            if (keys.TryGetValue("work", out var workNode))
            {
                if (Distribution(workNode, "work") is { } work)
                {
                    group = group with { Behavior = new TaskBehavior { Kind = BehaviorKind.Job, Work = work } };
                }
            }
            else
            {
                Error(map, "poisson arrivals need work (each job's CPU time, a distribution such as exp(10ms))");
            }
            foreach (var k in new[] { "count", "behavior" })
            {
                if (keys.TryGetValue(k, out var bad))
                {
                    Error(bad, k == "count"
                        ? "count does not apply to poisson arrivals (jobs arrive at rate per second)"
                        : "behavior does not apply to poisson arrivals: each job runs its work once and exits");
                }
            }
        }
        else
        {
            foreach (var k in new[] { "rate", "work" })
            {
                if (keys.TryGetValue(k, out var bad))
                {
                    Error(bad, $"{k} applies to arrivals: poisson only");
                }
            }
            if (keys.TryGetValue("behavior", out var behavior) && Behavior(behavior) is { } b)
            {
                group = group with { Behavior = b };
            }
        }
        if (group.Stop is { } stop && stop <= group.Start)
        {
            Error(keys["stop"], $"stop ({stop}) must be after start ({group.Start})");
        }
        if (group.Start >= scenario.Duration)
        {
            Error(keys.TryGetValue("start", out var s) ? s : map, $"start ({group.Start}) is not before the end of the run ({scenario.Duration})");
        }
        return name is null ? null : group;
    }

    private bool CheckComm(string name, YamlNode node)
    {
        if (name.Length == 0 || name.Length > MaxCommLength || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            Error(node, $"name '{name}' must be 1 to {MaxCommLength} characters without spaces: it is the tasks' comm (TASK_COMM_LEN 16)");
            return false;
        }
        return true;
    }

    /// <summary>nice −20 … 19 (MIN_NICE, MAX_NICE in include/linux/sched/prio.h).</summary>
    private int? Nice(Dictionary<string, YamlNode> keys)
    {
        if (!keys.TryGetValue("nice", out var node) || Scalar(node, "nice") is not { } text)
        {
            return null;
        }
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int nice))
        {
            Error(node, $"nice: '{text}' is not a whole number");
            return null;
        }
        if (nice is < -20 or > 19)
        {
            Error(node, $"nice must be -20 to 19 (MIN_NICE … MAX_NICE); got {nice}");
            return null;
        }
        return nice;
    }

    private bool? Policy(Dictionary<string, YamlNode> keys)
    {
        if (!keys.TryGetValue("policy", out var node) || Scalar(node, "policy") is not { } text)
        {
            return null;
        }
        switch (text)
        {
            case "normal":
                return false;
            case "ext":
                return true;
            default:
                Error(node, $"unknown policy '{text}' (expected normal, SCHED_NORMAL, or ext, SCHED_EXT: what a SCX_OPS_SWITCH_PARTIAL scheduler takes)");
                return null;
        }
    }

    /// <summary>An affinity list: <c>[0, 2, 3]</c>, each CPU below the machine's count, none twice.</summary>
    private List<int>? Affinity(YamlNode node, int cpuCount, string what = "cpus (affinity)")
    {
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
        {
            Error(node, $"{what} must be a non-empty list of CPU numbers, e.g. [1, 2]");
            return null;
        }
        var cpus = new List<int>();
        foreach (var item in seq)
        {
            var one = new Dictionary<string, YamlNode>(StringComparer.Ordinal) { ["cpu"] = item };
            if (Integer(one, "cpu", 0) is not { } cpu)
            {
                continue;
            }
            if (cpu >= cpuCount)
            {
                Error(item, $"cpu {cpu} does not exist: the machine has {cpuCount} CPU{(cpuCount == 1 ? "" : "s")} (0 … {cpuCount - 1})");
            }
            else if (cpus.Contains(cpu))
            {
                Error(item, $"cpu {cpu} is listed twice");
            }
            else
            {
                cpus.Add(cpu);
            }
        }
        return cpus.Count == seq.Children.Count ? cpus : null;
    }

    /// <summary><c>cpu_bound</c>, <c>{ sleep_wake: { run, sleep } }</c> or <c>{ periodic: { period, runtime, deadline } }</c>.</summary>
    private TaskBehavior? Behavior(YamlNode node)
    {
        const string expected = "behavior must be cpu_bound, { sleep_wake: { run: DIST, sleep: DIST } } or { periodic: { period: TIME, runtime: TIME } }";
        if (node is YamlScalarNode { Value: { } text })
        {
            if (text == "cpu_bound")
            {
                return TaskBehavior.CpuBound;
            }
            Error(node, $"unknown behavior '{text}'; {expected}");
            return null;
        }
        if (node is YamlMappingNode { Children.Count: > 1 } several)
        {
            Error(node, $"behavior has {several.Children.Count} kinds ({string.Join(", ", several.Children.Keys.Select(k => (k as YamlScalarNode)?.Value ?? "?"))}); a task group has one");
            return null;
        }
        if (node is not YamlMappingNode map || map.Children.Count != 1)
        {
            Error(node, expected);
            return null;
        }
        var keys = Keys(map, "behavior", "sleep_wake", "periodic");
        if (keys.TryGetValue("sleep_wake", out var sw))
        {
            if (sw is not YamlMappingNode swMap)
            {
                Error(sw, "sleep_wake must be a mapping { run: DIST, sleep: DIST }");
                return null;
            }
            var k = Keys(swMap, "sleep_wake", "run", "sleep");
            var run = Required(k, "run", swMap, "sleep_wake");
            var sleep = Required(k, "sleep", swMap, "sleep_wake");
            if (run is not { } r || sleep is not { } s)
            {
                return null;
            }
            if (r.MeanNs <= 0 && s.MeanNs <= 0)
            {
                // Each cycle would then take a nanosecond or two: billions of wake-ups per simulated second.
                Error(swMap, "sleep_wake: run and sleep are both 0, so the task would wake and sleep again with no time passing; give either a positive time");
                return null;
            }
            return new TaskBehavior { Kind = BehaviorKind.SleepWake, Run = r, Sleep = s };
        }
        if (keys.TryGetValue("periodic", out var p))
        {
            if (p is not YamlMappingNode pMap)
            {
                Error(p, "periodic must be a mapping { period: TIME, runtime: TIME, deadline: TIME }");
                return null;
            }
            var k = Keys(pMap, "periodic", "period", "runtime", "deadline");
            var period = Time(k, "period", positive: true);
            var runtime = Time(k, "runtime", positive: true);
            var deadline = Time(k, "deadline", positive: true);
            foreach (var key in new[] { "period", "runtime" })
            {
                if (!k.ContainsKey(key))
                {
                    Error(pMap, $"periodic needs {key}");
                }
            }
            if (period is not { } per || runtime is not { } rt)
            {
                return null;
            }
            // As SCHED_DEADLINE's admission (sched_dl_overflow's checks): runtime <= deadline <= period.
            var dl = deadline ?? per;
            if (dl > per)
            {
                Error(k["deadline"], $"deadline ({dl}) must be at most the period ({per})");
                return null;
            }
            if (rt > dl)
            {
                Error(k["runtime"], $"runtime ({rt}) must be at most the {(deadline is null ? "period" : "deadline")} ({dl}): every period would miss");
                return null;
            }
            return new TaskBehavior { Kind = BehaviorKind.Periodic, Period = per, Runtime = rt, Deadline = deadline };
        }
        return null;
    }

    private Distribution? Required(Dictionary<string, YamlNode> keys, string key, YamlMappingNode map, string where)
    {
        if (keys.TryGetValue(key, out var node))
        {
            return Distribution(node, key);
        }
        Error(map, $"{where} needs {key} (a distribution such as exp(2ms))");
        return null;
    }
}
