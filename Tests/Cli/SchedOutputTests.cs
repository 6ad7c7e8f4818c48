using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSim.Cli.Output;
using BpfSim.Studies.Output;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Workloads;
using Spectre.Console;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The scheduler outputs' shapes on a result built here (so they are checked apart from the simulation): summary
/// JSON names (DESIGN §5), CSV headers and rows, report.html's per-CPU lanes at 64 CPUs and a million segments.
/// </summary>
[Category("Cli")]
public sealed class SchedOutputTests
{
    /// <summary>A result of <paramref name="cpus"/> CPUs and two groups (hog, web), round-robin segments of 1 ms.</summary>
    internal static (SchedScenarioSpec Spec, SchedRunResult Result) Synthetic(int cpus, int tasksPerGroup, int segments, bool ejected = false)
    {
        var names = new List<(int, string, string)>();
        var tasks = new List<TaskResult>();
        for (int i = 0; i < 2 * tasksPerGroup; i++)
        {
            string group = i < tasksPerGroup ? "hog" : "web";
            names.Add((100 + i, group, group));
            tasks.Add(new TaskResult(100 + i, group, i % 3, i % 2 == 0 ? "ext" : "fair", 1.5, 0.5, 0.2, 0.1, 2.0, 3.0, 4.0, 10 + i, 2, 5, 0, 0, null));
        }
        var timeline = new List<TimelineSegment>();
        for (int s = 0; s < segments; s++)
        {
            long start = s / cpus * 1_000_000L;
            timeline.Add(new TimelineSegment(s % cpus, start, start + 900_000, s % names.Count, (byte)(s % 2)));
        }
        long end = Math.Max(1, segments / cpus) * 1_000_000L;
        var samples = Enumerable.Range(0, 10).SelectMany(i => Enumerable.Range(0, cpus).Select(c => new CpuSample(i * end / 10, c, 0.9, 2))).ToList();
        var ejections = ejected
            ? new List<EjectionResult> { new(0.5, "scx_stall", "SCX_EXIT_ERROR_STALL", 1026, 0, "runnable task stall", "hog[100] failed to run for 0.500s") }
            : [];
        var result = new SchedRunResult
        {
            Tasks = tasks,
            Jobs = [new JobGroupResult("job", 40, 38, 12.5, 10, 30, 1.5, 4)],
            Cpus = Enumerable.Range(0, cpus).Select(c => new CpuResult(c, 0.9, 1000, 0, 900)).ToList(),
            Fairness = new SchedFairnessResult(0.99, 0.01),
            Schedulers = [new SchedulerResult("scx_simple", 0.1, ejected ? 0.5 : null, ejected ? "SCX_EXIT_ERROR_STALL" : null, null, null)],
            Ejections = ejections,
            StructOps = [],
            Events = 12345,
            SchedEvents = 6789,
            SimSeconds = end / 1e9,
            WallSeconds = 0.25,
            Trace = new SchedTrace
            {
                Timeline = timeline,
                TimelineDropped = 7,
                Samples = samples,
                TaskNames = names,
                WaitsByGroup = new Dictionary<string, long[]> { ["hog"] = [1000, 2000, 3000, 4_000_000], ["web"] = [500, 800_000], ["job"] = [10_000] },
                Markers = [(end / 2, "scx_simple enabled")],
            },
            Notes = ["a note"],
        };
        return (new SchedScenarioSpec { Cpus = new CpuSpec { Count = cpus }, Duration = BpfSim.Core.Simulation.SimTime.FromNanoseconds(end) }, result);
    }

    private static SchedRunSummary Summary(SchedScenarioSpec spec, SchedRunResult result) =>
        SchedRunSummary.From(spec, result, Manifest.For("x.yaml", "text", spec.Seed, []), ["reader note"]);

    [Test]
    public void SummaryJson_HasDesignNames_AndEjected()
    {
        var (spec, result) = Synthetic(4, 2, 100, ejected: true);
        using var doc = JsonDocument.Parse(Summary(spec, result).ToJson());
        var root = doc.RootElement;
        Assert.That(root.GetProperty("subsystem").GetString(), Is.EqualTo("sched"));
        foreach (var key in new[] { "seed", "sim_time_s", "wall_s", "events", "sched_events", "tasks", "groups", "jobs", "cpus", "fairness", "schedulers",
                     "struct_ops", "ejected", "ejections", "timeline", "notes", "manifest", "faults", "programs" })
        {
            Assert.That(root.TryGetProperty(key, out _), key);
        }
        Assert.That(root.GetProperty("hz").GetInt32(), Is.EqualTo(1000), "CONFIG_HZ, the spec's default");
        using var at250 = JsonDocument.Parse(Summary(spec with { Hz = 250 }, result).ToJson());
        Assert.That(at250.RootElement.GetProperty("hz").GetInt32(), Is.EqualTo(250));
        var task = root.GetProperty("tasks")[0];
        foreach (var key in new[] { "pid", "name", "nice", "runtime_s", "wait_ms_mean", "wait_ms_p50", "wait_ms_p99", "switches", "migrations", "deadline_misses" })
        {
            Assert.That(task.TryGetProperty(key, out _), key);
        }
        foreach (var key in new[] { "count", "completed", "response_ms_mean", "response_ms_p50", "response_ms_p99" })
        {
            Assert.That(root.GetProperty("jobs")[0].TryGetProperty(key, out _), key);
        }
        Assert.That(root.GetProperty("cpus")[0].GetProperty("utilization").GetDouble(), Is.EqualTo(0.9));
        var ejected = root.GetProperty("ejected");
        Assert.That(ejected.GetProperty("t_s").GetDouble(), Is.EqualTo(0.5));
        Assert.That(ejected.GetProperty("kind").GetString(), Is.EqualTo("SCX_EXIT_ERROR_STALL"));
        Assert.That(ejected.GetProperty("exit_code").GetInt64(), Is.Zero);
        Assert.That(ejected.GetProperty("reason").GetString(), Is.EqualTo("runnable task stall"));
        Assert.That(ejected.GetProperty("msg").GetString(), Does.Contain("failed to run for"));
        Assert.That(root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()), Is.EqualTo(new[] { "reader note", "a note" }));
        var hog = root.GetProperty("groups")[0];
        Assert.That((hog.GetProperty("name").GetString(), hog.GetProperty("tasks").GetInt32(), hog.GetProperty("nice").GetString()), Is.EqualTo(("hog", 2, "0..1")));
        Assert.That(hog.GetProperty("wait_ms_max").GetDouble(), Is.EqualTo(4.0), "the group's waits together");
    }

    [Test]
    public void SummaryJson_NoEjection_HasNoEjectedField()
    {
        var (spec, result) = Synthetic(2, 1, 10);
        using var doc = JsonDocument.Parse(Summary(spec, result).ToJson());
        Assert.That(doc.RootElement.TryGetProperty("ejected", out _), Is.False);
        Assert.That(doc.RootElement.GetProperty("ejections").GetArrayLength(), Is.Zero);
    }

    [Test]
    public void Out_WritesFilesWithTheirHeaders()
    {
        var (spec, result) = Synthetic(4, 2, 100);
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-sched-{Guid.NewGuid():N}");
        var files = SchedOutputWriter.Write(dir, "x.yaml", spec, Summary(spec, result), result);
        Assert.That(files.Select(Path.GetFileName), Is.EquivalentTo(new[] { "summary.json", "tasks.csv", "cpus.csv", "timeline.csv", "struct_ops.json", "report.html" }));
        var tasks = File.ReadAllLines(Path.Combine(dir, "tasks.csv"));
        Assert.That(tasks[0], Is.EqualTo(string.Join(",", SchedOutputWriter.TasksHeader)));
        Assert.That(tasks[0], Does.StartWith("pid,name,group,nice,class,runtime_s,cpu_share,wait_ms_mean,wait_ms_p50,wait_ms_p99,wait_ms_p999"));
        Assert.That(tasks, Has.Length.EqualTo(5));
        Assert.That(tasks[1], Does.StartWith("100,hog,hog,0,ext,1.5,0.5,0.2,0.1,2,3,4,10,2,5,0,0,"));
        var cpus = File.ReadAllLines(Path.Combine(dir, "cpus.csv"));
        Assert.That(cpus[0], Is.EqualTo("t_s,cpu,busy,runnable"));
        Assert.That(cpus, Has.Length.EqualTo(1 + 10 * 4));
        var timeline = File.ReadAllLines(Path.Combine(dir, "timeline.csv"));
        Assert.That(timeline[0], Is.EqualTo("cpu,start_s,end_s,pid,comm,group,class"));
        Assert.That(timeline[1], Is.EqualTo("0,0,0.0009,100,hog,hog,fair"));
        Assert.That(timeline, Has.Length.EqualTo(101));
        using var so = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "struct_ops.json")));
        Assert.That(so.RootElement.GetProperty("markers")[0].GetProperty("event").GetString(), Is.EqualTo("scx_simple enabled"));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void Report_HasOneLanePerCpu_At64Cpus_AndAMillionSegments()
    {
        var (spec, result) = Synthetic(64, 40, 1_000_000);
        var summary = Summary(spec, result);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string html = SchedHtmlReport.Render("x.yaml", spec, summary, result);
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(30));
        var lanes = Regex.Matches(html, "<g class=\"lane\" data-cpu=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.That(lanes, Is.EqualTo(Enumerable.Range(0, 64)));
        int rects = Regex.Matches(html, "<rect ").Count;
        Assert.That(rects, Is.LessThan(64 * SchedTimelineSvg.Columns + 25_000), "drawn merged, not a rectangle per segment");
        Assert.That(html, Does.Contain("1,000,000 segments drawn as"));
        Assert.That(html, Does.Contain("<title>cpu 0, "), "hover text");
        Assert.That(html.Length, Is.LessThan(30_000_000));
        Assert.That(ReportTests.NetworkReferences(html), Is.Empty);
    }

    [Test]
    public void Report_Ejection_ComesFirst_WithTheKernelsMessage()
    {
        var (spec, result) = Synthetic(2, 1, 50, ejected: true);
        string html = SchedHtmlReport.Render("x.yaml", spec, Summary(spec, result), result);
        int eject = html.IndexOf("Scheduler ejected", StringComparison.Ordinal);
        Assert.That(eject, Is.GreaterThan(0).And.LessThan(html.IndexOf("Task groups", StringComparison.Ordinal)));
        Assert.That(html, Does.Contain("hog[100] failed to run for 0.500s").And.Contain("SCX_EXIT_ERROR_STALL"));
        Assert.That(new[] { "Wait-time distribution", "CPU utilization", "class=\"marker\"" }.Where(x => !html.Contains(x, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void Terminal_ManyTasks_OneRowPerGroup_AndEjectionInRed()
    {
        var (spec, result) = Synthetic(4, 30, 400, ejected: true);
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.Standard,
        });
        console.Profile.Width = 220;
        SchedTerminal.Print(console, "x.yaml", spec, Summary(spec, result), result);
        string text = writer.ToString();
        Assert.That(text, Does.Contain("tasks: 60 in 2 groups"));
        Assert.That(text, Does.Not.Contain("│ 101 "), "no row per task");
        Assert.That(text, Does.Contain("failed to run for 0.500s"));
        Assert.That(text, Does.Contain("\u001b[91m").Or.Contain("\u001b[31m"), "red");
        Assert.That(text, Does.Contain("per-CPU timeline").And.Contain("cpu   3 "));
    }
}
