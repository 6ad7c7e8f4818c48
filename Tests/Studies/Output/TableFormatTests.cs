using BpfSim.Studies;
using BpfSim.Studies.Output;
using BpfSim.Studies.Runs;

namespace BpfSim.Tests.Studies.Output;

/// <summary>--format: every table a run writes, as CSV and/or Parquet holding the same cells; timeseries' kind and cc.</summary>
[Category("Studies")]
public sealed class TableFormatTests
{
    private const string Tcp = """
        seed: 2
        duration: 2s
        network:
          bottleneck: { rate: 20Mbps, delay: 5ms, queue: { type: droptail, limit: 30 } }
        flows:
          - { count: 2, cc: cubic, start: 0s }
          - { count: 1, cc: reno, start: 0.3s, size: 500KB }
        """;

    private const string Sched = """
        seed: 1
        duration: 200ms
        subsystem: sched
        cpus: 2
        tasks:
          - { name: hog, count: 2, behavior: cpu_bound }
          - { name: web, count: 2, behavior: { sleep_wake: { run: exp(2ms), sleep: exp(5ms) } } }
        """;

    private static string TempDir() => Directory.CreateTempSubdirectory("bpfsim-format-").FullName;

    private static RunOutcome RunTcp() => RunText(Tcp);

    private static RunOutcome RunText(string yaml)
    {
        var study = new Study();
        var outcome = study.Run(study.Parse(yaml));
        Assert.That(outcome.Completed, Is.True, string.Join("; ", outcome.Errors));
        return outcome;
    }

    [Test]
    public void WriteOutputs_CsvAndParquet_TcpTablesHoldTheSameCells()
    {
        var dir = TempDir();
        var files = RunTcp().WriteOutputs(dir, OutputFormats.Csv | OutputFormats.Parquet).Select(Path.GetFileName).ToList();
        Assert.That(files, Is.SupersetOf(new[] { "flows.csv", "flows.parquet", "timeseries.csv", "timeseries.parquet" }));
        foreach (var table in new[] { "flows", "timeseries" })
        {
            var parquet = ParquetTable.Read(Path.Combine(dir, table + ".parquet"));
            Assert.That(parquet.Rows, Is.Not.Empty);
            parquet.AssertSameAs(Path.Combine(dir, table + ".csv"));
        }
        var flows = ParquetTable.Read(Path.Combine(dir, "flows.parquet"));
        Assert.That(flows.Types[flows.Columns.IndexOf("bytes_acked")], Is.EqualTo(typeof(long)));
        Assert.That(flows.Types[flows.Columns.IndexOf("goodput_mbps")], Is.EqualTo(typeof(double)));
        Assert.That(flows.Types[flows.Columns.IndexOf("completed")], Is.EqualTo(typeof(bool)));
    }

    [Test]
    public void WriteOutputs_CsvAndParquet_SchedTablesHoldTheSameCells()
    {
        var dir = TempDir();
        var files = RunText(Sched).WriteOutputs(dir, OutputFormats.Csv | OutputFormats.Parquet).Select(Path.GetFileName).ToList();
        foreach (var table in new[] { "tasks", "cpus", "timeline" })
        {
            Assert.That(files, Does.Contain(table + ".parquet"));
            var parquet = ParquetTable.Read(Path.Combine(dir, table + ".parquet"));
            Assert.That(parquet.Rows, Is.Not.Empty, table);
            parquet.AssertSameAs(Path.Combine(dir, table + ".csv"));
        }
    }

    [Test]
    public void WriteOutputs_ParquetOnly_WritesNoCsv()
    {
        var dir = TempDir();
        var files = RunTcp().WriteOutputs(dir, OutputFormats.Parquet).Select(Path.GetFileName).ToList();
        Assert.That(files, Does.Contain("flows.parquet").And.Contain("timeseries.parquet"));
        Assert.That(Directory.GetFiles(dir, "*.csv"), Is.Empty);
    }

    [Test]
    public void TimeSeries_KindAndCc_SplitFlowsFromLinksAndNameEachFlowsAlgorithm()
    {
        var outcome = RunTcp();
        var table = OutputWriter.TimeSeriesTable(outcome.Tcp!);
        var dir = TempDir();
        table.Write(dir, "timeseries", OutputFormats.Parquet);
        var rows = ParquetTable.Read(Path.Combine(dir, "timeseries.parquet"));
        Assert.That(rows.Columns, Is.EqualTo(new[] { "t_s", "flow", "metric", "value", "unit", "kind", "cc" }));
        var ccOf = outcome.Tcp!.Flows.ToDictionary(f => f.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), f => f.Cc);
        var links = outcome.Tcp.Links.Select(l => l.Name).ToHashSet();
        int flowRows = 0, linkRows = 0;
        foreach (var row in rows.Rows)
        {
            var subject = (string)row[1]!;
            if ((string)row[5]! == "flow")
            {
                flowRows++;
                Assert.That(row[6], Is.EqualTo(ccOf[subject]), $"flow {subject}");
            }
            else
            {
                linkRows++;
                Assert.That(row[5], Is.EqualTo("link"));
                Assert.That(links, Does.Contain(subject));
                Assert.That(row[6], Is.Null, $"link {subject} has no algorithm");
            }
        }
        Assert.That(flowRows, Is.GreaterThan(0));
        Assert.That(linkRows, Is.GreaterThan(0));
        Assert.That(ccOf.Values, Does.Contain("reno").And.Contain("cubic"));
    }

    [Test]
    public void ResultTable_DoubleColumn_CsvRoundsAndParquetHoldsTheRoundedNumber()
    {
        var table = new ResultTable().AddColumn("x", ResultColumnKind.Double, 3).AddColumn("n", ResultColumnKind.Integer);
        table.AddRow(1.23456, 7);
        table.AddRow(null, null);
        var dir = TempDir();
        table.Write(dir, "t", OutputFormats.Csv | OutputFormats.Parquet);
        Assert.That(File.ReadAllText(Path.Combine(dir, "t.csv")).ReplaceLineEndings("\n"), Is.EqualTo("x,n\n1.235,7\n,\n"));
        var parquet = ParquetTable.Read(Path.Combine(dir, "t.parquet"));
        Assert.That(parquet.Rows[0], Is.EqualTo(new object?[] { 1.235, 7L }));
        Assert.That(parquet.Rows[1], Is.EqualTo(new object?[] { null, null }));
    }
}
