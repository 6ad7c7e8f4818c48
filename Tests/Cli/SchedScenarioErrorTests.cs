using BpfSim.Studies;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Every mistake in a <c>subsystem: sched</c> scenario is refused by <c>validate</c> and <c>run</c> with exit 2 and
/// <c>file:line:column: what is wrong</c>, the column that of the value at fault (found here by a marker in the text).
/// </summary>
[Category("Cli")]
public sealed class SchedScenarioErrorTests
{
    private const string Head = "subsystem: sched\nduration: 2s\ncpus: 4\n";

    /// <summary>The 1-based line and column where <paramref name="marker"/> first occurs in <paramref name="text"/>.</summary>
    internal static (int Line, int Column) Where(string text, string marker)
    {
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"marker '{marker}' is not in the scenario");
        int line = text[..at].Count(c => c == '\n') + 1;
        int column = at - (text.LastIndexOf('\n', Math.Max(at - 1, 0)) + 1) + 1;
        if (at == 0)
        {
            column = 1;
        }
        return (line, column);
    }

    private static IEnumerable<TestCaseData> Broken()
    {
        TestCaseData Case(string name, string yaml, string marker, string message) => new TestCaseData(yaml, marker, message).SetName(name);
        yield return Case("UnknownRootKey", Head + "bogus: 1\ntasks: [ { name: a } ]\n", "bogus", "unknown key 'bogus' in a sched scenario");
        yield return Case("UnknownSubsystem", "subsystem: gpu\nduration: 2s\nflows: [ { cc: reno } ]\n", "gpu", "unknown subsystem 'gpu' (expected tcp or sched)");
        yield return Case("TcpNetworkInSched", Head + "network: { topology: dumbbell }\ntasks: [ { name: a } ]\n", "network", "network is a key of TCP scenarios");
        yield return Case("TcpFlowsInSched", Head + "tasks: [ { name: a } ]\nflows: [ { cc: reno } ]\n", "flows", "flows is a key of TCP scenarios");
        yield return Case("SchedTasksInTcp", "duration: 2s\nflows: [ { cc: reno } ]\ntasks: [ { name: a } ]\n", "tasks", "tasks is a key of scheduler scenarios; add subsystem: sched");
        yield return Case("SchedCpusInTcp", "duration: 2s\ncpus: 4\nflows: [ { cc: reno } ]\n", "cpus", "cpus is a key of scheduler scenarios");
        yield return Case("NoTasks", Head, "subsystem", "a sched scenario needs tasks");
        yield return Case("EmptyTasks", Head + "tasks: []\n", "[]", "tasks is empty");
        yield return Case("CpusZero", "subsystem: sched\ncpus: 0\ntasks: [ { name: a } ]\n", "0\n", "cpus must be at least 1");
        yield return Case("CpusTooMany", "subsystem: sched\ncpus: 300\ntasks: [ { name: a } ]\n", "300", "cpus must be at most 256");
        yield return Case("CpusNotANumber", "subsystem: sched\ncpus: four\ntasks: [ { name: a } ]\n", "four", "cpus: 'four' is not a whole number");
        yield return Case("SmtOddCount", "subsystem: sched\ncpus: { count: 3, smt: true }\ntasks: [ { name: a } ]\n", "3,", "count must be even");
        yield return Case("NodesUneven", "subsystem: sched\ncpus: { count: 6, nodes: 4 }\ntasks: [ { name: a } ]\n", "4 }", "6 CPUs cannot be split evenly into 4 NUMA nodes");
        yield return Case("CpusUnknownKey", "subsystem: sched\ncpus: { count: 4, sockets: 2 }\ntasks: [ { name: a } ]\n", "sockets", "unknown key 'sockets' in cpus");
        yield return Case("NohzFullCpu0", "subsystem: sched\ncpus: { count: 4, nohz_full: [0, 1] }\ntasks: [ { name: a } ]\n", "[0, 1]",
            "nohz_full cannot include CPU 0: it does the timekeeping");
        yield return Case("NohzFullNoSuchCpu", "subsystem: sched\ncpus: { count: 4, nohz_full: [1, 4] }\ntasks: [ { name: a } ]\n", "4]",
            "cpu 4 does not exist: the machine has 4 CPUs");
        yield return Case("NohzFullNotAList", "subsystem: sched\ncpus: { count: 4, nohz_full: 1-3 }\ntasks: [ { name: a } ]\n", "1-3",
            "nohz_full must be a non-empty list of CPU numbers");
        yield return Case("SchedFeatureUnknown", Head + "sched_features: { NI_RANDM: false }\ntasks: [ { name: a } ]\n", "NI_RANDM",
            "unknown key 'NI_RANDM' in sched_features (expected one of: PLACE_LAG,");
        yield return Case("SchedFeatureNotBool", Head + "sched_features: { NI_RANDOM: off }\ntasks: [ { name: a } ]\n", "off", "NI_RANDOM: 'off' is not true or false");
        yield return Case("SchedFeaturesNotAMapping", Head + "sched_features: [NO_NI_RANDOM]\ntasks: [ { name: a } ]\n", "[NO_NI",
            "sched_features must be a mapping of features.h names to true or false");
        yield return Case("SchedFeaturesInTcp", "duration: 2s\nsched_features: { NI_RANDOM: false }\nflows: [ { cc: reno } ]\n", "sched_features",
            "sched_features is a key of scheduler scenarios");
        yield return Case("SmtNotBool", "subsystem: sched\ncpus: { count: 4, smt: yes }\ntasks: [ { name: a } ]\n", "yes", "smt: 'yes' is not true or false");
        yield return Case("HzNotAChoice", Head + "hz: 500\ntasks: [ { name: a } ]\n", "500", "hz is CONFIG_HZ: 100, 250, 300 or 1000, not 500");
        yield return Case("SampleIntervalTooSmall", Head + "sample_interval: 100us\ntasks: [ { name: a } ]\n", "100us", "sample_interval must be at least 1ms");
        yield return Case("TimelineLimitNegative", Head + "timeline_limit: -1\ntasks: [ { name: a } ]\n", "-1", "timeline_limit must be at least 0");
        yield return Case("NiceTooHigh", Head + "tasks:\n  - { name: a, nice: 20 }\n", "20 }", "nice must be -20 to 19");
        yield return Case("NiceTooLow", Head + "tasks:\n  - { name: a, nice: -21 }\n", "-21", "nice must be -20 to 19");
        yield return Case("NiceNotANumber", Head + "tasks:\n  - { name: a, nice: high }\n", "high", "nice: 'high' is not a whole number");
        yield return Case("AffinityCpuMissing", Head + "tasks:\n  - { name: a, cpus: [0, 4] }\n", "4]", "cpu 4 does not exist: the machine has 4 CPUs (0 … 3)");
        yield return Case("AffinityTwice", Head + "tasks:\n  - { name: a, cpus: [1, 1] }\n", "1]", "cpu 1 is listed twice");
        yield return Case("AffinityNotAList", Head + "tasks:\n  - { name: a, cpus: 2 }\n", "2 }", "cpus (affinity) must be a non-empty list");
        yield return Case("AffinityNegative", Head + "tasks:\n  - { name: a, cpus: [-1] }\n", "-1", "cpu must be at least 0");
        yield return Case("UnknownPolicy", Head + "tasks:\n  - { name: a, policy: fifo }\n", "fifo", "unknown policy 'fifo'");
        yield return Case("UnknownTaskKey", Head + "tasks:\n  - { name: a, prio: 3 }\n", "prio", "unknown key 'prio' in a task group");
        yield return Case("NoName", Head + "tasks:\n  - { count: 2 }\n", "{ count", "a task group needs name");
        yield return Case("NameTooLong", Head + "tasks:\n  - { name: a_very_long_task_name }\n", "a_very", "must be 1 to 15 characters");
        yield return Case("NameTwice", Head + "tasks:\n  - { name: a }\n  - { name: a, nice: 1 }\n", "{ name: a, nice", "task name 'a' is used twice");
        yield return Case("CountZero", Head + "tasks:\n  - { name: a, count: 0 }\n", "0 }", "count must be at least 1");
        yield return Case("UnknownBehavior", Head + "tasks:\n  - { name: a, behavior: spin }\n", "spin", "unknown behavior 'spin'");
        yield return Case("BehaviorTwoKinds", Head + "tasks:\n  - name: a\n    behavior: { sleep_wake: { run: 1ms, sleep: 1ms }, periodic: { period: 1ms, runtime: 1ms } }\n",
            "{ sleep_wake", "behavior has 2 kinds (sleep_wake, periodic); a task group has one");
        yield return Case("SleepWakeWithNoTimeAtAll", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: 0, sleep: const(0) } } }\n", "{ run",
            "sleep_wake: run and sleep are both 0");
        yield return Case("SleepWakeWithoutSleep", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: exp(1ms) } } }\n", "{ run", "sleep_wake needs sleep");
        yield return Case("SleepWakeUnknownKey", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: 1ms, sleep: 1ms, idle: 1ms } } }\n", "idle",
            "unknown key 'idle' in sleep_wake");
        yield return Case("PeriodicRuntimeOverPeriod", Head + "tasks:\n  - { name: a, behavior: { periodic: { period: 10ms, runtime: 12ms } } }\n", "12ms",
            "runtime (12ms) must be at most the period (10ms)");
        yield return Case("PeriodicDeadlineOverPeriod", Head + "tasks:\n  - { name: a, behavior: { periodic: { period: 10ms, runtime: 2ms, deadline: 11ms } } }\n", "11ms",
            "deadline (11ms) must be at most the period (10ms)");
        yield return Case("PeriodicWithoutPeriod", Head + "tasks:\n  - { name: a, behavior: { periodic: { runtime: 2ms } } }\n", "{ runtime", "periodic needs period");
        yield return Case("DistributionUnknown", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: gamma(1ms), sleep: 1ms } } }\n", "gamma",
            "run: unknown distribution 'gamma'");
        yield return Case("DistributionNegativeMean", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: 1ms, sleep: exp(-2ms) } } }\n", "-2ms",
            "sleep: ");
        yield return Case("DistributionNoUnit", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: exp(10), sleep: 1ms } } }\n", "10)", "run: ");
        yield return Case("UniformHighBelowLow", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: uniform(3ms, 1ms), sleep: 1ms } } }\n", "1ms)",
            "uniform needs low < high");
        yield return Case("LognormalSigmaNotANumber", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: 'lognormal(10ms, wide)', sleep: 1ms } } }\n", "wide",
            "σ 'wide' is not a number");
        yield return Case("LognormalSigmaTooLarge", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: lognormal(10ms, 9), sleep: 1ms } } }\n", "9)",
            "σ must be 0 to 5");
        yield return Case("DistributionArity", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: 'exp(1ms, 2ms)', sleep: 1ms } } }\n", "1ms, 2ms",
            "exp(MEAN) takes 1 argument, not 2");
        yield return Case("DistributionUnclosed", Head + "tasks:\n  - name: a\n    behavior: { sleep_wake: { run: 'exp(1ms', sleep: 1ms } }\n", "', sleep",
            "lacks its closing ')'");
        yield return Case("PoissonWithoutWork", Head + "tasks:\n  - { name: j, arrivals: poisson, rate: 10 }\n", "{ name: j", "poisson arrivals need work");
        yield return Case("PoissonWithoutRate", Head + "tasks:\n  - { name: j, arrivals: poisson, work: exp(1ms) }\n", "{ name: j", "poisson arrivals need rate");
        yield return Case("PoissonRateZero", Head + "tasks:\n  - { name: j, arrivals: poisson, rate: 0, work: 1ms }\n", "0,", "rate must be greater than 0");
        yield return Case("PoissonWithCount", Head + "tasks:\n  - { name: j, arrivals: poisson, rate: 5, work: 1ms, count: 3 }\n", "3 }", "count does not apply to poisson arrivals");
        yield return Case("PoissonWithBehavior", Head + "tasks:\n  - { name: j, arrivals: poisson, rate: 5, work: 1ms, behavior: cpu_bound }\n", "cpu_bound",
            "behavior does not apply to poisson arrivals");
        yield return Case("UnknownArrivals", Head + "tasks:\n  - { name: j, arrivals: uniform, rate: 5, work: 1ms }\n", "uniform", "unknown arrivals 'uniform'");
        yield return Case("WorkWithoutArrivals", Head + "tasks:\n  - { name: a, work: 1ms }\n", "1ms", "work applies to arrivals: poisson only");
        yield return Case("StopBeforeStart", Head + "tasks:\n  - { name: a, start: 1s, stop: 0.5s }\n", "0.5s", "must be after start (1s)");
        yield return Case("StartAfterEnd", Head + "tasks:\n  - { name: a, start: 3s }\n", "3s", "start (3s) is not before the end of the run (2s)");
        yield return Case("StructOpsAtAfterEnd", Head + "structops:\n  - { program: scx_simple, at: 3s }\ntasks: [ { name: a } ]\n", "3s",
            "at (3s) is not before the end of the run (2s): the scheduler would never be attached");
        yield return Case("UnknownScheduler", Head + "structops:\n  - { program: scx_nope, at: 0s }\ntasks: [ { name: a } ]\n", "scx_nope", "unknown scheduler 'scx_nope'");
        yield return Case("TcpConsumerInSched", Head + "structops:\n  - { program: bpf_dctcp, at: 0s }\ntasks: [ { name: a } ]\n", "bpf_dctcp",
            "is a tcp_congestion_ops consumer; a sched scenario loads sched_ext_ops schedulers");
        yield return Case("SchedReplace", Head + "structops:\n  - { program: bpf_dctcp, at: 0s, replace: x }\ntasks: [ { name: a } ]\n", "x }", "bpf_scx_update returns EOPNOTSUPP");
        yield return Case("SchedEntryWithoutAt", Head + "structops:\n  - { program: bpf_dctcp, unregister_at: 1s }\ntasks: [ { name: a } ]\n", "{ program", "needs at");
        yield return Case("GlobalsNotAMapping", Head + "structops:\n  - { program: bpf_dctcp, at: 0s, globals: [1] }\ntasks: [ { name: a } ]\n", "[1]",
            "globals must be a mapping");
        yield return Case("TasksNotAList", Head + "tasks: { name: a }\n", "{ name", "tasks must be a list");
        yield return Case("TaskNotAMapping", Head + "tasks: [ hog ]\n", "hog", "each tasks entry must be a mapping");
        yield return Case("MachineCpusAList", "subsystem: sched\ncpus: [0, 1]\ntasks: [ { name: a } ]\n", "[0", "cpus must be a number of CPUs or a mapping");
        yield return Case("StructOpsNotAList", Head + "structops: scx_simple\ntasks: [ { name: a } ]\n", "scx_simple", "structops must be a list");
        yield return Case("HzNotANumber", Head + "hz: fast\ntasks: [ { name: a } ]\n", "fast", "hz: 'fast' is not a whole number");
        yield return Case("NegativeDuration", "subsystem: sched\nduration: -1s\ntasks: [ { name: a } ]\n", "-1s", "duration: time '-1s' is not a non-negative number");
        yield return Case("SeedNotANumber", "subsystem: sched\nseed: -4\ntasks: [ { name: a } ]\n", "-4", "seed: '-4' is not a non-negative whole number");
        yield return Case("BehaviorAList", Head + "tasks:\n  - { name: a, behavior: [cpu_bound] }\n", "[cpu", "behavior must be cpu_bound");
        yield return Case("SleepWakeNotAMapping", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: 5ms } }\n", "5ms", "sleep_wake must be a mapping");
        yield return Case("DistributionAMapping", Head + "tasks:\n  - { name: a, behavior: { sleep_wake: { run: { mean: 1ms }, sleep: 1ms } } }\n", "{ mean",
            "run must be a single value");
        yield return Case("RateNotANumber", Head + "tasks:\n  - { name: j, arrivals: poisson, rate: lots, work: 1ms }\n", "lots", "rate: 'lots' is not a number");
        yield return Case("RtAppMissing", Head + "tasks:\n  - { rt_app: nowhere.json }\n", "nowhere", "rt_app: nowhere.json: no such file");
        yield return Case("RtAppEmptyPath", Head + "tasks:\n  - { rt_app: '' }\n", "''", "rt_app needs the path of an rt-app JSON file");
        yield return Case("RtAppExtraKey", Head + "tasks:\n  - { rt_app: nowhere.json, nice: 3 }\n", "nice", "unknown key 'nice' in an rt_app entry");
    }

    [TestCaseSource(nameof(Broken))]
    public void Validate_BrokenSchedScenario_ExitsTwoWithFileLineColumn(string yaml, string marker, string message)
    {
        string file = CliRun.Scenario(yaml);
        var (line, column) = Where(yaml, marker);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(message), $"expected at {line}:{column}");
        Assert.That(CliRun.AllLinesAreErrors(err), err);
    }

    [Test]
    public void Run_BrokenSchedScenario_ExitsTwoBeforeRunning()
    {
        string yaml = Head + "tasks:\n  - { name: a, nice: 40 }\n";
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(yaml));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.Contain(":5:22: nice must be -20 to 19"));
    }

    [Test]
    public void Validate_ManyMistakes_AreAllReported()
    {
        string yaml = Head + "hz: 7\ntasks:\n  - { name: a, nice: 40 }\n  - { name: b, cpus: [9] }\n";
        var (code, _, err) = CliRun.Invoke("validate", CliRun.Scenario(yaml));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(3), err);
    }

    [Test]
    public void Validate_SubsystemMistyped_IsTheOneErrorReported()
    {
        // Until the subsystem is known, which keys belong is not: the scheduler keys are not called TCP-only.
        string yaml = "subsystem: Sched\nduration: 1s\ncpus: 2\ntasks:\n  - { name: a }\n";
        string file = CliRun.Scenario(yaml);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            Is.EqualTo(new[] { $"{file}:1:12: unknown subsystem 'Sched' (expected tcp or sched); did you mean sched? (lower case)" }));
    }
}
