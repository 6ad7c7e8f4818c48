using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Imports an rt-app workload (rt-app's JSON: "global" and "tasks", its lenient dialect — comments and trailing
/// commas) as task groups with <see cref="BehaviorKind.Phases"/>. What bpfsim models of it: per thread
/// <c>instance</c> (count), <c>loop</c>, <c>priority</c> (nice, for SCHED_OTHER), <c>policy</c> (SCHED_OTHER, or
/// SCHED_EXT), <c>cpus</c>, <c>delay</c>, <c>phases</c> with their <c>loop</c>, and the events <c>run</c>,
/// <c>runtime</c>, <c>sleep</c>, <c>timer</c> (times in microseconds, as rt-app has them; event keys match by prefix,
/// as rt-app's parser does, so <c>run0</c>, <c>sleep1</c> are events too). Anything else rt-app knows is an error
/// naming it (locks, barriers, memory and I/O events, other policies change a schedule, so none is silently dropped),
/// except global settings that only concern a real machine (calibration, logs, ftrace), ignored with a note.
/// </summary>
public sealed class RtAppImport
{
    private static readonly string[] s_ignoredGlobals =
        ["calibration", "logdir", "log_basename", "log_size", "ftrace", "gnuplot", "lock_pages", "pi_enabled", "io_device", "mem_buffer_size",
         "cumulative_slack"];

    private static readonly string[] s_unmodelledEvents =
        ["lock", "unlock", "wait", "signal", "broad", "sync", "barrier", "suspend", "resume", "mem", "iorun", "yield", "fork"];

    private static readonly string[] s_unmodelledThreadKeys =
        ["nodes_membind", "dl-runtime", "dl-period", "dl-deadline", "taskgroup", "util_min", "util_max"];

    private readonly string _file;
    private readonly int _cpuCount;
    private readonly List<ScenarioError> _errors = [];
    private readonly List<string> _notes = [];
    private readonly Dictionary<string, List<string>> _timerRefs = new(StringComparer.Ordinal);

    private RtAppImport(string file, int cpuCount)
    {
        _file = file;
        _cpuCount = cpuCount;
    }

    /// <summary>The task groups of rt-app file <paramref name="text"/> (named <paramref name="file"/> in messages).</summary>
    /// <param name="policyExt">Import every thread as SCHED_EXT (the scenario entry's <c>policy: ext</c>).</param>
    /// <exception cref="ScenarioException">The file is not rt-app JSON or uses what bpfsim does not model.</exception>
    public static (IReadOnlyList<TaskGroupSpec> Groups, IReadOnlyList<string> Notes) Import(string text, string file, int cpuCount, bool? policyExt = null)
    {
        var root = LenientJson.Parse(text, file);
        var import = new RtAppImport(file, cpuCount);
        var groups = import.Root(root, policyExt);
        foreach (var (name, threads) in import._timerRefs.Where(r => r.Value.Count > 1))
        {
            import._notes.Add($"{file}: timer '{name}' is shared by {string.Join(", ", threads)} in rt-app; in bpfsim each thread keeps its own timer with that period");
        }
        if (import._errors.Count > 0)
        {
            throw new ScenarioException(import._errors);
        }
        return (groups, import._notes);
    }

    private void Error(LenientJsonNode at, string message) => _errors.Add(new ScenarioError(_file, at.Line, at.Column, message));

    private List<TaskGroupSpec> Root(LenientJsonNode root, bool? policyExt)
    {
        var groups = new List<TaskGroupSpec>();
        if (root.Kind != LenientJsonKind.Object)
        {
            Error(root, $"an rt-app file is an object with \"tasks\" (and \"global\"), not {root.Describe()}");
            return groups;
        }
        SimTime? stop = null;
        bool defaultExt = false;
        LenientJsonNode? tasks = null;
        foreach (var (key, keyNode, value) in root.Members)
        {
            switch (key)
            {
                case "tasks":
                    tasks = value;
                    break;
                case "global":
                    (stop, defaultExt) = Global(value);
                    break;
                case "resources":
                    if (value.Kind != LenientJsonKind.Object || value.Members.Count > 0)
                    {
                        Error(keyNode, "\"resources\" (rt-app's mutexes, barriers and the like) are not modelled by bpfsim");
                    }
                    break;
                default:
                    Error(keyNode, $"unknown rt-app key \"{key}\" (expected tasks, global)");
                    break;
            }
        }
        if (tasks is null)
        {
            Error(root, "an rt-app file needs \"tasks\"");
            return groups;
        }
        if (tasks.Kind != LenientJsonKind.Object || tasks.Members.Count == 0)
        {
            Error(tasks, "\"tasks\" must be an object of threads, e.g. { \"thread0\": { \"run\": 10000, \"sleep\": 10000 } }");
            return groups;
        }
        foreach (var (name, keyNode, thread) in tasks.Members)
        {
            if (Thread(name, keyNode, thread, stop, policyExt ?? defaultExt) is { } g)
            {
                groups.Add(g);
            }
        }
        return groups;
    }

    private (SimTime? Stop, bool Ext) Global(LenientJsonNode global)
    {
        SimTime? stop = null;
        bool ext = false;
        if (global.Kind != LenientJsonKind.Object)
        {
            Error(global, $"\"global\" must be an object, not {global.Describe()}");
            return (stop, ext);
        }
        foreach (var (key, keyNode, value) in global.Members)
        {
            if (key == "duration")
            {
                // Seconds; -1 (rt-app's default) runs until the threads end or the scenario does.
                if (Integer(value, "duration", -1, ScenarioLimits.MaxSeconds) is { } seconds && seconds > 0)
                {
                    stop = SimTime.FromSeconds(seconds);
                }
                else if (value.Kind == LenientJsonKind.Number && value.Number == 0)
                {
                    Error(value, "\"duration\" 0 would end the threads at once; give seconds, or -1 for no limit");
                }
            }
            else if (key == "default_policy")
            {
                ext = Policy(value) ?? false;
            }
            else if (s_ignoredGlobals.Contains(key))
            {
                _notes.Add($"{_file}:{keyNode.Line}:{keyNode.Column}: rt-app global \"{key}\" ignored: " + (key == "calibration"
                    ? "bpfsim's run times are CPU time, not calibrated loops"
                    : "it concerns the real machine's logging and memory, not the schedule"));
            }
            else
            {
                Error(keyNode, $"unknown rt-app global \"{key}\" (bpfsim reads duration, default_policy, and ignores {string.Join(", ", s_ignoredGlobals)})");
            }
        }
        return (stop, ext);
    }

    /// <summary>SCHED_OTHER (SCHED_NORMAL) → false, SCHED_EXT → true; the real-time and deadline classes are not modelled.</summary>
    private bool? Policy(LenientJsonNode value)
    {
        if (value.Kind != LenientJsonKind.String)
        {
            Error(value, $"a policy is a string such as \"SCHED_OTHER\", not {value.Describe()}");
            return null;
        }
        switch (value.Text)
        {
            case "SCHED_OTHER" or "SCHED_NORMAL":
                return false;
            case "SCHED_EXT":
                return true;
            default:
                Error(value, $"policy \"{value.Text}\" is not modelled: bpfsim has the fair class (SCHED_OTHER) and sched_ext (SCHED_EXT), " +
                             "not the real-time, deadline, batch or idle policies");
                return null;
        }
    }

    private TaskGroupSpec? Thread(string name, LenientJsonNode keyNode, LenientJsonNode thread, SimTime? stop, bool ext)
    {
        if (name.Length == 0 || name.Length > ScenarioParser.MaxCommLength || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            Error(keyNode, $"thread name \"{name}\" must be 1 to {ScenarioParser.MaxCommLength} characters without spaces: it is the tasks' comm (TASK_COMM_LEN 16)");
            return null;
        }
        if (thread.Kind != LenientJsonKind.Object)
        {
            Error(thread, $"thread \"{name}\" must be an object, not {thread.Describe()}");
            return null;
        }
        int errors = _errors.Count;
        int instance = 1, loop = -1, nice = 0;
        SimTime delay = SimTime.Zero;
        IReadOnlyList<int>? cpus = null;
        LenientJsonNode? phases = null;
        var events = new List<(string Key, LenientJsonNode KeyNode, LenientJsonNode Value)>();
        foreach (var member in thread.Members)
        {
            var (key, kn, value) = member;
            switch (key)
            {
                case "instance":
                    instance = (int)(Integer(value, "instance", 1, ScenarioParser.MaxTasksPerGroup) ?? 1);
                    break;
                case "loop":
                    loop = (int)(Integer(value, "loop", -1, int.MaxValue) ?? -1);
                    if (loop == 0)
                    {
                        Error(value, "\"loop\" 0 runs nothing; give a count, or -1 for ever");
                    }
                    break;
                case "priority":
                    nice = (int)(Integer(value, "priority (the nice value of a SCHED_OTHER thread)", -20, 19) ?? 0);
                    break;
                case "policy":
                    ext = Policy(value) ?? ext;
                    break;
                case "cpus":
                    cpus = Cpus(value);
                    break;
                case "delay":
                    delay = Micros(value, "delay", allowZero: true) ?? SimTime.Zero;
                    break;
                case "phases":
                    phases = value;
                    break;
                default:
                    if (s_unmodelledThreadKeys.Contains(key))
                    {
                        Error(kn, $"\"{key}\" is not modelled by bpfsim (it reads instance, loop, priority, policy, cpus, delay, phases and the events run, runtime, sleep, timer)");
                    }
                    else
                    {
                        events.Add(member);
                    }
                    break;
            }
        }
        var list = new List<Phase>();
        if (phases is not null)
        {
            if (events.Count > 0)
            {
                Error(events[0].KeyNode, $"thread \"{name}\" has phases: its events go inside them");
            }
            if (phases.Kind != LenientJsonKind.Object || phases.Members.Count == 0)
            {
                Error(phases, "\"phases\" must be an object of phases, e.g. { \"p1\": { \"loop\": 10, \"run\": 1000, \"sleep\": 1000 } }");
            }
            else
            {
                foreach (var (phaseName, _, phase) in phases.Members)
                {
                    if (Phase(name, phaseName, phase) is { } p)
                    {
                        list.Add(p);
                    }
                }
            }
        }
        else if (Steps(name, events, thread) is { } steps)
        {
            list.Add(new Phase(steps));
        }
        if (_errors.Count > errors)
        {
            return null;
        }
        return new TaskGroupSpec
        {
            Name = name,
            Count = instance,
            Nice = nice,
            Cpus = cpus,
            PolicyExt = ext,
            Start = delay,
            Stop = stop is { } s && s > delay ? s : stop,
            Behavior = new TaskBehavior { Kind = BehaviorKind.Phases, Phases = list, PhasesLoop = loop },
            Location = $"{_file}:{keyNode.Line}:{keyNode.Column}",
        };
    }

    private Phase? Phase(string thread, string name, LenientJsonNode phase)
    {
        if (phase.Kind != LenientJsonKind.Object)
        {
            Error(phase, $"phase \"{name}\" must be an object, not {phase.Describe()}");
            return null;
        }
        int loop = 1;
        var events = new List<(string, LenientJsonNode, LenientJsonNode)>();
        foreach (var member in phase.Members)
        {
            if (member.Key == "loop")
            {
                loop = (int)(Integer(member.Value, "a phase's loop", 1, int.MaxValue) ?? 1);
            }
            else if (member.Key is "cpus" or "nodes_membind" or "taskgroup" or "util_min" or "util_max")
            {
                Error(member.KeyNode, $"per-phase \"{member.Key}\" is not modelled by bpfsim; set cpus on the thread");
            }
            else
            {
                events.Add(member);
            }
        }
        return Steps($"{thread}/{name}", events, phase) is { } steps ? new Phase(steps, loop) : null;
    }

    /// <summary>The events of a thread or phase, in order; keys match rt-app's event names by prefix ("runtime" before "run").</summary>
    private List<PhaseStep>? Steps(string where, List<(string Key, LenientJsonNode KeyNode, LenientJsonNode Value)> events, LenientJsonNode owner)
    {
        var steps = new List<PhaseStep>();
        foreach (var (key, keyNode, value) in events)
        {
            if (key.StartsWith("runtime", StringComparison.Ordinal) || key.StartsWith("run", StringComparison.Ordinal))
            {
                if (Micros(value, key, allowZero: false) is { } t)
                {
                    steps.Add(new PhaseStep(PhaseStepKind.Run, t));
                }
            }
            else if (key.StartsWith("sleep", StringComparison.Ordinal))
            {
                if (Micros(value, key, allowZero: false) is { } t)
                {
                    steps.Add(new PhaseStep(PhaseStepKind.Sleep, t));
                }
            }
            else if (key.StartsWith("timer", StringComparison.Ordinal))
            {
                if (Timer(where, value) is { } period)
                {
                    steps.Add(new PhaseStep(PhaseStepKind.Timer, period));
                }
            }
            else if (s_unmodelledEvents.FirstOrDefault(e => key.StartsWith(e, StringComparison.Ordinal)) is { } e)
            {
                Error(keyNode, $"rt-app event \"{key}\" ({e}) is not modelled by bpfsim (it runs run, runtime, sleep and timer events)");
            }
            else
            {
                Error(keyNode, $"unknown rt-app key \"{key}\" in {where} (events: run, runtime, sleep, timer; thread keys: instance, loop, priority, policy, cpus, delay, phases)");
            }
        }
        if (steps.Count == 0 && events.Count == 0)
        {
            Error(owner, $"{where} has no events (run, runtime, sleep, timer)");
            return null;
        }
        if (steps.Count > 0 && steps.TrueForAll(s => s.Kind != PhaseStepKind.Run))
        {
            Error(owner, $"{where} never runs: it needs a run or runtime event");
            return null;
        }
        return steps.Count == events.Count ? steps : null;
    }

    private SimTime? Timer(string where, LenientJsonNode value)
    {
        if (value.Kind != LenientJsonKind.Object)
        {
            Error(value, $"a timer is an object {{ \"ref\": \"unique\", \"period\": USEC }}, not {value.Describe()}");
            return null;
        }
        SimTime? period = null;
        foreach (var (key, keyNode, v) in value.Members)
        {
            switch (key)
            {
                case "period":
                    period = Micros(v, "period", allowZero: false);
                    break;
                case "ref":
                    if (v.Kind != LenientJsonKind.String)
                    {
                        Error(v, $"a timer's ref is a string, not {v.Describe()}");
                    }
                    else if (v.Text != "unique")
                    {
                        string thread = where.Split('/')[0];
                        var users = _timerRefs.TryGetValue(v.Text, out var l) ? l : _timerRefs[v.Text] = [];
                        if (!users.Contains(thread))
                        {
                            users.Add(thread);
                        }
                    }
                    break;
                case "mode":
                    if (v.Kind != LenientJsonKind.String || v.Text != "absolute")
                    {
                        Error(v, "bpfsim's timer is rt-app's \"absolute\" mode (the next release is the last one plus the period); \"relative\" is not modelled");
                    }
                    break;
                default:
                    Error(keyNode, $"unknown timer key \"{key}\" (expected ref, period, mode)");
                    break;
            }
        }
        if (period is null && !value.Members.Exists(m => m.Key == "period"))
        {
            Error(value, "a timer needs \"period\" (microseconds)");
        }
        return period;
    }

    private List<int>? Cpus(LenientJsonNode value)
    {
        if (value.Kind != LenientJsonKind.Array || value.Items.Count == 0)
        {
            Error(value, "\"cpus\" must be a non-empty array of CPU numbers, e.g. [0, 1]");
            return null;
        }
        var cpus = new List<int>();
        foreach (var item in value.Items)
        {
            if (Integer(item, "a cpu", 0, int.MaxValue) is not { } cpu)
            {
                continue;
            }
            if (cpu >= _cpuCount)
            {
                Error(item, $"cpu {cpu} does not exist: the scenario's machine has {_cpuCount} CPU{(_cpuCount == 1 ? "" : "s")} (0 … {_cpuCount - 1})");
            }
            else if (!cpus.Contains((int)cpu))
            {
                cpus.Add((int)cpu);
            }
        }
        return cpus;
    }

    /// <summary>A time in microseconds (rt-app's unit), at most the scenario time limit.</summary>
    private SimTime? Micros(LenientJsonNode value, string key, bool allowZero)
    {
        const long maxMicros = ScenarioLimits.MaxSeconds * 1_000_000;
        if (Integer(value, $"\"{key}\" (microseconds)", allowZero ? 0 : 1, maxMicros) is { } us)
        {
            return SimTime.FromMicroseconds(us);
        }
        return null;
    }

    private long? Integer(LenientJsonNode value, string what, long min, long max)
    {
        if (value.Kind != LenientJsonKind.Number || value.Number != Math.Floor(value.Number) || Math.Abs(value.Number) > long.MaxValue / 2.0)
        {
            Error(value, $"{what} must be a whole number, not {value.Describe()}");
            return null;
        }
        long v = (long)value.Number;
        if (v < min || v > max)
        {
            Error(value, $"{what} must be {min} to {max}; got {value.Text}");
            return null;
        }
        return v;
    }
}
