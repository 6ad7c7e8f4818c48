using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class SweepManifestTests
{
    [TestCase("{}")]
    [TestCase("""{"sweep": "s.yaml", "name": "s", "base": "b.yaml", "grid": [], "seeds": [1], "points": [], "runs": null, "chunks": []}""")]
    public void Read_FieldMissingOrNull_IsNotAManifest(string json)
    {
        string dir = SweepFixtures.OutDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, SweepManifest.FileName), json);
        var e = Assert.Throws<IOException>(() => SweepManifest.Read(dir))!;
        Assert.That(e.Message, Does.Contain("not a sweep manifest"));
    }

    [Test]
    public void Read_WrittenManifest_RoundTrips()
    {
        var plan = SweepPlan.Load(SweepFixtures.Write("base: base.yaml\ngrid:\n  flows[0].cc: [cubic, bbr]\nseeds: 1..2\n"),
            SweepFixtures.Factory, SweepFixtures.Catalog);
        string dir = SweepFixtures.OutDir();
        SweepManifest.For(plan, 3).Write(dir);
        var read = SweepManifest.Read(dir);
        Assert.That(read.Runs, Is.EqualTo(plan.Runs.Select(r => new ManifestRun(r.Id, r.Point.Id, r.Seed))));
        Assert.That(read.Chunks.Select(c => c.Count), Is.EqualTo(new[] { 2, 1, 1 }));
    }

    [Test]
    public void Sweep_OutOnAFile_Exit2BeforeAnyRun()
    {
        string sweep = SweepFixtures.Write("base: base.yaml\nseeds: 1..2\n");
        string file = Path.GetTempFileName();
        var (code, output, err) = BpfSim.Tests.Cli.CliRun.Invoke("sweep", sweep, "--out", file);
        Assert.That(code, Is.EqualTo(BpfSim.Studies.ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"bpfsim: --out {file}: a file is there"));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void Collect_ARunsSummaryCut_NamesTheFile_NotAnInternalError()
    {
        string sweep = SweepFixtures.Write("base: base.yaml\nseeds: 1..1\n");
        string outDir = SweepFixtures.OutDir();
        var (code, _, err) = BpfSim.Tests.Cli.CliRun.Invoke("sweep", sweep, "--out", outDir, "--quiet");
        Assert.That(code, Is.Zero, err);
        string summary = Directory.GetFiles(outDir, "summary.json", SearchOption.AllDirectories).Single();
        File.WriteAllText(summary, "{\"x\":");
        (code, _, err) = BpfSim.Tests.Cli.CliRun.Invoke("sweep", "collect", outDir);
        Assert.That(code, Is.EqualTo(BpfSim.Studies.ExitCodes.BadInput), err); // collect's input is the folder's files
        Assert.That(err, Does.Contain($"{summary}: not a run summary").And.Not.Contain("internal error"));
    }

    [Test]
    public void Collect_ADoneMarkerCut_SaysItIsUnreadable_NotMissing()
    {
        string sweep = SweepFixtures.Write("base: base.yaml\nseeds: 1..1\n");
        string outDir = SweepFixtures.OutDir();
        Assert.That(BpfSim.Tests.Cli.CliRun.Invoke("sweep", sweep, "--out", outDir, "--quiet").Code, Is.Zero);
        string done = Directory.GetFiles(outDir, "done", SearchOption.AllDirectories).Single();
        File.WriteAllText(done, "{bad");
        var (code, _, err) = BpfSim.Tests.Cli.CliRun.Invoke("sweep", "collect", outDir, "--quiet");
        Assert.That(code, Is.EqualTo(BpfSim.Studies.ExitCodes.SimulationFailed), err);
        Assert.That(err, Does.Contain($"{done} is there but unreadable").And.Not.Contain("no done marker"));
    }
}
