namespace BpfSim.Tests.Studies.Sweeps;

/// <summary>
/// A sweep run for real as a Slurm job array: tools/slurm/localhost-cluster.sh brings up a one-node cluster from Debian's
/// slurm-wlm and munge, <c>bpfsim sweep --emit slurm</c> writes the array script, sbatch runs it, <c>bpfsim sweep
/// collect</c> merges the chunks, and the merged tables must be byte for byte what a local sweep of the same file writes.
/// Skipped with its reason where the cluster cannot run (not root, packages missing: tools/test.sh installs them).
/// </summary>
[Category("Slurm")]
[NonParallelizable] // a cluster and a job array on a shared machine: one at a time
public sealed class SlurmClusterTests
{
    private bool _startedCluster;

    private const string BaseScenario = """
        seed: 1
        duration: 2s
        network:
          topology: dumbbell
          bottleneck: { rate: 20Mbps, delay: 10ms, loss: 0.002, queue: { type: droptail, limit: 40 } }
          access: { rate: 1Gbps, delay: 1ms }
        flows:
          - { count: 2, cc: cubic, start: 0s }
        """;

    // 2 algorithms × 2 queue limits × 2 seeds = 8 runs, in 3 chunks: the last chunk is shorter than the others. The
    // random loss makes the two seeds' runs differ, so a run written under the wrong seed would show.
    private const string Sweep = """
        name: slurm-test
        base: base.yaml
        grid:
          flows[0].cc: [cubic, reno]
          network.bottleneck.queue.limit: [20, 80]
        seeds: 1..2
        """;

    [OneTimeSetUp]
    public void StartCluster()
    {
        string? whyNot = LocalhostSlurm.WhyNot();
        if (whyNot is not null)
            Assert.Ignore(whyNot);
        // A cluster that already runs (someone's, or one left on purpose) is used and left running.
        if (LocalhostSlurm.Cluster("status", 30).Code == 0)
            return;
        var start = LocalhostSlurm.Cluster("start");
        if (start.Code == LocalhostSlurm.CannotHost)
            Assert.Ignore($"tools/slurm/localhost-cluster.sh cannot host a cluster here: {start.Err.Trim()}");
        _startedCluster = true;
        Assert.That(start.Code, Is.Zero, $"tools/slurm/localhost-cluster.sh start failed: {start}");
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        if (_startedCluster)
            LocalhostSlurm.Cluster("stop", 60);
    }

    [Test]
    public void SweepAsJobArray_Collected_EqualsALocalSweepByteForByte()
    {
        string work = Path.Combine(Path.GetTempPath(), $"bpfsim-slurm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "base.yaml"), BaseScenario + "\n");
        string sweepFile = Path.Combine(work, "sweep.yaml");
        File.WriteAllText(sweepFile, Sweep + "\n");
        string jobDir = Path.Combine(work, "cluster");
        string localDir = Path.Combine(work, "local");

        // No --bpfsim: the script runs the bpfsim that emitted it (here dotnet and the built bpfsim.dll), as a user's would.
        var emit = LocalhostSlurm.Bpfsim(work, "sweep", sweepFile, "--emit", "slurm", jobDir, "--chunks", "3");
        Assert.That(emit.Code, Is.Zero, $"bpfsim sweep --emit slurm: {emit}");
        string script = Path.Combine(jobDir, "sweep.sbatch");
        Assert.That(File.ReadAllText(script), Does.Contain("--array=0-2"), "three chunks, three array tasks");

        // --wait: sbatch returns when every task has ended, with the highest exit code among them. The job name lets a
        // job that outlives the timeout be cancelled.
        string jobName = $"bpfsim-test-{Guid.NewGuid():N}";
        var submit = LocalhostSlurm.Slurm("sbatch", new[] { "--wait", "--parsable", "--job-name", jobName, script }, jobDir, 150);
        if (submit.Code == -1)
            LocalhostSlurm.Slurm("scancel", new[] { "--name", jobName }, jobDir);
        Assert.That(submit.Code, Is.Zero, $"sbatch --wait {script}: {submit}\n{TaskLogs(jobDir)}");

        var runDirs = Directory.GetDirectories(Path.Combine(jobDir, "runs"));
        Assert.That(runDirs, Has.Length.EqualTo(8), "one folder per point and seed");
        Assert.That(runDirs.Where(d => !File.Exists(Path.Combine(d, "done"))), Is.Empty, "every run wrote its done marker");

        var collect = LocalhostSlurm.Bpfsim(work, "sweep", "collect", jobDir);
        Assert.That(collect.Code, Is.Zero, $"bpfsim sweep collect: {collect}");

        var local = LocalhostSlurm.Bpfsim(work, "sweep", sweepFile, "--out", localDir, "--quiet");
        Assert.That(local.Code, Is.Zero, $"local bpfsim sweep: {local}");

        foreach (string table in new[] { "sweep.csv", "points.csv" })
        {
            string merged = File.ReadAllText(Path.Combine(jobDir, table));
            Assert.That(merged.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, Is.GreaterThan(1), $"{table} has rows");
            Assert.That(merged, Is.EqualTo(File.ReadAllText(Path.Combine(localDir, table))),
                $"{table} from the job array equals the local sweep's");
            Assert.That(File.ReadAllBytes(Path.Combine(jobDir, table)), Is.EqualTo(File.ReadAllBytes(Path.Combine(localDir, table))),
                $"{table}: byte for byte");
        }
        string[] sweepRows = File.ReadAllLines(Path.Combine(jobDir, "sweep.csv"));
        Assert.That(sweepRows, Has.Length.EqualTo(9), "a header and one row per run");
        int run = Array.IndexOf(sweepRows[0].Split(','), "run");
        Assert.That(run, Is.GreaterThan(0), "sweep.csv has a run column");
        // point → its seeds' metrics (the columns after run): the two seeds of a point must differ somewhere.
        var metricsBySeed = sweepRows.Skip(1).Select(r => r.Split(','))
            .GroupBy(f => f[0], f => string.Join(',', f.Skip(run + 1)));
        Assert.That(metricsBySeed.Any(point => point.Distinct().Count() > 1),
            "some point's seeds give different runs (else a run filed under the wrong seed would not show)");
        Assert.That(File.Exists(Path.Combine(jobDir, "sweep.parquet")), "collect writes sweep.parquet too");
        Directory.Delete(work, recursive: true);
    }

    /// <summary>The tasks' output files (slurm-*.out, wherever the script sends them), for a failure's message.</summary>
    private static string TaskLogs(string jobDir) =>
        string.Join("\n", Directory.EnumerateFiles(jobDir, "*.out", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"--- {f}\n{File.ReadAllText(f)}"));
}
