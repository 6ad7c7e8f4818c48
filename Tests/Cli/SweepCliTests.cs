using System.Text.Json.Nodes;
using BpfSim.Studies.Sweeps;
using BpfSim.Tests.Studies.Sweeps;

namespace BpfSim.Tests.Cli;

[Category("Cli"), Category("Sweep")]
public sealed class SweepCliTests
{
    private const string Sweep = "name: small\nbase: base.yaml\ngrid:\n  flows[1].cc: [reno, bbr]\n  network.bottleneck.queue.limit: [20, 60]\nseeds: 1..2\n";

    private static string WithoutWall(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("wall_s");
        return node.ToJsonString();
    }

    [Test]
    public void Sweep_Point_SameSummaryAsBpfsimRunOfItsScenario()
    {
        string sweep = SweepFixtures.Write(Sweep), outDir = SweepFixtures.OutDir();
        var (code, _, err) = CliRun.Invoke("sweep", sweep, "--out", outDir, "--jobs", "2", "--quiet");
        Assert.That(code, Is.Zero, err);
        foreach (var (run, seed) in new[] { ("p003-s02", "2"), ("p001-s01", "1") })
        {
            string dir = SweepFiles.RunDirectory(outDir, run);
            var (runCode, json, runErr) = CliRun.Invoke("run", Path.Combine(dir, SweepFiles.Scenario), "--seed", seed, "--json");
            Assert.That(runCode, Is.Zero, runErr);
            Assert.That(WithoutWall(json), Is.EqualTo(WithoutWall(File.ReadAllText(Path.Combine(dir, "summary.json")))), run);
        }
    }

    [Test]
    public void Sweep_Tables_OneRowPerRunAndOnePerPoint()
    {
        string sweep = SweepFixtures.Write(Sweep), outDir = SweepFixtures.OutDir();
        var (code, output, err) = CliRun.Invoke("sweep", sweep, "--out", outDir, "--jobs", "2");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("8 runs, 8 completed"));
        var rows = File.ReadAllLines(Path.Combine(outDir, "sweep.csv"));
        Assert.That(rows, Has.Length.EqualTo(9));
        Assert.That(rows[0], Does.StartWith("point,flows[1].cc,network.bottleneck.queue.limit,seed,run,events,flows,goodput_mbps,jain,"));
        Assert.That(rows[0], Does.Contain(",group0_goodput_mbps,").And.Contain(",group1_goodput_mbps,").And.Contain(",link_bottleneck_drops,"));
        Assert.That(rows[0], Does.EndWith(",exit_code,status"));
        Assert.That(rows[0], Does.Not.Contain("wall"));
        Assert.That(rows[3], Does.StartWith("p001,reno,60,1,p001-s01,"));
        Assert.That(rows[3], Does.EndWith(",0,ok"));
        var points = File.ReadAllLines(Path.Combine(outDir, "points.csv"));
        Assert.That(points, Has.Length.EqualTo(5));
        Assert.That(points[0], Does.Contain(",runs,completed,events_mean,events_ci95,"));
        Assert.That(File.ReadAllLines(Path.Combine(outDir, "timing.csv"))[0], Is.EqualTo("run,wall_s"));
        foreach (var name in new[] { "sweep.parquet", "points.parquet", "manifest.json" })
        {
            Assert.That(File.Exists(Path.Combine(outDir, name)), Is.True, name);
        }
    }

    [Test]
    public void Sweep_EmitOnlyEachChunkThenCollect_SameTablesAsALocalSweep()
    {
        string sweep = SweepFixtures.Write(Sweep), local = SweepFixtures.OutDir(), cluster = SweepFixtures.OutDir();
        Assert.That(CliRun.Invoke("sweep", sweep, "--out", local, "--jobs", "2", "--quiet").Code, Is.Zero);
        var (emitCode, _, emitErr) = CliRun.Invoke("sweep", sweep, "--emit", "slurm", cluster, "--chunks", "3", "--bpfsim", "/opt/bpfsim/bpfsim");
        Assert.That(emitCode, Is.Zero, emitErr);
        string script = File.ReadAllText(Path.Combine(cluster, SlurmScript.FileName));
        Assert.That(script, Does.Contain("#SBATCH --array=0-2\n"));
        Assert.That(script, Does.Contain($"/opt/bpfsim/bpfsim sweep {Path.GetFullPath(sweep)} --only \"$SLURM_ARRAY_TASK_ID\" --out {Path.GetFullPath(cluster)}"));
        var manifest = SweepManifest.Read(cluster);
        Assert.That(manifest.Chunks.Select(c => c.Count), Is.EqualTo(new[] { 3, 3, 2 }));
        Assert.That(manifest.Chunks.SelectMany(c => c).Order(), Is.EqualTo(manifest.Runs.Select(r => r.Id).Order()));
        for (int chunk = 2; chunk >= 0; chunk--)
        {
            var (code, _, err) = CliRun.Invoke("sweep", sweep, "--only", $"{chunk}", "--out", cluster, "--quiet");
            Assert.That(code, Is.Zero, err);
        }
        var (collectCode, _, collectErr) = CliRun.Invoke("sweep", "collect", cluster);
        Assert.That(collectCode, Is.Zero, collectErr);
        foreach (var table in new[] { "sweep.csv", "points.csv" })
        {
            Assert.That(File.ReadAllBytes(Path.Combine(cluster, table)), Is.EqualTo(File.ReadAllBytes(Path.Combine(local, table))), table);
        }
    }

    [Test]
    public void Only_WithoutAManifest_Exit2BeforeAnyRun()
    {
        string sweep = SweepFixtures.Write(Sweep), dir = SweepFixtures.OutDir();
        var (code, _, err) = CliRun.Invoke("sweep", sweep, "--only", "0", "--out", dir, "--quiet");
        Assert.That(code, Is.EqualTo(BpfSim.Studies.ExitCodes.BadInput));
        Assert.That(err, Does.Contain($"--only 0: {dir} has no manifest.json: write it first with --emit slurm"));
        Assert.That(Directory.Exists(Path.Combine(dir, "runs")), Is.False, "nothing ran");
    }

    [Test]
    public void Collect_UnfinishedRun_ListedAsMissingAndExitOne()
    {
        string sweep = SweepFixtures.Write(Sweep), dir = SweepFixtures.OutDir();
        Assert.That(CliRun.Invoke("sweep", sweep, "--emit", "slurm", dir, "--chunks", "2").Code, Is.Zero);
        Assert.That(CliRun.Invoke("sweep", sweep, "--only", "0", "--out", dir, "--quiet").Code, Is.Zero);
        var (code, _, err) = CliRun.Invoke("sweep", "collect", dir, "--quiet");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("run p000-s02: not finished"));
        Assert.That(err, Does.Contain($"in chunk 1: run them again (sbatch --array=1 {Path.Combine(dir, "sweep.sbatch")})"));
        var rows = File.ReadAllLines(Path.Combine(dir, "sweep.csv"));
        Assert.That(rows[2], Does.StartWith("p000,reno,20,2,p000-s02,").And.EndWith(",,missing"));
    }

    [Test]
    public void Sweep_Resume_RerunsOnlyWhatIsNotDone()
    {
        string sweep = SweepFixtures.Write(Sweep), outDir = SweepFixtures.OutDir();
        Assert.That(CliRun.Invoke("sweep", sweep, "--out", outDir, "--quiet").Code, Is.Zero);
        byte[] before = File.ReadAllBytes(Path.Combine(outDir, "sweep.csv"));
        Directory.Delete(SweepFiles.RunDirectory(outDir, "p002-s01"), recursive: true);
        var (code, output, err) = CliRun.Invoke("sweep", sweep, "--out", outDir, "--resume");
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("8 runs (7 done before, kept) on 1 worker"));
        Assert.That(output, Does.Contain("8 runs, 8 completed"));
        Assert.That(File.ReadAllBytes(Path.Combine(outDir, "sweep.csv")), Is.EqualTo(before));
    }

    [Test]
    public void Sweep_RunWithAConsumerFault_RecordedAsFaultOthersRunExitThree()
    {
        // scx_stall stalls its tasks; the watchdog (timeout_ms) ejects it, and the run completes with exit code 3.
        string baseText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "scenarios", "scx_stall.yaml"));
        string sweep = SweepFixtures.Write("base: base.yaml\ngrid:\n  structops[0].globals.timeout_ms: [500, 30000]\n  duration: [2s]\nseeds: 1\n", baseText);
        string outDir = SweepFixtures.OutDir();
        var (code, _, err) = CliRun.Invoke("sweep", sweep, "--out", outDir, "--quiet");
        Assert.That(code, Is.EqualTo(3), err);
        Assert.That(err, Does.Contain("bpfsim: sweep: run p000-s01: fault (exit 3): bpfsim: scheduler stall ejected at "));
        var rows = File.ReadAllLines(Path.Combine(outDir, "sweep.csv"));
        Assert.That(rows[1], Does.StartWith("p000,500,2s,1,").And.EndWith(",3,fault"));
        Assert.That(rows[2], Does.StartWith("p001,30000,2s,1,").And.EndWith(",0,ok"));
    }

    [Test]
    public void Sweep_BadFile_ExitTwoWithFileLineColumn()
    {
        string sweep = SweepFixtures.Write("base: base.yaml\ngrid:\n  flows[7].cc: [bbr]\nseeds: 1\n");
        var (code, _, err) = CliRun.Invoke("sweep", sweep, "--out", SweepFixtures.OutDir());
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith($"{sweep}:3:3: grid: flows[7].cc: flows has 2 entries"));
        Assert.That(CliRun.AllLinesAreErrors(err), Is.True, err);
    }

    [TestCase("--jobs", "0", "--jobs: must be at least 1")]
    [TestCase("--emit", "pbs", "--emit: the form is --emit slurm DIR")]
    [TestCase("--trace", "/abs", "--trace: in a sweep, a folder inside each run's folder")]
    [TestCase("--trace", "../shared", "--trace: in a sweep, a folder inside each run's folder")]
    public void Sweep_BadOption_ExitTwo(string option, string value, string message)
    {
        string sweep = SweepFixtures.Write(Sweep);
        string[] args = option == "--emit" ? ["sweep", sweep, option, value, "x"] : ["sweep", sweep, option, value];
        var (code, _, err) = CliRun.Invoke(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(message));
    }

    [Test]
    public void ShippedSweep_ExpandsToSixPointsOfTenSeedsAndItsBaseRuns()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "scenarios", "sweeps");
        var plan = SweepPlan.Load(Path.Combine(dir, "dumbbell_cc.yaml"), SweepFixtures.Factory, SweepFixtures.Catalog);
        Assert.That(plan.Points, Has.Count.EqualTo(6));
        Assert.That(plan.Runs, Has.Count.EqualTo(60));
        Assert.That(plan.Points[5].Scenario.Spec.Flows[0], Has.Property("Count").EqualTo(10).And.Property("Cc").EqualTo("bbr"));
        var (code, _, err) = CliRun.Invoke("run", Path.Combine(dir, "dumbbell_10flows.yaml"), "--duration", "2s", "--quiet");
        Assert.That(code, Is.Zero, err);
    }

    [Test]
    public void Sweep_Help_NamesEveryOption()
    {
        var (code, output, _) = CliRun.Invoke("sweep", "--help");
        Assert.That(code, Is.Zero);
        foreach (var option in new[] { "--out", "--jobs", "--resume", "--only", "--emit", "--chunks", "--bpfsim", "--quiet", "--trace", "--pcap", "--format", "collect" })
        {
            Assert.That(output, Does.Contain(option));
        }
    }
}
