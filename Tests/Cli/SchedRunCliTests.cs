using BpfSim.Studies;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary><c>bpfsim run</c> of scheduler scenarios end to end: terminal output, --json, --out, determinism, exit codes.</summary>
[Category("Cli")]
public sealed class SchedRunCliTests
{
    private static string Shipped(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name);

    private const string Fair = """
        seed: 3
        duration: 1s
        subsystem: sched
        cpus: 2
        tasks:
          - { name: hog, behavior: cpu_bound, cpus: [0] }
          - { name: hog5, nice: 5, behavior: cpu_bound, cpus: [0] }
          - { name: web, count: 3, behavior: { sleep_wake: { run: exp(1ms), sleep: exp(5ms) } } }
          - { name: tick, behavior: { periodic: { period: 10ms, runtime: 3ms } } }
          - { name: job, arrivals: poisson, rate: 40, work: exp(2ms) }
        """;

    private static JsonNode WithoutWall(string json)
    {
        var node = JsonNode.Parse(json)!;
        node.AsObject().Remove("wall_s");
        return node;
    }

    [Test]
    public void SchedulerAndHotplugEvents_AfterAShorterDuration_AreNamedInNotes()
    {
        // The file refuses an `at` at or after its own duration; --duration can still end the run before them.
        var (code, output, err) = CliRun.Invoke("run", Shipped("sched_hotplug.yaml"), "--json", "--duration", "1.2s");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        var notes = JsonDocument.Parse(output).RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.That(notes.Count(n => n.Contains("is not before the end of the run (1.2s): not done", StringComparison.Ordinal)), Is.EqualTo(3), string.Join("\n", notes));
        var late = CliRun.Invoke("run", Shipped("scx_simple.yaml"), "--json", "--duration", "0.3s");
        Assert.That(late.Code, Is.EqualTo(ExitCodes.Success), late.Err);
        Assert.That(JsonDocument.Parse(late.Out).RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()),
            Has.One.Contains("scx_simple at 500ms is not before the end of the run (300ms): never registered"));
    }

    [Test]
    public void GroupWaits_AreComputedAsTheTasks_ExactMeanAndMax()
    {
        // A group's line comes from all of its tasks' waits together: a one-task group's line is its task's, and a
        // group's maximum is its tasks' largest (not a bucket's representative below it).
        var r = CliRun.Invoke("run", CliRun.Scenario(Fair), "--json");
        Assert.That(r.Code, Is.EqualTo(ExitCodes.Success), r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var tasks = doc.RootElement.GetProperty("tasks").EnumerateArray().ToList();
        var groups = doc.RootElement.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("name").GetString()!);
        string[] waits = ["wait_ms_mean", "wait_ms_p50", "wait_ms_p99", "wait_ms_p999", "wait_ms_max"];
        Assert.Multiple(() =>
        {
            foreach (string one in new[] { "hog", "hog5", "tick" })
            {
                var task = tasks.Single(t => t.GetProperty("name").GetString() == one);
                foreach (string key in waits)
                {
                    Assert.That(groups[one].GetProperty(key).GetDouble(), Is.EqualTo(task.GetProperty(key).GetDouble()), $"{one} {key}");
                }
            }
            var web = tasks.Where(t => t.GetProperty("name").GetString() == "web").ToList();
            Assert.That(groups["web"].GetProperty("wait_ms_max").GetDouble(), Is.EqualTo(web.Max(t => t.GetProperty("wait_ms_max").GetDouble())));
            Assert.That(groups["web"].GetProperty("wait_ms_mean").GetDouble(),
                Is.InRange(web.Min(t => t.GetProperty("wait_ms_mean").GetDouble()), web.Max(t => t.GetProperty("wait_ms_mean").GetDouble())));
        });
    }

    [Test]
    public void Run_FairScenario_Json_HasTheSchedSummary_AndIsDeterministic()
    {
        string file = CliRun.Scenario(Fair);
        var a = CliRun.Invoke("run", file, "--json");
        var b = CliRun.Invoke("run", file, "--json");
        Assert.That(a.Code, Is.EqualTo(ExitCodes.Success), a.Err);
        Assert.That(WithoutWall(b.Out).ToJsonString(), Is.EqualTo(WithoutWall(a.Out).ToJsonString()), "same seed, same summary");
        using var doc = JsonDocument.Parse(a.Out);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("subsystem").GetString(), Is.EqualTo("sched"));
        Assert.That(root.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(1));
        var tasks = root.GetProperty("tasks").EnumerateArray().ToList();
        Assert.That(tasks.Select(t => t.GetProperty("name").GetString()), Is.EqualTo(new[] { "hog", "hog5", "web", "web", "web", "tick" }));
        Assert.That(tasks.Select(t => t.GetProperty("class").GetString()), Is.All.EqualTo("fair"));
        double hog = tasks[0].GetProperty("runtime_s").GetDouble(), hog5 = tasks[1].GetProperty("runtime_s").GetDouble();
        Assert.That(hog + hog5, Is.GreaterThan(0.5), "the hogs ran");
        Assert.That(hog5 / hog, Is.LessThan(0.7), "nice 5 gets less than nice 0");
        Assert.That(tasks[5].GetProperty("periods").GetInt64(), Is.InRange(95, 101));
        Assert.That(root.GetProperty("jobs")[0].GetProperty("count").GetInt64(), Is.InRange(20, 60));
        Assert.That(root.GetProperty("cpus").GetArrayLength(), Is.EqualTo(2));
        Assert.That(root.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("name").GetString()), Is.EqualTo(new[] { "hog", "hog5", "web", "tick" }));
        Assert.That(root.TryGetProperty("ejected", out _), Is.False);
        Assert.That(root.GetProperty("timeline").GetProperty("segments").GetInt64(), Is.GreaterThan(100));
        var other = CliRun.Invoke("run", file, "--json", "--seed", "4");
        Assert.That(WithoutWall(other.Out).ToJsonString(), Is.Not.EqualTo(WithoutWall(a.Out).ToJsonString()), "another seed, another run");
    }

    [Test]
    public void Run_FairScenario_Terminal_ShowsTablesAndTheTimeline()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(Fair));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain("seed 3, 1 s simulated"));
        Assert.That(output, Does.Contain("no sched_ext scheduler: every task ran in the fair class"));
        Assert.That(output, Does.Contain("tasks (wait: runnable → running)").And.Contain("wait ms mean").And.Contain("p99.9"));
        Assert.That(output, Does.Contain("jobs (poisson arrivals").And.Contain("CPUs"));
        Assert.That(output, Does.Contain("per-CPU timeline"));
        Assert.That(Regex.Matches(output, @"^cpu +\d+ ", RegexOptions.Multiline), Has.Count.EqualTo(2), "one strip row per CPU");
        Assert.That(output, Does.Not.Contain("\u001b["), "no colour codes into a file");
    }

    [Test]
    public void Run_Out_WritesTheSchedFiles_AndTheReportHasALanePerCpu()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-sched-out-{Guid.NewGuid():N}");
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(Fair.Replace("cpus: 2", "cpus: 3", StringComparison.Ordinal)), "--out", dir);
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain($"wrote summary.json, tasks.csv, cpus.csv, timeline.csv, struct_ops.json, report.html to {dir}"));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "tasks.csv"))[0], Is.EqualTo(string.Join(",", BpfSim.Studies.Output.SchedOutputWriter.TasksHeader)));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "cpus.csv"))[0], Is.EqualTo("t_s,cpu,busy,runnable"));
        var timeline = File.ReadAllLines(Path.Combine(dir, "timeline.csv"));
        Assert.That(timeline[0], Is.EqualTo("cpu,start_s,end_s,pid,comm,group,class"));
        Assert.That(timeline.Skip(1).Select(l => l.Split(',')[0]).Distinct().Order(), Is.EqualTo(new[] { "0", "1", "2" }));
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        var lanes = Regex.Matches(html, "<g class=\"lane\" data-cpu=\"(\\d+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.That(lanes, Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(ReportTests.NetworkReferences(html), Is.Empty);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.That(summary.RootElement.GetProperty("subsystem").GetString(), Is.EqualTo("sched"));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void Run_RtAppScenario_ImportsAndRuns()
    {
        var (code, output, err) = CliRun.Invoke("run", Shipped("sched_rtapp.yaml"), "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.EqualTo(new[] { "frame", "pool", "pool", "pool", "pool", "audio", "hog" }));
        Assert.That(doc.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()), Has.Some.Contains("calibration"));
        var audio = doc.RootElement.GetProperty("tasks")[5];
        Assert.That(audio.GetProperty("nice").GetInt32(), Is.EqualTo(-10));
        Assert.That(audio.GetProperty("runtime_s").GetDouble(), Is.EqualTo(0.2).Within(0.01), "500 us every 5 ms for 2 s");
    }

    [Test]
    public void Run_DurationAndSeedOverrides_ApplyToSchedScenarios()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(Fair), "--json", "--duration", "0.5s", "--seed", "9");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(0.5));
        Assert.That(doc.RootElement.GetProperty("seed").GetUInt64(), Is.EqualTo(9));
    }

    [Test]
    public void Run_SchedScenarioTooLargeForMemory_ExitsTwoWithTheEstimate()
    {
        string yaml = "subsystem: sched\nduration: 1000000s\ncpus: 256\ntasks:\n" +
                      string.Concat(Enumerable.Range(0, 20).Select(i => $"  - {{ name: g{i}, count: 100000, behavior: {{ sleep_wake: {{ run: 1us, sleep: 1us }} }} }}\n"));
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(yaml));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith("bpfsim: ").And.Contain("would not fit in memory").And.Contain("fewer tasks"));
    }
}
