using System.Text.Json;
using BpfSim.Studies.Output;
using BpfSim.Studies.Runs;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Lost SYNs reach every output: the summary's per-flow and total handshake fields, flows.csv, the terminal's
/// handshakes line and report.html's flows table; a run whose handshakes were clean shows no line or column.
/// </summary>
[Category("Cli")]
public sealed class HandshakeOutputTests
{
    // 200 flows open at once into a 20-packet FIFO: their SYNs arrive together, about 20 fit and the rest come back on
    // the 1 s SYN timeout (tcp_retransmit_timer), so connect times jump by whole seconds.
    private const string SynBurst = """
        seed: 1
        duration: 4s
        network:
          bottleneck: { rate: 100Mbps, delay: 5ms, queue: { type: droptail, limit: 20 } }
        flows:
          - { count: 200, cc: cubic, start: 0s, size: 20KB }
        """;

    [Test]
    public void SynBurst_SummaryCountsRetriesAndConnectTimes()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(SynBurst), "--json");
        Assert.That(code, Is.Zero, err);
        var s = JsonDocument.Parse(output).RootElement;
        var h = s.GetProperty("handshake");
        var flows = s.GetProperty("flows").EnumerateArray().ToList();
        long retries = flows.Sum(f => f.GetProperty("syn_retries").GetInt64());
        Assert.That(retries, Is.GreaterThan(100), "most first SYNs were dropped");
        Assert.That(h.GetProperty("syn_retries").GetInt64(), Is.EqualTo(retries));
        Assert.That(h.GetProperty("connect_ms_max").GetDouble(), Is.GreaterThan(1000));
        foreach (var f in flows.Where(f => f.GetProperty("connected").GetBoolean()))
        {
            // One RTT (2 × (1 + 5 + 1) ms = 14 ms, plus queueing) per attempt that got through, 1 s per timeout before it.
            double connect = f.GetProperty("connect_ms").GetDouble();
            long n = f.GetProperty("syn_retries").GetInt64();
            Assert.That(connect, Is.InRange(n * 1000 + 14, n * 1000 + 100), $"flow {f.GetProperty("id")}");
        }
    }

    [Test]
    public void SynBurst_TerminalLine_CsvColumns_ReportColumns()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(SynBurst));
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("handshakes: ").And.Contain("SYN retries over"));

        var study = new BpfSim.Studies.Study();
        var outcome = study.Run(study.Load(CliRun.Scenario(SynBurst)));
        string html = HtmlReport.Render("syn_burst", outcome.Scenario.Spec, outcome.TcpSummary!, outcome.Tcp!);
        Assert.That(html, Does.Contain("<th>SYN retries</th><th>connect ms</th>").And.Contain("Handshakes: "));
        var csv = OutputWriter.FlowsTable(outcome.Tcp!);
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        csv.Write(dir, "flows", OutputFormats.Csv);
        string header = File.ReadLines(Path.Combine(dir, "flows.csv")).First();
        Assert.That(header, Does.EndWith(",syn_retries,synack_retries,connected,connect_ms"));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void CleanHandshakes_NoTerminalLine_NoReportColumns()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario("""
            seed: 1
            duration: 2s
            flows:
              - { count: 2, cc: cubic }
            """));
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Not.Contain("handshakes:"));
    }
}
