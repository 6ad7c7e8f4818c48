using System.Text.Json.Nodes;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class SweepExecutorTests
{
    // bbr and random loss make every seed's run different, so a run mixed up with another would show.
    private const string Sweep = "base: base.yaml\ngrid:\n  flows[0].cc: [cubic, bbr]\n  network.bottleneck.loss: [0, 0.005]\nseeds: 1..3\n";

    private static SweepPlan Plan() => SweepPlan.Load(SweepFixtures.Write(Sweep), SweepFixtures.Factory, SweepFixtures.Catalog);

    private static IReadOnlyList<RunRecord> Execute(SweepPlan plan, string outDir, int jobs, bool resume = false) =>
        SweepExecutor.Execute(plan, plan.Runs, new SweepExecution { OutputDirectory = outDir, Jobs = jobs, Resume = resume },
            SweepFixtures.Factory, SweepFixtures.Catalog);

    /// <summary>A run's summary.json without its wall time and the path it was run from.</summary>
    internal static string Summary(string outDir, string run)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(SweepFiles.RunDirectory(outDir, run), "summary.json")))!.AsObject();
        json.Remove("wall_s");
        json["manifest"]!.AsObject().Remove("scenario");
        return json.ToJsonString();
    }

    [Test]
    public void Execute_Parallel_SameSummariesAsSequential()
    {
        var plan = Plan();
        string sequential = SweepFixtures.OutDir(), parallel = SweepFixtures.OutDir();
        var one = Execute(plan, sequential, jobs: 1);
        var four = Execute(plan, parallel, jobs: 4);
        Assert.That(four.Select(r => r.Run), Is.EqualTo(plan.Runs.Select(r => r.Id)), "records in run order whatever finished first");
        Assert.That(one.Concat(four).All(r => r.Status == "ok"), Is.True);
        var summaries = plan.Runs.Select(r => Summary(sequential, r.Id)).ToList();
        Assert.That(summaries.Distinct().Count(), Is.GreaterThan(plan.Points.Count), "seeds give different runs, so a mix-up would show");
        foreach (var run in plan.Runs)
        {
            Assert.That(Summary(parallel, run.Id), Is.EqualTo(Summary(sequential, run.Id)), run.Id);
        }
    }

    [Test]
    public void Execute_ParallelBpfObjectAndCSharpConsumers_SameSummariesAsSequential()
    {
        // Consumers share the composition's catalog and each run loads its own copy of the object: the runs on other
        // threads must not see each other's maps, programs or kfunc context.
        string baseText = SweepFixtures.Base.Replace("flows:\n", "structops:\n  - { program: bpf_cubic_c, at: 0s }\n  - { program: bpf_cubic, at: 0s }\nflows:\n",
            StringComparison.Ordinal);
        string sweep = "base: base.yaml\ngrid:\n  flows[0].cc: [bpf_cubic_c, bpf_cubic]\n  flows[1].cc: [bpf_cubic_c, reno]\n  network.bottleneck.loss: [0.005]\nseeds: 1..2\n";
        var plan = SweepPlan.Load(SweepFixtures.Write(sweep, baseText), SweepFixtures.Factory, SweepFixtures.Catalog);
        string sequential = SweepFixtures.OutDir(), parallel = SweepFixtures.OutDir();
        Execute(plan, sequential, jobs: 1);
        var records = Execute(plan, parallel, jobs: 4);
        Assert.That(records.All(r => r.Status == "ok"), Is.True, string.Join("; ", records.SelectMany(r => r.Errors)));
        foreach (var run in plan.Runs)
        {
            Assert.That(Summary(parallel, run.Id), Is.EqualTo(Summary(sequential, run.Id)), run.Id);
        }
    }

    [Test]
    public void Execute_ParallelSchedExt_SameSummariesAsSequential()
    {
        // sched_ext consumers reach their kfuncs through the thread-static Scx facade: each run must see its own.
        const string baseText = """
            seed: 1
            duration: 1s
            subsystem: sched
            cpus: 2
            structops:
              - { program: scx_simple, at: 0.2s, globals: { fifo_sched: false } }
            tasks:
              - { name: hog, count: 2, nice: 0, behavior: cpu_bound }
              - { name: web, count: 3, behavior: { sleep_wake: { run: exp(1ms), sleep: exp(8ms) } } }
            """;
        string sweep = "base: base.yaml\ngrid:\n  structops[0].globals.fifo_sched: [false, true]\n  tasks[1].count: [2, 4]\nseeds: 1..2\n";
        var plan = SweepPlan.Load(SweepFixtures.Write(sweep, baseText), SweepFixtures.Factory, SweepFixtures.Catalog);
        string sequential = SweepFixtures.OutDir(), parallel = SweepFixtures.OutDir();
        Execute(plan, sequential, jobs: 1);
        var records = Execute(plan, parallel, jobs: 4);
        Assert.That(records.All(r => r.Status == "ok"), Is.True, string.Join("; ", records.SelectMany(r => r.Errors)));
        foreach (var run in plan.Runs)
        {
            Assert.That(Summary(parallel, run.Id), Is.EqualTo(Summary(sequential, run.Id)), run.Id);
        }
        SweepManifest.For(plan, 1).Write(parallel);
        SweepCollector.Collect(parallel, BpfSim.Studies.Runs.OutputFormats.Csv);
        string header = File.ReadLines(Path.Combine(parallel, "sweep.csv")).First();
        Assert.That(header, Does.StartWith("point,structops[0].globals.fifo_sched,tasks[1].count,seed,run,events,sched_events,utilization,"));
        Assert.That(header, Does.Contain(",group_web_wait_ms_p99,").And.Contain(",ejections,"));
    }

    [Test]
    public void Execute_Resume_SkipsRunsWithADoneMarker()
    {
        var plan = Plan();
        string outDir = SweepFixtures.OutDir();
        Execute(plan, outDir, jobs: 2);
        string kept = Path.Combine(SweepFiles.RunDirectory(outDir, plan.Runs[0].Id), "summary.json");
        File.WriteAllText(kept, "kept"); // a resumed sweep must not rewrite a finished run
        string redo = SweepFiles.RunDirectory(outDir, plan.Runs[1].Id);
        File.Delete(Path.Combine(redo, SweepFiles.Done));
        int reports = 0;
        var records = SweepExecutor.Execute(plan, plan.Runs, new SweepExecution
        {
            OutputDirectory = outDir, Jobs = 2, Resume = true, Progress = (_, _, _) => reports++,
        }, SweepFixtures.Factory, SweepFixtures.Catalog);
        Assert.That(File.ReadAllText(kept), Is.EqualTo("kept"));
        Assert.That(File.Exists(Path.Combine(redo, SweepFiles.Done)), Is.True);
        Assert.That(records, Has.Count.EqualTo(plan.Runs.Count));
        Assert.That(reports, Is.EqualTo(2), "one report at the start, one for the one run redone");
    }

    [Test]
    public void Execute_Run_WritesTheScenarioTheOutputsAndTheMarkerLast()
    {
        var plan = Plan();
        string outDir = SweepFixtures.OutDir();
        SweepExecutor.Execute(plan, [plan.Runs[4]], new SweepExecution
        {
            OutputDirectory = outDir, Jobs = 1, Settings = new RunSettings { Formats = OutputFormats.Csv },
        }, SweepFixtures.Factory, SweepFixtures.Catalog);
        string dir = SweepFiles.RunDirectory(outDir, plan.Runs[4].Id);
        Assert.That(File.ReadAllText(Path.Combine(dir, SweepFiles.Scenario)), Is.EqualTo(plan.Runs[4].Point.Text));
        Assert.That(File.Exists(Path.Combine(dir, "summary.json")), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, "flows.csv")), Is.True);
        var done = File.GetLastWriteTimeUtc(Path.Combine(dir, SweepFiles.Done));
        Assert.That(Directory.GetFiles(dir).Select(File.GetLastWriteTimeUtc).Max(), Is.EqualTo(done));
        Assert.That(RunRecord.Read(dir)!.Status, Is.EqualTo("ok"));
    }

    [Test]
    public void Execute_Reports_ShareOnePlotlyJsInTheSweepFolder()
    {
        var plan = Plan();
        string outDir = SweepFixtures.OutDir();
        Execute(plan, outDir, jobs: 2);
        Assert.That(File.ReadAllText(Path.Combine(outDir, SweepFiles.PlotlyJs)), Is.EqualTo(BpfSim.Studies.Output.Charts.PlotlyJs.Source));
        foreach (var run in plan.Runs)
        {
            string dir = SweepFiles.RunDirectory(outDir, run.Id);
            string report = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.That(report, Does.Contain("<script src=\"../../plotly.min.js\"").And.Not.Contain("plotly.min.js.LICENSE"), "loads the shared copy, carries none");
            Assert.That(Path.GetFullPath(Path.Combine(dir, SweepFiles.PlotlyJsFromRun)), Is.EqualTo(Path.GetFullPath(Path.Combine(outDir, SweepFiles.PlotlyJs))));
        }
    }
}
