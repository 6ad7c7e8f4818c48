using BpfSim.Studies;
using BpfSim.Cli;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Tests.Cli;

/// <summary>rt-app JSON imported into a sched scenario (<c>- { rt_app: file.json }</c>): its lenient dialect, its keys, its errors.</summary>
[Category("Cli")]
public sealed class SchedRtAppTests
{
    /// <summary>A scenario beside an rt-app file; returns the scenario's path.</summary>
    private static string WithRtApp(string json, string extra = "", int cpus = 4)
    {
        string scenario = CliRun.Scenario($"subsystem: sched\nduration: 5s\ncpus: {cpus}\ntasks:\n  - {{ rt_app: workload.json{extra} }}\n");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(scenario)!, "workload.json"), json);
        return scenario;
    }

    private const string Lenient = """
        // rt-app workload, as rt-app's own examples write them
        {
            /* the threads */
            "tasks" : {
                "thread0" : {
                    "instance" : 2,
                    "loop" : -1,
                    "priority" : 5,     // nice for SCHED_OTHER
                    "cpus" : [0, 1,],
                    "run" : 10000,
                    "sleep" : 20000,
                    "run1" : 500,
                },
                "periodic" : {
                    "delay" : 100000,
                    "phases" : {
                        "warm" : { "loop" : 10, "runtime" : 2000, "timer" : { "ref" : "unique", "period" : 10000 }, },
                        "steady" : { "run" : 1000, "sleep0" : 3000 },
                    },
                },
            },
            "global" : {
                "duration" : 4,
                "default_policy" : "SCHED_OTHER",
                "calibration" : "CPU0",
                "logdir" : "./",
            },
        }
        """;

    [Test]
    public void Import_LenientJson_CommentsAndTrailingCommas_ReadsThreadsAndPhases()
    {
        string scenario = WithRtApp(Lenient);
        var (factory, catalog) = Composition.Create([]);
        var loaded = BpfSim.Studies.Scenarios.ScenarioLoader.Load(scenario, factory, catalog);
        var tasks = loaded.Sched!.Tasks;
        Assert.That(tasks.Select(t => t.Name), Is.EqualTo(new[] { "thread0", "periodic" }));
        var t0 = tasks[0];
        Assert.That((t0.Count, t0.Nice, t0.Cpus, t0.Stop), Is.EqualTo((2, 5, (IReadOnlyList<int>?)new[] { 0, 1 }, (SimTime?)SimTime.FromSeconds(4))));
        Assert.That(t0.Behavior.Kind, Is.EqualTo(BehaviorKind.Phases));
        Assert.That(t0.Behavior.PhasesLoop, Is.EqualTo(-1));
        Assert.That(t0.Behavior.Phases, Has.Count.EqualTo(1));
        Assert.That(t0.Behavior.Phases[0].Steps, Is.EqualTo(new[]
        {
            new PhaseStep(PhaseStepKind.Run, SimTime.FromMicroseconds(10000)),
            new PhaseStep(PhaseStepKind.Sleep, SimTime.FromMicroseconds(20000)),
            new PhaseStep(PhaseStepKind.Run, SimTime.FromMicroseconds(500)),
        }), "events in order, keys matched by prefix (run1)");
        var p = tasks[1];
        Assert.That(p.Start, Is.EqualTo(SimTime.FromMilliseconds(100)), "delay (µs) is the start");
        Assert.That(p.Behavior.Phases.Select(x => x.Loop), Is.EqualTo(new[] { 10, 1 }));
        Assert.That(p.Behavior.Phases[0].Steps, Is.EqualTo(new[]
        {
            new PhaseStep(PhaseStepKind.Run, SimTime.FromMilliseconds(2)),
            new PhaseStep(PhaseStepKind.Timer, SimTime.FromMilliseconds(10)),
        }));
        Assert.That(p.Location, Does.EndWith("workload.json:14:9"), "located in the JSON file");
        Assert.That(loaded.Notes, Has.Some.Contains("\"calibration\" ignored").And.Some.Contains("\"logdir\" ignored"));
    }

    [Test]
    public void Import_PolicyExtOnTheEntry_MakesEveryThreadSchedExt()
    {
        string scenario = WithRtApp("""{ "tasks": { "t": { "run": 1000, "sleep": 1000 } } }""", ", policy: ext");
        var (factory, catalog) = Composition.Create([]);
        var spec = BpfSim.Studies.Scenarios.ScenarioLoader.Load(scenario, factory, catalog).Sched!;
        Assert.That(spec.Tasks[0].PolicyExt, Is.True);
        Assert.That(spec.Tasks[0].Behavior.PhasesLoop, Is.EqualTo(-1), "rt-app's default loop is for ever");
    }

    [Test]
    public void Validate_PrintsTheImportNotes()
    {
        var (code, output, err) = CliRun.Invoke("validate", WithRtApp(Lenient));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain("note: ").And.Contain("calibration"));
    }

    private static IEnumerable<TestCaseData> Broken()
    {
        TestCaseData Case(string name, string json, string marker, string message) => new TestCaseData(json, marker, message).SetName(name);
        yield return Case("UnclosedComment", "{ \"tasks\": {} /* oops\n}", "/* oops", "a /* comment is not closed");
        yield return Case("UnclosedString", "{\n  \"tasks\": { \"t : 1 }\n}", "\"t :", "a string is not closed");
        yield return Case("MissingColon", "{ \"tasks\" { } }", "{ }", "expected ':' after \"tasks\"");
        yield return Case("MissingComma", "{ \"tasks\": { \"t\": { \"run\": 1 \"sleep\": 1 } } }", "\"sleep\"", "expected ',' or '}'");
        yield return Case("Unclosed", "{ \"tasks\": { \"t\": { \"run\": 1 }", "{ \"t\"", "this object is not closed");
        yield return Case("TrailingGarbage", "{ \"tasks\": { \"t\": { \"run\": 1 } } } x", "x", "more after the end of the document");
        yield return Case("NotAnObject", "[1, 2]", "[1", "an rt-app file is an object");
        yield return Case("NoTasks", "{ \"global\": { } }", "{ \"global", "needs \"tasks\"");
        yield return Case("UnknownTopKey", "{ \"threads\": {}, \"tasks\": { \"t\": { \"run\": 1 } } }", "\"threads\"", "unknown rt-app key \"threads\"");
        yield return Case("FifoPolicy", "{ \"tasks\": { \"t\": { \"policy\": \"SCHED_FIFO\", \"run\": 1 } } }", "\"SCHED_FIFO\"",
            "policy \"SCHED_FIFO\" is not modelled");
        yield return Case("DefaultPolicyDeadline", "{ \"global\": { \"default_policy\": \"SCHED_DEADLINE\" }, \"tasks\": { \"t\": { \"run\": 1 } } }",
            "\"SCHED_DEADLINE\"", "not modelled");
        yield return Case("PriorityOutOfRange", "{ \"tasks\": { \"t\": { \"priority\": 30, \"run\": 1 } } }", "30", "must be -20 to 19");
        yield return Case("CpuMissing", "{ \"tasks\": { \"t\": { \"cpus\": [0, 7], \"run\": 1 } } }", "7]", "cpu 7 does not exist");
        yield return Case("LockEvent", "{ \"tasks\": { \"t\": { \"lock\": \"m\", \"run\": 1 } } }", "\"lock\"", "rt-app event \"lock\" (lock) is not modelled");
        yield return Case("UnknownEvent", "{ \"tasks\": { \"t\": { \"spin\": 5, \"run\": 1 } } }", "\"spin\"", "unknown rt-app key \"spin\"");
        yield return Case("DeadlineKeys", "{ \"tasks\": { \"t\": { \"dl-runtime\": 5, \"run\": 1 } } }", "\"dl-runtime\"", "\"dl-runtime\" is not modelled");
        yield return Case("RunNotANumber", "{ \"tasks\": { \"t\": { \"run\": \"10ms\" } } }", "\"10ms\"", "\"run\" (microseconds) must be a whole number");
        yield return Case("RunZero", "{ \"tasks\": { \"t\": { \"run\": 0 } } }", "0 }", "must be 1 to");
        yield return Case("NeverRuns", "{ \"tasks\": { \"t\": { \"sleep\": 10 } } }", "{ \"sleep\"", "never runs");
        yield return Case("NoEvents", "{ \"tasks\": { \"t\": { \"loop\": 3 } } }", "{ \"loop\"", "has no events");
        yield return Case("EventsBesidePhases", "{ \"tasks\": { \"t\": { \"run\": 5, \"phases\": { \"p\": { \"run\": 1 } } } } }", "\"run\": 5",
            "its events go inside them");
        yield return Case("TimerWithoutPeriod", "{ \"tasks\": { \"t\": { \"run\": 5, \"timer\": { \"ref\": \"unique\" } } } }", "{ \"ref\"", "a timer needs \"period\"");
        yield return Case("TimerRelative", "{ \"tasks\": { \"t\": { \"run\": 5, \"timer\": { \"period\": 9, \"mode\": \"relative\" } } } }", "\"relative\"",
            "\"relative\" is not modelled");
        yield return Case("UnknownGlobal", "{ \"global\": { \"speed\": 2 }, \"tasks\": { \"t\": { \"run\": 1 } } }", "\"speed\"", "unknown rt-app global \"speed\"");
        yield return Case("LoopZero", "{ \"tasks\": { \"t\": { \"loop\": 0, \"run\": 1 } } }", "0,", "\"loop\" 0 runs nothing");
        yield return Case("LongName", "{ \"tasks\": { \"a_thread_with_a_long_name\": { \"run\": 1 } } }", "\"a_thread", "must be 1 to 15 characters");
    }

    [TestCaseSource(nameof(Broken))]
    public void Validate_BrokenRtApp_ErrorAtTheJsonFilesLineAndColumn(string json, string marker, string message)
    {
        string scenario = WithRtApp(json);
        var (line, column) = SchedScenarioErrorTests.Where(json, marker);
        var (code, _, err) = CliRun.Invoke("validate", scenario);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        string jsonName = Path.Combine(Path.GetDirectoryName(scenario)!, "workload.json");
        Assert.That(err, Does.Contain($"{jsonName}:{line}:{column}: ").And.Contain(message), $"expected at {line}:{column}");
        Assert.That(CliRun.AllLinesAreErrors(err), err);
    }

    [Test]
    public void Validate_ImportedNameClashesWithAGroup_IsAnError()
    {
        string scenario = CliRun.Scenario("subsystem: sched\ntasks:\n  - { name: t }\n  - { rt_app: w.json }\n");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(scenario)!, "w.json"), "{ \"tasks\": { \"t\": { \"run\": 1 } } }");
        var (code, _, err) = CliRun.Invoke("validate", scenario);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain(":4:5: task name 't' is used twice"));
    }
}
