using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSim.Cli.Commands;
using BpfSim.Studies.Output;
using BpfSim.Studies.Output.Charts;

namespace BpfSim.Tests.Cli;

/// <summary>report.html is self-contained (plotly.js inline), shows what the terminal shows, and renders in a browser without errors.</summary>
[Category("Cli")]
public sealed class ReportTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    private static string Report(params string[] args)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-report-{Guid.NewGuid():N}");
        int code = BpfSimCommand.Invoke(["run", .. args, "--out", dir, "--quiet"], new StringWriter(), new StringWriter());
        Assert.That(code, Is.Zero);
        return Path.Combine(dir, "report.html");
    }

    private static string ScenarioFile(string yaml)
    {
        string scenario = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(scenario, yaml);
        return scenario;
    }

    /// <summary>The default scenario's page, made once for the checks that only read it.</summary>
    private static readonly Lazy<string> s_defaultHtml = new(() => File.ReadAllText(Report("--duration", "3s")));

    /// <summary>
    /// A run with a registration, an unregistration while flows use the map, a flow that asked for the unregistered
    /// algorithm and got the default, and a BBR flow (get_info plot): every kind of figure but the DCTCP one.
    /// </summary>
    private const string Lifecycle = """
        seed: 3
        duration: 4s
        network:
          bottleneck: { rate: 50Mbps, delay: 10ms, queue: { type: droptail, limit: 100 } }
        structops:
          - { program: bpf_minimal, at: 0s, unregister_at: 2s }
        flows:
          - { count: 2, cc: bpf_minimal, start: 0s }
          - { count: 1, cc: bbr, start: 0.5s, access_delay: 20ms }
          - { count: 1, cc: bpf_minimal, start: 3s }
        """;

    private static readonly Lazy<string> s_lifecyclePath = new(() => Report(ScenarioFile(Lifecycle)));

    /// <summary>The page with the plotly.js bundle taken out: what bpfsim itself wrote.</summary>
    internal static string WithoutLibrary(string html) => html.Replace(PlotlyJs.Source, "");

    [Test]
    public void Report_InlinesPlotlyNetsPlotlyJs_AndFetchesNothing()
    {
        string html = s_defaultHtml.Value;
        Assert.That(html, Does.Contain(PlotlyJs.Source), "plotly.js inline, exactly as Plotly.NET ships it");
        Assert.That(PlotlyJs.Source, Has.Length.GreaterThan(1_000_000).And.Contain("Plotly"));
        Assert.That(Regex.IsMatch(html, @"(?i)<script[^>]*\ssrc\s*="), Is.False, "no script is loaded from anywhere");
        // The bundle itself holds URLs as data (map tile servers, the topojson base for geo plots): never fetched by
        // the scatter plots here, and the page renders with the network off (Report_RendersInHeadlessChromium).
        Assert.That(NetworkReferences(WithoutLibrary(html)), Is.Empty, "nothing bpfsim wrote is fetched");
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

    [TestCase("<script src=\"https://cdn.plot.ly/plotly-2.28.0.min.js\"></script>")]
    [TestCase("<script src=\"//cdn.example.com/chart.js\"></script>")]
    [TestCase("<link rel=\"stylesheet\" href=\"https://fonts.example.com/a.css\">")]
    [TestCase("<style>@import 'theme.css';</style>")]
    [TestCase("<div style=\"background: url(http://example.com/a.png)\"></div>")]
    [TestCase("<img src=\"logo.png\">")]
    [TestCase("<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"http://example.com/a.png\"/></svg>")]
    public void NetworkReferences_InjectedIntoTheReport_AreFound(string injected)
    {
        string html = WithoutLibrary(s_defaultHtml.Value);
        Assert.That(NetworkReferences(html), Is.Empty);
        Assert.That(NetworkReferences(html.Replace("</body>", injected + "</body>")), Is.Not.Empty);
    }

    [Test]
    public void Report_PlotsGetInfo_OnlyForAlgorithmsThatReportIt()
    {
        string scenario = ScenarioFile("""
            duration: 3s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: ecn_threshold, k: 20, limit: 500 } }
            flows:
              - { cc: dctcp }
              - { cc: bbr }
            """);
        string html = File.ReadAllText(Report(scenario));
        Assert.That(html, Does.Contain("DCTCP alpha (get_info)").And.Contain("BBR bandwidth estimate (get_info)"));
        Assert.That(s_defaultHtml.Value, Does.Not.Contain("(get_info)"), "the default scenario's algorithms have no get_info");
    }

    [Test]
    public void Report_ShowsTheNetwork_AndTheTerminalsFlowColumns()
    {
        string html = WithoutLibrary(File.ReadAllText(s_lifecyclePath.Value));
        Assert.That(html, Does.Contain("<h2>Network</h2>").And.Contain("50 Mbit/s, one-way delay 10ms").And.Contain("drop-tail, limit 100 packets")
            .And.Contain("1 Gbit/s, one-way delay 1ms"));
        // Base RTTs: 2 × (1 + 10 + 1) ms, and 2 × (20 + 10 + 1) ms for the group with a 20 ms sender access delay.
        Assert.That(html, Does.Contain("<td>24ms</td></tr>").And.Contain("<td>62ms</td></tr>"));
        Assert.That(html, Does.Contain("<th>RTT ms min</th>").And.Contain("<th>TLPs</th>").And.Contain("<th>ECN echoes</th>"));
        Assert.That(html, Does.Contain("cubic (asked bpf_minimal)"), "the flow opened after the unregistration got the default");
        Assert.That(html, Does.Contain("registered bpf_minimal #1").And.Contain("unregistered bpf_minimal #1"), "markers on the time plots");
    }

    [Test]
    public void Report_GoodputIsSmoothed_WithTheRawSamplesHiddenInTheLegend()
    {
        var figures = Figures(File.ReadAllText(s_lifecyclePath.Value));
        var goodput = figures.Single(f => f.GetProperty("layout").GetProperty("title").GetProperty("text").GetString() == "Goodput (1 s moving average)");
        var traces = goodput.GetProperty("data").EnumerateArray().ToList();
        Assert.That(traces, Has.Count.EqualTo(8), "4 flows, smoothed and raw");
        Assert.That(traces.Take(4).Select(t => t.TryGetProperty("visible", out _)), Is.All.False, "the smoothed series are shown");
        Assert.That(traces.Skip(4).Select(t => t.GetProperty("visible").GetString()), Is.All.EqualTo("legendonly"));
        Assert.That(traces[4].GetProperty("line").GetProperty("color").GetString(), Is.EqualTo(traces[0].GetProperty("line").GetProperty("color").GetString()),
            "a flow's raw samples in its colour");
        // The window is the reader's choice: a menu replaces the smoothed series (the first four), 1 s picked at first.
        var menu = goodput.GetProperty("layout").GetProperty("updatemenus")[0];
        Assert.That(menu.GetProperty("active").GetInt32(), Is.EqualTo(1));
        var buttons = menu.GetProperty("buttons").EnumerateArray().ToList();
        Assert.That(buttons.Select(b => b.GetProperty("label").GetString()), Is.EqualTo(new[] { "0.5 s", "1 s", "2 s", "5 s" }));
        var fiveSeconds = buttons[3].GetProperty("args");
        Assert.That(fiveSeconds[2].EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(fiveSeconds[0].GetProperty("y")[0].GetArrayLength(), Is.EqualTo(traces[0].GetProperty("y").GetArrayLength()));
        Assert.That(buttons[1].GetProperty("args")[0].GetProperty("y")[2].ToString(), Is.EqualTo(traces[2].GetProperty("y").ToString()),
            "the 1 s entry holds what the figure shows at first");
        Assert.That(fiveSeconds[1].GetProperty("title.text").GetString(), Is.EqualTo("Goodput (5 s moving average)"));
        // Every time plot: the flow's colour is the same, and the events are marked.
        var timePlots = figures.Where(f => f.GetProperty("layout").GetProperty("xaxis").GetProperty("title").GetProperty("text").GetString() == "time (s)").ToList();
        Assert.That(timePlots, Has.Count.EqualTo(figures.Count - 1), "every plot but the Pantheon plot follows time");
        foreach (var figure in timePlots)
        {
            var layout = figure.GetProperty("layout");
            Assert.That(layout.GetProperty("xaxis").GetProperty("title").GetProperty("text").GetString(), Is.EqualTo("time (s)"));
            Assert.That(layout.GetProperty("shapes").GetArrayLength(), Is.EqualTo(2), "registered at 0 s, unregistered at 2 s");
            foreach (var t in figure.GetProperty("data").EnumerateArray().Where(t => t.GetProperty("name").GetString()!.StartsWith("flow 3 ")))
            {
                Assert.That(t.GetProperty("line").GetProperty("color").GetString(), Is.EqualTo(ReportPalette.Flow(3)));
            }
        }
    }

    [Test]
    public void Report_SizedFlowsInAWindow_HasPantheonAndFctCdfPlots_AndTheFlowsFctColumns()
    {
        var study = new BpfSim.Studies.Study();
        var outcome = study.Run(study.Load(Path.Combine(Repo(), "scenarios", "fct_mix.yaml")).WithDuration(BpfSim.Core.Simulation.SimTime.FromSeconds(6)));
        string html = HtmlReport.Render("fct_mix", outcome.Scenario.Spec, outcome.TcpSummary!, outcome.Tcp!);

        var titles = Figures(html).Select(f => f.GetProperty("layout").GetProperty("title").GetProperty("text").GetString()).ToList();
        Assert.That(titles, Has.Some.StartsWith("Throughput vs 95th-percentile one-way delay"));
        Assert.That(titles, Has.Some.EqualTo("Flow completion time (CDF)"));
        var pantheon = Figures(html).Single(f => f.GetProperty("layout").GetProperty("title").GetProperty("text").GetString()!.StartsWith("Throughput vs"));
        Assert.That(pantheon.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("name").GetString()), Is.EquivalentTo(new[] { "cubic", "bbr" }),
            "one point per algorithm");
        Assert.That(html, Does.Contain("<th>window Mbit/s</th>").And.Contain("<th>FCT ms</th><th>slowdown</th>"));
    }

    [Test]
    public void Report_LinkUpdateRun_FlowsSayWhichStructOpsMapTheyUsed()
    {
        var study = new BpfSim.Studies.Study();
        var outcome = study.Run(study.Load(Path.Combine(Repo(), "scenarios", "link_update.yaml")));
        string html = HtmlReport.Render("link_update", outcome.Scenario.Spec, outcome.TcpSummary!, outcome.Tcp!);

        Assert.That(html, Does.Contain("<th>struct_ops map</th>"));
        foreach (var f in outcome.Tcp!.Flows.Where(f => f.MapId is not null))
        {
            Assert.That(html, Does.Contain(System.Net.WebUtility.HtmlEncode($"{f.MapId} {f.MapName} ({f.MapProgram})")));
        }
        Assert.That(outcome.Tcp.Flows.Select(f => f.MapId).Where(id => id is not null).Distinct().Count(), Is.EqualTo(2), "flows on v1's map and on v2's");
    }

    [TestCase("fq_codel.yaml", "FQ-CoDel (sch_fq_codel), limit 10240 packets")]
    [TestCase("mahimahi_cell.yaml", "Mahimahi trace cell.down")]
    [TestCase("rate_changes.yaml", "<th class=\"l\">changes</th>")]
    public void ReportNetwork_NewQueuesAndLinks_AreDescribed(string scenario, string expected)
    {
        var spec = new BpfSim.Studies.Study().Load(Path.Combine(Repo(), "scenarios", scenario)).Spec;

        Assert.That(ReportNetwork.Html(spec), Does.Contain(expected));
    }

    /// <summary>The figures' JSON as the page hands it to Plotly.newPlot.</summary>
    private static List<JsonElement> Figures(string html)
    {
        const string Start = "const figures=", End = ";const config=";
        int from = html.LastIndexOf(Start, StringComparison.Ordinal) + Start.Length;
        int to = html.IndexOf(End, from, StringComparison.Ordinal);
        return JsonDocument.Parse(html[from..to]).RootElement.EnumerateArray().ToList();
    }

    /// <summary>
    /// Loaded before anything else in the test's copy of the page: records uncaught errors and console.error calls; after
    /// load, writes per figure div how many main SVGs and drawn traces plotly made into &lt;pre id="probe"&gt;.
    /// </summary>
    private const string ProbeHead = "<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});" +
        "(function(){var ce=console.error;console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};})();</script>";

    private const string ProbeTail = "<script>window.addEventListener('load',function(){setTimeout(function(){var r={figures:[],errors:window.__errors};" +
        "document.querySelectorAll('div.figure').forEach(function(d){r.figures.push({id:d.id,plotly:d.classList.contains('js-plotly-plot')," +
        "svgs:d.querySelectorAll('svg.main-svg').length,traces:d.querySelectorAll('.scatterlayer .trace').length});});" +
        "var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(r);document.body.appendChild(p);},200);});</script>";

    [Test]
    public void Report_RendersInHeadlessChromium_EveryPlotDrawn_NoErrors_WithTheNetworkOff()
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
        string report = s_lifecyclePath.Value;
        string html = File.ReadAllText(report);
        string probed = Path.Combine(Path.GetDirectoryName(report)!, "probed.html");
        File.WriteAllText(probed, html.Replace("<head>", "<head>" + ProbeHead).Replace("</body>", ProbeTail + "</body>"));
        var psi = new ProcessStartInfo(chromium!)
        {
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))}",
                // The network off: every request goes to a proxy that is not there, and no name resolves.
                "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--virtual-time-budget=10000", "--window-size=1400,3000", "--dump-dom", "file://" + probed,
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string dom = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(120_000), "chromium finished");
        var probe = Regex.Match(dom, "<pre id=\"probe\">([^<]*)</pre>");
        Assert.That(probe.Success, $"the page loaded and the probe ran; chromium said: {stderr.Result}");
        var result = JsonDocument.Parse(WebUtility.HtmlDecode(probe.Groups[1].Value)).RootElement;
        Assert.That(result.GetProperty("errors").EnumerateArray().Select(e => e.GetString()), Is.Empty, "no script errors");
        var figures = Figures(html);
        var drawn = result.GetProperty("figures").EnumerateArray().ToList();
        Assert.That(drawn, Has.Count.EqualTo(figures.Count).And.Count.EqualTo(8), "goodput, delivery rate, cwnd, RTT, BBR bw, queue, refcnt, Pantheon");
        for (int i = 0; i < drawn.Count; i++)
        {
            string title = figures[i].GetProperty("layout").GetProperty("title").GetProperty("text").GetString()!;
            int shown = figures[i].GetProperty("data").EnumerateArray().Count(t => !t.TryGetProperty("visible", out _));
            Assert.That(drawn[i].GetProperty("plotly").GetBoolean(), $"{title}: plotly took the div");
            Assert.That(drawn[i].GetProperty("svgs").GetInt32(), Is.GreaterThanOrEqualTo(1), $"{title}: an SVG drawn");
            Assert.That(drawn[i].GetProperty("traces").GetInt32(), Is.EqualTo(shown), $"{title}: every shown series drawn");
        }
    }
}
