using System.Diagnostics;
using System.Text.RegularExpressions;
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

    /// <summary>The default scenario's page, made once for the checks that only read it.</summary>
    private static readonly Lazy<string> s_defaultHtml = new(() => File.ReadAllText(Report()));

    [Test]
    public void Report_IsSelfContained_WithChartsAxesAndLegends()
    {
        string html = s_defaultHtml.Value;
        Assert.That(NetworkReferences(html), Is.Empty, "nothing is fetched");
        Assert.That(html, Does.Contain("Congestion window").And.Contain("cwnd (packets)").And.Contain("time (s)"));
        Assert.That(html, Does.Contain("Bottleneck queue").And.Contain("struct_ops refcnt").And.Contain("flow 1 cubic"));
    }

    /// <summary>
    /// Everything in the page that would make a browser go to the network: a URL scheme anywhere except the SVG
    /// namespace declaration (an identifier, never fetched), a script, stylesheet, image or frame loaded by src/href,
    /// a CSS @import or url() that is not a data: URI.
    /// </summary>
    internal static IReadOnlyList<string> NetworkReferences(string html)
    {
        string page = Regex.Replace(html, @"\sxmlns(:\w+)?=""http://www\.w3\.org/2000/svg""", "");
        var patterns = new[]
        {
            @"(?i)\b(https?|ftp|wss?):",                        // any absolute URL left
            @"(?i)//[a-z0-9.-]+\.[a-z]{2,}/",                    // protocol-relative //host/path
            @"(?i)<script[^>]*\ssrc\s*=",                       // external script
            @"(?i)\s(src|href|srcset|xlink:href|action|poster|data)\s*=\s*[""']?(?!data:|#)[^\s""'>]",  // fetched attributes
            @"(?i)@import",
            @"(?i)url\(\s*[""']?(?!data:|#)",
        };
        return patterns.SelectMany(p => Regex.Matches(page, p).Select(m => $"{p}: …{Context(page, m.Index)}…")).ToList();

        static string Context(string s, int i) => s.Substring(Math.Max(0, i - 30), Math.Min(80, s.Length - Math.Max(0, i - 30)));
    }

    [TestCase("<script src=\"https://cdn.example.com/chart.js\"></script>")]
    [TestCase("<script src=\"//cdn.example.com/chart.js\"></script>")]
    [TestCase("<link rel=\"stylesheet\" href=\"https://fonts.example.com/a.css\">")]
    [TestCase("<style>@import 'theme.css';</style>")]
    [TestCase("<div style=\"background: url(http://example.com/a.png)\"></div>")]
    [TestCase("<img src=\"logo.png\">")]
    [TestCase("<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"http://example.com/a.png\"/></svg>")]
    public void NetworkReferences_InjectedIntoTheReport_AreFound(string injected)
    {
        string html = s_defaultHtml.Value;
        Assert.That(NetworkReferences(html), Is.Empty);
        Assert.That(NetworkReferences(html.Replace("</body>", injected + "</body>")), Is.Not.Empty);
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
        Assert.That(s_defaultHtml.Value, Does.Not.Contain("(get_info)"), "the default scenario's algorithms have no get_info");
    }

    [Test]
    public void Report_RendersInHeadlessChromium()
    {
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            // tools/test.sh installs it where it can; CI (CI=true) must never pass without having rendered the page.
            const string Missing = "Chromium is not installed (bash tools/test.sh installs it, or apt-get install chromium); the rendering check needs it";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(Missing);
            }
            Assert.Ignore(Missing);
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
