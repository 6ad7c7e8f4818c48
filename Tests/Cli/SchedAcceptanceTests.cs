using BpfSim.Studies;
using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Issue #12's acceptance through the command: <c>bpfsim run scenarios/scx_simple.yaml</c> shows a scheduler
/// registered, tasks scheduled by it, per-task wait statistics and a per-CPU timeline; a stalling scheduler is ejected
/// at timeout_ms with the kernel's message and the run completes (exit 3). And the struct_ops entries' checks.
/// </summary>
[Category("Cli")]
public sealed class SchedAcceptanceTests
{
    private static string Shipped(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name);

    [Test]
    public void ScxSimpleScenario_Terminal_ShowsTheSchedulerTasksWaitsAndTimeline()
    {
        var (code, output, err) = CliRun.Invoke("run", Shipped("scx_simple.yaml"));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(err, Is.Empty);
        Assert.That(output, Does.Contain("bpfsim run ").And.Contain("seed 1, 3 s simulated"));
        Assert.That(output, Does.Contain("schedulers (sched_ext)"));
        Assert.That(Regex.IsMatch(output, @"│ simple +│ 0\.5 +│ - "), output);
        Assert.That(output, Does.Contain("tasks (wait: runnable → running)").And.Contain("wait ms mean").And.Contain("p99.9"));
        var rows = Regex.Matches(output, @"^│ (\d+) +│ (\w+) +│ (-?\d+) +│ (\w+) +│", RegexOptions.Multiline);
        Assert.That(rows, Has.Count.EqualTo(13), "a row per task");
        Assert.That(rows.Select(r => r.Groups[4].Value), Is.All.EqualTo("ext"), "every task moved to the sched_ext scheduler");
        Assert.That(output, Does.Contain("per-CPU timeline"));
        Assert.That(Regex.Matches(output, @"^cpu +\d ", RegexOptions.Multiline), Has.Count.EqualTo(4));
        Assert.That(output, Does.Contain("▼ 0.5 s: sched_ext: BPF scheduler \"simple\" enabled"));
        Assert.That(output, Does.Contain("sched_ext_ops"), "the struct_ops table");
    }

    [Test]
    public void ScxSimpleScenario_Json_TasksRanInExt_AndWaitsAreMeasured()
    {
        var (code, output, err) = CliRun.Invoke("run", Shipped("scx_simple.yaml"), "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        var scheduler = root.GetProperty("schedulers")[0];
        Assert.That(scheduler.GetProperty("enabled_s").GetDouble(), Is.EqualTo(0.5));
        Assert.That(scheduler.GetProperty("disabled_s").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var tasks = root.GetProperty("tasks").EnumerateArray().ToList();
        Assert.That(tasks.Select(t => t.GetProperty("wait_ms_p99").GetDouble()), Has.All.GreaterThan(0));
        Assert.That(tasks.Select(t => t.GetProperty("switches").GetInt64()), Has.All.GreaterThan(0));
        Assert.That(root.GetProperty("struct_ops")[0].GetProperty("type").GetString(), Is.EqualTo("sched_ext_ops"));
        // Weighted vtime: a nice 0 hog gets clearly more CPU than a nice 5 one (about 2.4×: see the scenario's comment).
        double Runtime(string name) => tasks.Where(t => t.GetProperty("name").GetString() == name).Average(t => t.GetProperty("runtime_s").GetDouble());
        Assert.That(Runtime("hog") / Runtime("hog5"), Is.InRange(2.0, 3.1));
    }

    [Test]
    public void ScxSimple_OrderlyUnregister_ExitsZero_WithSchedExitUnreg()
    {
        string yaml = File.ReadAllText(Shipped("scx_simple.yaml")).Replace("at: 0.5s,", "at: 0.5s, unregister_at: 2s,", StringComparison.Ordinal);
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(yaml), "--json", "--duration", "2.5s");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        var scheduler = doc.RootElement.GetProperty("schedulers")[0];
        Assert.That(scheduler.GetProperty("exit_kind").GetString(), Is.EqualTo("SCX_EXIT_UNREG"));
        Assert.That(scheduler.GetProperty("disabled_s").GetDouble(), Is.EqualTo(2));
        Assert.That(doc.RootElement.TryGetProperty("ejected", out _), Is.False, "an unregister is no ejection");
        Assert.That(doc.RootElement.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("class").GetString()), Is.All.EqualTo("fair"));
    }

    [Test]
    public void ScxStallScenario_EjectedAtTimeout_WithTheKernelsMessage_RunCompletes_ExitThree()
    {
        var (code, output, err) = CliRun.Invoke("run", Shipped("scx_stall.yaml"));
        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        Assert.That(output, Does.Contain("scheduler ejected").And.Contain("disabled (runnable task stall)"));
        Assert.That(Regex.IsMatch(output, @"\w+\[\d+\] failed to run for \d+\.\d{3}s"), output);
        Assert.That(err, Does.StartWith("bpfsim: scheduler stall ejected at ").And.Contain("SCX_EXIT_ERROR_STALL"));
        var json = CliRun.Invoke("run", Shipped("scx_stall.yaml"), "--json");
        Assert.That(json.Code, Is.EqualTo(ExitCodes.CompletedWithFault));
        using var doc = JsonDocument.Parse(json.Out);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(3), "the run went on to its end");
        var ejected = root.GetProperty("ejected");
        Assert.That(ejected.GetProperty("kind").GetString(), Is.EqualTo("SCX_EXIT_ERROR_STALL"));
        Assert.That(ejected.GetProperty("kind_code").GetInt32(), Is.EqualTo(1026));
        Assert.That(ejected.GetProperty("reason").GetString(), Is.EqualTo("runnable task stall"));
        // Attached at 0.5 s with timeout_ms 1000: the watchdog (every timeout/2) ejects between 1 and 1.5 s later.
        Assert.That(ejected.GetProperty("t_s").GetDouble(), Is.InRange(1.5, 2.0));
        Assert.That(ejected.GetProperty("msg").GetString(), Does.Match(@"^\w+\[\d+\] failed to run for \d+\.\d{3}s$"));
        Assert.That(root.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("class").GetString()), Is.All.EqualTo("fair"),
            "every task back in the fair class");
        Assert.That(root.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("runtime_s").GetDouble()), Has.All.GreaterThan(0.1),
            "the stalled task ran again after the ejection");
    }

    [Test]
    public void ScxStall_Out_ReportsTheEjectionFirst()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-stall-{Guid.NewGuid():N}");
        var (code, _, err) = CliRun.Invoke("run", Shipped("scx_stall.yaml"), "--out", dir, "--quiet");
        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        int eject = html.IndexOf("Scheduler ejected", StringComparison.Ordinal);
        Assert.That(eject, Is.GreaterThan(0).And.LessThan(html.IndexOf("Per-CPU timeline", StringComparison.Ordinal)));
        Assert.That(Regex.IsMatch(html, @"class=""marker""[^>]*><title>[\d.]+ s: [^<]*runnable task stall"), "the ejection marked on the timeline");
        using var so = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "struct_ops.json")));
        Assert.That(so.RootElement.GetProperty("ejections")[0].GetProperty("kind").GetString(), Is.EqualTo("SCX_EXIT_ERROR_STALL"));
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>The same scheduler as the C# port and as scx_simple.bpf.o: the same per-CPU timeline, segment for segment.</summary>
    [Test]
    public void ScxSimpleAsCSharpAndAsBpfObject_GiveIdenticalSchedules()
    {
        string Timeline(string scenario)
        {
            string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-same-{Guid.NewGuid():N}");
            var (code, _, err) = CliRun.Invoke("run", Shipped(scenario), "--out", dir, "--quiet", "--duration", "1.5s");
            Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
            string text = File.ReadAllText(Path.Combine(dir, "timeline.csv"));
            Directory.Delete(dir, recursive: true);
            return text;
        }
        string csharp = Timeline("scx_simple.yaml"), bpf = Timeline("scx_simple_bpf.yaml");
        Assert.That(csharp.Split('\n'), Has.Length.GreaterThan(1000));
        Assert.That(csharp.Contains(",ext\r\n", StringComparison.Ordinal), "segments ran under the scheduler");
        Assert.That(bpf, Is.EqualTo(csharp));
    }

    [Test]
    public void AfterAnEjection_ASecondSchedulerAttaches()
    {
        string yaml = "seed: 1\nduration: 4s\nsubsystem: sched\ncpus: 2\nstructops:\n" +
                      "  - { program: scx_stall, at: 0.5s, unregister_at: 2.5s, globals: { timeout_ms: 1000 } }\n" +
                      "  - { program: scx_simple, at: 3s }\n" +
                      "tasks:\n  - { name: hog, count: 2, behavior: cpu_bound }\n  - { name: web, count: 4, behavior: { sleep_wake: { run: exp(1ms), sleep: exp(5ms) } } }\n";
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(yaml), "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        using var doc = JsonDocument.Parse(output);
        var schedulers = doc.RootElement.GetProperty("schedulers").EnumerateArray().ToList();
        Assert.That(schedulers.Select(x => x.GetProperty("exit_kind").GetString()), Is.EqualTo(new[] { "SCX_EXIT_ERROR_STALL", null }));
        Assert.That(schedulers[1].GetProperty("enabled_s").GetDouble(), Is.EqualTo(3));
        Assert.That(doc.RootElement.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("class").GetString()), Is.All.EqualTo("ext"));
    }

    private const string Head = "subsystem: sched\nduration: 2s\ncpus: 2\n";

    private static IEnumerable<TestCaseData> BrokenEntries()
    {
        TestCaseData Case(string name, string yaml, string marker, string message) => new TestCaseData(yaml, marker, message).SetName(name);
        yield return Case("SecondSchedulerWhileOneIsAttached",
            Head + "structops:\n  - { program: scx_simple, at: 0s }\n  - { program: scx_stall, at: 1s }\ntasks: [ { name: a } ]\n", "1s }",
            "the kernel runs one sched_ext scheduler at a time and refuses a second (EBUSY)");
        yield return Case("UnknownOption",
            Head + "structops:\n  - { program: scx_simple, at: 0s, globals: { fifo: true } }\ntasks: [ { name: a } ]\n", "true",
            "has no option 'fifo'");
        yield return Case("OptionValueOfTheWrongType",
            Head + "structops:\n  - { program: scx_simple, at: 0s, globals: { fifo_sched: sometimes } }\ntasks: [ { name: a } ]\n", "sometimes",
            "fifo_sched");
        yield return Case("UnknownGlobalOfATcpObject",
            "duration: 2s\nstructops:\n  - { program: bpf_cubic_c, at: 0s, globals: { nope: 1 } }\nflows: [ { cc: reno } ]\n", "1 }",
            "has no global variable 'nope'");
        yield return Case("SchedulerInATcpScenario",
            "duration: 2s\nstructops:\n  - { program: scx_simple, at: 0s }\nflows: [ { cc: reno } ]\n", "scx_simple",
            "scx_simple is a sched_ext_ops scheduler: it belongs in a subsystem: sched scenario");
    }

    [TestCaseSource(nameof(BrokenEntries))]
    public void Validate_BadSchedulerEntry_ExitsTwoAtItsLine(string yaml, string marker, string message)
    {
        string file = CliRun.Scenario(yaml);
        var (line, column) = SchedScenarioErrorTests.Where(yaml, marker);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(message));
    }

    [Test]
    public void Validate_SequentialSchedulers_AreAccepted()
    {
        string yaml = Head + "structops:\n  - { program: scx_simple, at: 0s, unregister_at: 1s }\n  - { program: scx_simple, at: 1.5s, globals: { fifo_sched: true } }\ntasks: [ { name: a } ]\n";
        var (code, output, err) = CliRun.Invoke("validate", CliRun.Scenario(yaml));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain("2 struct_ops entries"));
    }
}
