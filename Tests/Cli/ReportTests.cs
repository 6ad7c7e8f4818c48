using System.Diagnostics;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>report.html is self-contained and renders in a browser without errors.</summary>
[Category("Cli")]
public sealed class ReportTests
{
    private static string Report()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-report-{Guid.NewGuid():N}");
        int code = BpfSimCommand.Invoke(["run", "--duration", "3s", "--out", dir, "--quiet"], new StringWriter(), new StringWriter());
        Assert.That(code, Is.Zero);
        return Path.Combine(dir, "report.html");
    }

    [Test]
    public void Report_IsSelfContained_WithChartsAxesAndLegends()
    {
        string html = File.ReadAllText(Report());
        Assert.That(html, Does.Not.Contain("http://").Or.Contain("xmlns=\"http://www.w3.org/2000/svg\""));
        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("src=").And.Not.Contain("https://"), "nothing is fetched");
        Assert.That(html, Does.Contain("Congestion window").And.Contain("cwnd (packets)").And.Contain("time (s)"));
        Assert.That(html, Does.Contain("Bottleneck queue").And.Contain("struct_ops refcnt").And.Contain("flow 1 cubic"));
    }

    [Test]
    public void Report_PlotsGetInfo_OnlyForAlgorithmsThatReportIt()
    {
        string scenario = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(scenario, """
            duration: 3s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: ecn_threshold, k: 20, limit: 500 } }
            flows:
              - { cc: dctcp }
              - { cc: bbr }
            """);
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-report-{Guid.NewGuid():N}");
        int code = BpfSimCommand.Invoke(["run", scenario, "--out", dir, "--quiet"], new StringWriter(), new StringWriter());
        Assert.That(code, Is.Zero);
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.That(html, Does.Contain("DCTCP alpha (get_info)").And.Contain("BBR bandwidth estimate (get_info)"));
        Assert.That(File.ReadAllText(Report()), Does.Not.Contain("(get_info)"), "the default scenario's algorithms have no get_info");
    }

    [Test]
    public void Report_RendersInHeadlessChromium()
    {
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            Assert.Ignore("Chromium is not installed (apt-get install chromium); the rendering check needs it");
        }
        string report = Report();
        string png = Path.ChangeExtension(report, ".png");
        var psi = new ProcessStartInfo(chromium!)
        {
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))}",
                "--enable-logging=stderr", "--v=0", $"--screenshot={png}", "--window-size=1000,2400", "file://" + report,
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(psi)!;
        string stderr = process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), "chromium finished");
        Assert.That(File.Exists(png), $"screenshot written; chromium said: {stderr}");
        Assert.That(new FileInfo(png).Length, Is.GreaterThan(10_000), "the page has content");
        Assert.That(stderr, Does.Not.Contain("Uncaught").And.Not.Contain("SyntaxError"), "no script errors");
    }
}
