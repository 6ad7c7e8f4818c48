using BpfSim.Cli;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>bpfsim run --format and --pcap: what they write, and their mistakes.</summary>
[Category("Cli")]
public sealed class RunOutputOptionsCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = BpfSimCommand.Invoke(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string TempDir() => Directory.CreateTempSubdirectory("bpfsim-cli-out-").FullName;

    [Test]
    public void Run_FormatParquet_ListsParquetFilesAndWritesNoCsv()
    {
        var dir = TempDir();
        var (code, stdout, stderr) = Run("run", "--duration", "1s", "--format", "parquet", "--out", dir);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("flows.parquet").And.Contain("timeseries.parquet"));
        Assert.That(stdout, Does.Not.Contain("flows.csv"));
        Assert.That(Directory.GetFiles(dir, "*.csv"), Is.Empty);
        Assert.That(File.Exists(Path.Combine(dir, "timeseries.parquet")), Is.True);
    }

    [Test]
    public void Run_FormatCsvAndParquet_WritesBoth()
    {
        var dir = TempDir();
        var (code, stdout, stderr) = Run("run", "--duration", "1s", "--format", "csv,parquet", "--out", dir);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("flows.csv").And.Contain("flows.parquet"));
    }

    [TestCase("xml", "unknown format 'xml'")]
    [TestCase(",", "name at least one format")]
    public void Run_BadFormat_ExitsTwoWithAMessage(string format, string message)
    {
        var (code, _, stderr) = Run("run", "--duration", "1s", "--format", format, "--out", TempDir());
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--format").And.Contain(message));
    }

    [Test]
    public void Run_PcapUnknownLink_ExitsTwoNamingTheLinks()
    {
        var dir = TempDir();
        var (code, _, stderr) = Run("run", "--duration", "1s", "--pcap", "nosuch", "--out", dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--pcap nosuch: no such link").And.Contain("bottleneck, bottleneck_rev"));
        Assert.That(File.Exists(Path.Combine(dir, "summary.json")), Is.False, "nothing is written for a refused run");
    }

    [Test]
    public void Run_PcapTwoLinks_WritesOneFileEachInTheOutFolder()
    {
        var scenario = Path.Combine(TempDir(), "lot.yaml");
        File.WriteAllText(scenario, """
            seed: 1
            duration: 1s
            network:
              topology: parking_lot
              hops: 2
              bottleneck: { rate: 20Mbps, delay: 2ms }
            flows:
              - { count: 1, cc: reno, start: 0s, from: 0, to: 2 }
            """);
        var dir = TempDir();
        var (code, stdout, stderr) = Run("run", scenario, "--pcap", "hop0", "--pcap", "hop1", "--out", dir);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("hop0.pcap, hop1.pcap to"));
        Assert.That(new FileInfo(Path.Combine(dir, "hop0.pcap")).Length, Is.GreaterThan(24));
        Assert.That(new FileInfo(Path.Combine(dir, "hop1.pcap")).Length, Is.GreaterThan(24));
    }

    [Test]
    public void Run_PcapOnASchedulerRun_ExitsTwo()
    {
        var (code, _, stderr) = Run("run", Path.Combine(AppContext.BaseDirectory, "scenarios", "sched_fair.yaml"), "--duration", "100ms",
            "--pcap", "bottleneck", "--quiet");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("--pcap is for TCP runs"));
    }
}
