using System.Diagnostics;
using System.Text.Json;
using BpfSim.Cli.Commands;
using Bogus;

namespace BpfSim.Tests.Cli;

/// <summary>
/// <c>bpfsim run --large-pages</c>: reading the free huge pages from /proc/meminfo, sizing the child's heap from the
/// run's memory estimate, and the run itself as a user starts it: on this machine's huge pages when enough are free,
/// else refused with what to reserve.
/// </summary>
[Category("Cli")]
public sealed class LargePageHeapTests
{
    private const long TwoMiB = 2L << 20;

    private const string Meminfo = """
        MemTotal:       24590620 kB
        MemFree:        17830364 kB
        AnonHugePages:         0 kB
        HugePages_Total:     600
        HugePages_Free:      597
        HugePages_Rsvd:        3
        HugePages_Surp:        0
        Hugepagesize:       2048 kB
        Hugetlb:         1228800 kB
        """;

    [Test]
    public void Meminfo_FreePagesAndPageSize_AreRead()
    {
        Assert.That(LargePageHeap.TryReadMeminfo(Meminfo, out long total, out long free, out long pageBytes), Is.True);
        Assert.That(total, Is.EqualTo(600));
        Assert.That(free, Is.EqualTo(594), "HugePages_Free less the 3 of HugePages_Rsvd another process has mapped");
        Assert.That(pageBytes, Is.EqualTo(TwoMiB));
    }

    [Test]
    public void Meminfo_WithoutHugetlbfs_IsRefused()
    {
        Assert.That(LargePageHeap.TryReadMeminfo("MemTotal:       24590620 kB\nMemFree:        17830364 kB\n", out _, out _, out _), Is.False);
    }

    [Test]
    public void StrayMarker_WithoutTheRuntimesLimit_IsNotALargePageRun()
    {
        string? before = Environment.GetEnvironmentVariable(LargePageHeap.MarkerVariable);
        try
        {
            Environment.SetEnvironmentVariable(LargePageHeap.MarkerVariable, "536870912");
            Assert.That(LargePageHeap.ActiveLimit, Is.Null, "this test process has no 512 MiB heap limit");
        }
        finally
        {
            Environment.SetEnvironmentVariable(LargePageHeap.MarkerVariable, before);
        }
    }

    [Test]
    public void Validate_SaysHowManyPagesTheRunWouldTake_OnlyWhereThereIsAPool()
    {
        Assert.That(LargePageHeap.Describe(300e6, 0, 0, TwoMiB), Is.Null, "no pool: nothing said");
        Assert.That(LargePageHeap.Describe(300e6, 2000, 1800, TwoMiB),
            Is.EqualTo("large pages: --large-pages would run it on 287 huge pages of 2 MiB (1,800 of 2,000 free)"));
        Assert.That(LargePageHeap.Describe(300e6, 2000, 100, TwoMiB),
            Is.EqualTo("large pages: --large-pages needs at least 191 free huge pages of 2 MiB (100 of 2,000 free)"));
    }

    [Test]
    public void Limit_IsTwiceTheEstimate_InWholePages()
    {
        // 300 MB × 2 = 600,000,000 B = 286.1 pages of 2 MiB → 287.
        Assert.That(LargePageHeap.PlanLimit(300e6, 1000, 1000, TwoMiB, out var error), Is.EqualTo(287 * TwoMiB));
        Assert.That(error, Is.Null);
    }

    [Test]
    public void Limit_ForASmallRun_IsTheMinimum()
    {
        Assert.That(LargePageHeap.PlanLimit(67e6, 1000, 1000, TwoMiB, out _), Is.EqualTo(LargePageHeap.MinimumHeapBytes));
    }

    [Test]
    public void Limit_WhenFewerPagesAreFreeThanTwiceTheEstimate_TakesAllFreeOnes()
    {
        // 300 MB needs 300e6 / 0.75 = 400,000,000 B = 190.7 → 191 pages; 250 are free, fewer than the 287 wanted.
        Assert.That(LargePageHeap.PlanLimit(300e6, 250, 250, TwoMiB, out _), Is.EqualTo(250 * TwoMiB));
        Assert.That(LargePageHeap.PlanLimit(300e6, 191, 191, TwoMiB, out _), Is.EqualTo(191 * TwoMiB));
    }

    [Test]
    public void Limit_WhenTheFreePagesCannotHoldTheRun_IsRefusedWithWhatToReserve()
    {
        // 190 free of 500: 191 are needed, 287 wanted when free; 310 are in use, so 310 + 287.
        Assert.That(LargePageHeap.PlanLimit(300e6, 500, 190, TwoMiB, out var error), Is.Null);
        Assert.That(error, Does.Contain("needs at least 191 free huge pages of 2 MiB and 190 are free")
            .And.Contain("it runs on 287 pages").And.Contain("sudo sysctl vm.nr_hugepages=597"));
    }

    [Test]
    public void Limit_OverRandomRuns_HoldsTheRunInWholeFreePages()
    {
        var random = new Randomizer(20261126);
        for (int i = 0; i < 2000; i++)
        {
            double estimate = random.Double(1e6, 8e9);
            long pageBytes = random.Bool() ? TwoMiB : 1L << 30;
            long free = random.Long(0, 20_000);
            long? limit = LargePageHeap.PlanLimit(estimate, free + random.Long(0, 100), free, pageBytes, out var error);
            double needed = Math.Max(estimate / 0.75, LargePageHeap.MinimumHeapBytes);
            if (limit is { } l)
            {
                Assert.That(l % pageBytes, Is.Zero, "whole pages");
                Assert.That(l, Is.LessThanOrEqualTo(free * pageBytes), "only free pages");
                Assert.That(l, Is.GreaterThanOrEqualTo(needed), "the run fits its budget of 3/4 of the heap");
                Assert.That(l, Is.LessThanOrEqualTo(Math.Max(2 * estimate, LargePageHeap.MinimumHeapBytes) + pageBytes), "no more than twice the estimate");
                Assert.That(error, Is.Null);
            }
            else
            {
                Assert.That(free * pageBytes, Is.LessThan(needed), $"refused with {free} free pages for {estimate:0} B");
                Assert.That(error, Does.Contain("reserve them first"));
            }
        }
    }

    /// <summary>
    /// The built command with --large-pages, as a user runs it: where this machine has the huge pages free, the run
    /// happens on them and its summary is the one without the option; where it has not, exit 2 and what to reserve.
    /// </summary>
    [Test]
    public void Run_WithLargePages_GivesTheSameSummary_OrSaysWhatToReserve()
    {
        string scenario = CliRun.Scenario("""
            seed: 3
            duration: 2s
            network:
              bottleneck: { rate: 20Mbps, delay: 5ms, queue: { type: droptail, limit: 100 } }
            flows:
              - { count: 3, cc: cubic }
            """);
        LargePageHeap.TryReadMeminfo(File.ReadAllText("/proc/meminfo"), out _, out long free, out long pageBytes);
        var (code, output, err) = CliRun.Built("run", scenario, "--large-pages", "--json");
        bool enough = free > 0 && free * pageBytes >= LargePageHeap.MinimumHeapBytes;
        if (!enough)
        {
            Assert.That(code, Is.EqualTo(2), err);
            Assert.That(output, Is.Empty);
            Assert.That(err, Does.StartWith("bpfsim: --large-pages: ").And.Contain("vm.nr_hugepages"));
            Assert.That(err, Does.Not.Contain("   at "));
            return;
        }
        Assert.That(code, Is.Zero, err);
        var (plainCode, plain, _) = CliRun.Built("run", scenario, "--json");
        Assert.That(plainCode, Is.Zero);
        Assert.That(WithoutWallTime(output), Is.EqualTo(WithoutWallTime(plain)));
    }

    /// <summary>A sweep with --large-pages: on huge pages, the same sweep.csv as without; or refused naming the sweep.</summary>
    [Test]
    public void Sweep_WithLargePages_GivesTheSameTable_OrSaysWhatToReserve()
    {
        string sweep = BpfSim.Tests.Studies.Sweeps.SweepFixtures.Write("name: lp\nbase: base.yaml\ngrid:\n  flows[1].cc: [reno, bbr]\nseeds: 1\n");
        string plainOut = BpfSim.Tests.Studies.Sweeps.SweepFixtures.OutDir(), largeOut = BpfSim.Tests.Studies.Sweeps.SweepFixtures.OutDir();
        LargePageHeap.TryReadMeminfo(File.ReadAllText("/proc/meminfo"), out _, out long free, out long pageBytes);
        var (code, _, err) = CliRun.Built("sweep", sweep, "--jobs", "2", "--out", largeOut, "--quiet", "--large-pages");
        // Two runs of the small fixture need no more than the minimum heap.
        if (!(free > 0 && free * pageBytes >= LargePageHeap.MinimumHeapBytes))
        {
            Assert.That(code, Is.EqualTo(2), err);
            Assert.That(err, Does.StartWith("bpfsim: --large-pages: this sweep (2 runs at once) needs at least "));
            Assert.That(Directory.Exists(largeOut) && Directory.EnumerateFileSystemEntries(largeOut).Any(), Is.False, "nothing written");
            return;
        }
        Assert.That(code, Is.Zero, err);
        Assert.That(CliRun.Built("sweep", sweep, "--jobs", "2", "--out", plainOut, "--quiet").Code, Is.Zero);
        Assert.That(File.ReadAllText(Path.Combine(largeOut, "sweep.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(plainOut, "sweep.csv"))));
    }

    [Test]
    public void SweepEmit_PassesLargePagesOnToEachArrayTask()
    {
        string sweep = BpfSim.Tests.Studies.Sweeps.SweepFixtures.Write("name: lp\nbase: base.yaml\ngrid:\n  flows[1].cc: [reno, bbr]\nseeds: 1\n");
        string dir = BpfSim.Tests.Studies.Sweeps.SweepFixtures.OutDir();
        var (code, _, err) = CliRun.Invoke("sweep", sweep, "--emit", "slurm", dir, "--bpfsim", "/opt/bpfsim/bpfsim", "--large-pages");
        Assert.That(code, Is.Zero, err);
        Assert.That(File.ReadAllText(Path.Combine(dir, BpfSim.Studies.Sweeps.SlurmScript.FileName)),
            Does.Contain($"--only \"$SLURM_ARRAY_TASK_ID\" --out {Path.GetFullPath(dir)}").And.Contain("--large-pages"));
    }

    /// <summary>A signal to the command alone (kill, timeout) ends the child it started too, with exit code 130.</summary>
    [Test]
    public void Interrupt_EndsTheChildRunToo()
    {
        LargePageHeap.TryReadMeminfo(File.ReadAllText("/proc/meminfo"), out _, out long free, out long pageBytes);
        if (free * pageBytes < LargePageHeap.MinimumHeapBytes)
        {
            Assert.Pass("no huge pages free here: --large-pages starts no child (the refusal is checked above)");
        }
        string scenario = CliRun.Scenario("seed: 1\nduration: 600s\nflows:\n  - { count: 50, cc: cubic }\n");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "bpfsim.dll"), "run", scenario, "--large-pages", "--quiet" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ChildrenOf(p.Id).Count == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        var children = ChildrenOf(p.Id);
        Assert.That(children, Is.Not.Empty, "the run's child process started");
        using (var kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        Assert.That(p.WaitForExit(30_000), "the command ended");
        Assert.That(p.ExitCode, Is.EqualTo(130));
        Thread.Sleep(200);
        Assert.That(children.Where(id => Directory.Exists($"/proc/{id}")), Is.Empty, "no child left running");
    }

    /// <summary>The processes whose parent is <paramref name="pid"/> (from /proc/PID/stat's fourth field).</summary>
    private static List<int> ChildrenOf(int pid)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int id))
            {
                continue;
            }
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == pid)
                {
                    found.Add(id);
                }
            }
            catch (IOException)
            {
                // the process ended meanwhile
            }
        }
        return found;
    }

    private static string WithoutWallTime(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        return string.Join(",", root.EnumerateObject().Where(p => p.Name != "wall_s").Select(p => p.Name + "=" + p.Value.GetRawText()));
    }
}
