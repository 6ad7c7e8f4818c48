using BpfSim.Studies.Traces;
using BpfSim.Tests.Cli;
using Parquet;

namespace BpfSim.Tests.Studies.Traces;

/// <summary><c>bpfsim trace convert DIR --to csv|parquet</c>: one table per record type, and clear errors (exit 2) for bad folders.</summary>
[Category("Traces")]
public sealed class TraceConvertTests
{
    private static string Fresh() => Path.Combine(Path.GetTempPath(), $"bpfsim-conv-{Guid.NewGuid():N}");

    [Test]
    public async Task Convert_CsvAndParquet_OneTablePerRecordTypeWithEveryRecord()
    {
        var (_, dir) = TraceRunTests.Traced(TraceRunTests.CompetingScenario);
        string output = Fresh();
        var (code, stdout, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv,parquet", "--out", output);
        Assert.That(code, Is.Zero, stderr);
        var records = TraceReader.ReadRecords(dir);
        foreach (var type in TraceSchema.Records)
        {
            string csv = Path.Combine(output, type.Name + ".csv");
            Assert.That(stdout, Does.Contain(csv));
            var lines = File.ReadAllLines(csv);
            Assert.That(lines[0], Is.EqualTo(string.Join(',', type.Fields.Skip(1).Select(f => f.Name))), type.Name);
            Assert.That(lines, Has.Length.EqualTo(records[type.Name].Count + 1), type.Name);
            await using var parquet = await ParquetReader.CreateAsync(Path.Combine(output, type.Name + ".parquet"));
            Assert.That(parquet.Schema.GetDataFields().Select(f => f.Name), Is.EqualTo(type.Fields.Skip(1).Select(f => f.Name)), type.Name);
            long rows = Enumerable.Range(0, parquet.RowGroupCount).Sum(g => parquet.OpenRowGroupReader(g).RowCount);
            Assert.That(rows, Is.EqualTo(records[type.Name].Count), type.Name);
        }
        // A round trip of the values: the first ACK row is the first ack record, field by field.
        var firstAck = records["ack"][0];
        Assert.That(File.ReadLines(Path.Combine(output, "ack.csv")).Skip(1).First(),
            Is.EqualTo(string.Join(',', firstAck.Skip(1).Select(v => v is bool b ? (b ? "true" : "false") : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
    }

    [Test]
    public void RunWithTrace_ThenConvert_FromTheCommandLine()
    {
        string scenario = CliRun.Scenario("""
            seed: 2
            duration: 2s
            network:
              bottleneck: { rate: 50Mbps, delay: 5ms, queue: { type: droptail, limit: 40 } }
            flows:
              - { count: 2, cc: cubic, start: 0s }
            """);
        string trace = Fresh();
        var (code, stdout, stderr) = CliRun.Invoke("run", scenario, "--trace", trace, "--json");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(Directory.GetFiles(trace).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "flow-0001.msgpack", "flow-0002.msgpack", "links.msgpack", "schema.json", "struct_ops.msgpack" }));
        long retransmits = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("flows").EnumerateArray()
            .Sum(f => f.GetProperty("retransmits").GetInt64());
        (code, _, stderr) = CliRun.Invoke("trace", "convert", trace, "--to", "csv");
        Assert.That(code, Is.Zero, stderr);
        var send = File.ReadAllLines(Path.Combine(trace, "send.csv"));
        int column = Array.IndexOf(send[0].Split(','), "retransmit");
        Assert.That(send.Skip(1).Count(l => l.Split(',')[column] == "true"), Is.EqualTo(retransmits));
    }

    [Test]
    public void Run_TraceIntoAFolderTracedBefore_KeepsNoFlowOfTheOldRun()
    {
        // The reader takes every flow-*.msgpack in the folder: a second run with fewer flows must not leave the first's.
        string trace = Fresh();
        Directory.CreateDirectory(trace);
        File.WriteAllText(Path.Combine(trace, TraceSchema.FlowFile(7)), "from an earlier run");
        File.WriteAllText(Path.Combine(trace, "notes.txt"), "the user's own");
        var (code, _, stderr) = CliRun.Invoke("run", TinyScenario(), "--trace", trace, "--json");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.Exists(Path.Combine(trace, TraceSchema.FlowFile(7))), Is.False);
        Assert.That(File.Exists(Path.Combine(trace, TraceSchema.FlowFile(1))), Is.True);
        Assert.That(File.Exists(Path.Combine(trace, "notes.txt")), Is.True, "only the trace's own files go");
    }

    [Test]
    public void Convert_OutOnAFile_Exit2NotAnInternalError()
    {
        var (_, dir) = TraceRunTests.Traced(TraceRunTests.CompetingScenario);
        string file = Path.GetTempFileName();
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv", "--out", file);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.StartWith($"bpfsim: trace convert: --out {file}: a file is there").And.Not.Contain("internal error"));
    }

    [Test]
    public void Run_TraceIntoAFile_Exit2BeforeTheRun()
    {
        string file = CliRun.Scenario("seed: 1\n");
        var (code, stdout, stderr) = CliRun.Invoke("run", TinyScenario(), "--trace", Path.Combine(file, "trace"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith($"bpfsim: --trace {Path.Combine(file, "trace")}: "));
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void Run_TraceOfASchedulerRun_Exit2SaysTracesAreForTcp()
    {
        string scenario = Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../../scenarios/sched_fair.yaml");
        var (code, _, stderr) = CliRun.Invoke("run", scenario, "--trace", Fresh(), "--duration", "1s");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--trace").And.Contain("per-event traces are written for TCP runs"));
    }

    [Test]
    public void Run_WithTrace_SaysWhereTheTraceWent()
    {
        string trace = Fresh();
        var (code, stdout, stderr) = CliRun.Invoke("run", TinyScenario(), "--trace", trace);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain($"wrote the per-event trace to {trace} (bpfsim trace convert {trace} --to csv; docs/traces.md)"));
    }

    private static string TinyScenario() => CliRun.Scenario("""
        seed: 1
        duration: 1s
        flows:
          - { count: 1, cc: reno, start: 0s }
        """);

    [Test]
    public void Convert_WithoutOut_WritesIntoTheTraceFolder()
    {
        var (_, source) = TraceRunTests.Traced(TraceRunTests.CompetingScenario);
        string dir = Fresh();
        Directory.CreateDirectory(dir);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "parquet");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(TraceSchema.Records.Select(r => File.Exists(Path.Combine(dir, r.Name + ".parquet"))), Has.All.True);
        Assert.That(Directory.GetFiles(dir, "*.csv"), Is.Empty);
    }

    [Test]
    public void Convert_MissingFolder_Exit2WithWhy()
    {
        string missing = Fresh();
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", missing, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Is.EqualTo($"bpfsim: trace convert: trace folder '{missing}' does not exist{Environment.NewLine}"));
    }

    [Test]
    public void Convert_FolderWithoutSchema_Exit2SaysItIsNotATrace()
    {
        string dir = Fresh();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "flow-0001.msgpack"), "hello");
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("is not a bpfsim trace folder: it has no schema.json"));
    }

    [TestCase("{\"format\": \"bpfsim-trace\", \"version\": 99}", "trace version 99")]
    [TestCase("{\"format\": \"other\"}", "not a bpfsim trace schema")]
    [TestCase("{ not json", "not valid JSON")]
    public void Convert_BadSchema_Exit2(string schema, string message)
    {
        string dir = Copy();
        File.WriteAllText(Path.Combine(dir, TraceSchema.SchemaFile), schema);
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("bpfsim: trace convert: ").And.Contain(message));
    }

    [Test]
    public void Convert_TruncatedFile_Exit2NamesFileAndRecord()
    {
        string dir = Copy();
        string flow = Path.Combine(dir, TraceSchema.FlowFile(1));
        var bytes = File.ReadAllBytes(flow);
        File.WriteAllBytes(flow, bytes[..(bytes.Length - 3)]);
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith($"bpfsim: trace convert: {flow}: record "));
    }

    [Test]
    public void Convert_RecordOfWrongShape_Exit2()
    {
        string dir = Copy();
        // [1, 0]: an ack record with two of its sixteen fields.
        File.WriteAllBytes(Path.Combine(dir, TraceSchema.LinksFile), [0x92, 0x01, 0x00]);
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("record 1 (byte 0): ack records have 16 fields, this one has 2"));
    }

    [Test]
    public void Convert_MissingLinksFile_Exit2()
    {
        string dir = Copy();
        File.Delete(Path.Combine(dir, TraceSchema.LinksFile));
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", dir, "--to", "csv");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("incomplete trace: links.msgpack is missing"));
    }

    [TestCase("xlsx")]
    [TestCase(",")]
    public void Convert_UnknownFormat_Exit2(string to)
    {
        var (code, _, stderr) = CliRun.Invoke("trace", "convert", Copy(), "--to", to);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("bpfsim: trace convert: --to:"));
    }

    /// <summary>A copy of a real trace folder to break.</summary>
    private static string Copy()
    {
        var (_, source) = TraceRunTests.Traced(TraceRunTests.CompetingScenario);
        string dir = Fresh();
        Directory.CreateDirectory(dir);
        foreach (string file in Directory.GetFiles(source, "*.msgpack").Append(Path.Combine(source, TraceSchema.SchemaFile)))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }
        return dir;
    }
}
