using System.Globalization;
using System.Text;
using BpfSim.Studies.Output.Charts;
using BpfSim.Tcp.Workloads;
using static BpfSim.Studies.Output.Charts.PlotlyPage;

namespace BpfSim.Studies.Output;

/// <summary>
/// report.html of a TCP run: one self-contained, interactive page (plotly.js from Plotly.NET inline, nothing fetched).
/// The scenario's network at the top, consumer faults next, then the flows (every field the terminal prints) and links
/// tables, and full-width plots of goodput (smoothed, raw samples in the legend), delivery rate, cwnd, RTT, get_info
/// fields, the bottleneck queue and struct_ops refcnt; each flow has one colour throughout, and every time plot marks
/// registrations, unregistrations, link attach/detach/update and ejections.
/// </summary>
public static class HtmlReport
{
    /// <summary>The default goodput smoothing: a 1 s trailing window.</summary>
    public const double DefaultGoodputWindowSeconds = 1.0;

    /// <param name="scenario">The scenario's name, for the title.</param>
    /// <param name="spec">The scenario, for the network section; null leaves the section out.</param>
    /// <param name="summary">The run's summary.</param>
    /// <param name="result">The run's result (time series).</param>
    /// <param name="goodputWindowSeconds">The moving-average window the goodput and delivery-rate plots show at first.</param>
    /// <param name="plotlyJsPath">Null: plotly.js inline. Otherwise where the page loads it from (<see cref="PlotlyPage.LibraryPath"/>).</param>
    public static string Render(string scenario, TcpScenarioSpec? spec, TcpRunSummary summary, TcpRunResult result,
        double goodputWindowSeconds = DefaultGoodputWindowSeconds, string? plotlyJsPath = null)
    {
        var page = new PlotlyPage($"bpfsim report: {scenario}") { LibraryPath = plotlyJsPath };
        page.Html($"<h1>bpfsim run: {Encode(scenario)}</h1>");
        page.Html($"<p>seed {summary.Seed}, {F(summary.SimTimeSeconds, "0.###")} s simulated, {summary.Events.ToString("N0", CultureInfo.InvariantCulture)} events, " +
            $"Jain's fairness over flow goodputs {F(summary.Fairness.Jain, "0.000")}. Plots: drag to zoom, double-click to reset, " +
            "click a legend entry to hide or show a series, hover for values.</p>");
        if (spec is not null)
        {
            page.Html(ReportNetwork.Html(spec));
        }
        if (summary.Faults.Count > 0)
        {
            // Before the results: they include flows that lost their algorithm part-way.
            page.Html("<h2 class=\"warn\">Consumer faults</h2><p>These consumers faulted and were ejected: their maps were unregistered " +
                "and their flows moved to the default algorithm; the run went on to its end.</p>");
            page.Html("<table><tr><th>t s</th><th class=\"l\">consumer</th><th>map id</th><th class=\"l\">member</th><th class=\"l\">kind</th><th class=\"l\">what happened</th></tr>");
            foreach (var f in summary.Faults)
            {
                page.Html($"<tr><td>{F(f.Seconds, "0.######")}</td><td class=\"l\">{Encode(f.Consumer)}</td><td>{(f.MapId == 0 ? "-" : f.MapId)}</td>" +
                    $"<td class=\"l\">{Encode(f.Member)}</td><td class=\"l\">{f.Kind}</td><td class=\"l\">{Encode(f.Message)}</td></tr>");
            }
            page.Html("</table>");
        }
        page.Html(FlowsTable(summary));
        page.Html("<h2>Links</h2><table><tr><th class=\"l\">link</th><th>utilization</th><th>drops</th><th>random losses</th><th>ECN marks</th>" +
            "<th>queue mean pkts</th><th>queue max pkts</th><th>queue delay ms mean/p50/p95/p99</th></tr>");
        foreach (var l in summary.Links)
        {
            page.Html($"<tr><td class=\"l\">{Encode(l.Name)}</td><td>{F(l.Utilization, "0.000")}</td><td>{l.Drops}</td><td>{l.RandomLosses}</td>" +
                $"<td>{l.EcnMarks}</td><td>{F(l.QueuePacketsMean, "0.0")}</td><td>{l.QueuePacketsMax}</td>" +
                $"<td>{F(l.QueueDelayMs.Mean, "0.00")}/{F(l.QueueDelayMs.P50, "0.00")}/{F(l.QueueDelayMs.P95, "0.00")}/{F(l.QueueDelayMs.P99, "0.00")}</td></tr>");
        }
        page.Html("</table>");
        if (summary.Xdp is { Count: > 0 } xdp)
        {
            page.Html("<h2>XDP / tcx hooks</h2><table><tr><th class=\"l\">interface</th><th>ifindex</th><th class=\"l\">programs</th><th>pass</th>" +
                "<th>drop</th><th>tx</th><th>redirect</th><th>aborted</th><th>tcx drop</th><th>redirect failed</th><th>no route</th><th>TTL expired</th></tr>");
            foreach (var x in xdp)
            {
                page.Html($"<tr><td class=\"l\">{Encode(x.Interface)}</td><td>{x.Ifindex}</td><td class=\"l\">{Encode(string.Join("; ", x.Programs))}</td>" +
                    $"<td>{x.Pass}</td><td>{x.Drop}</td><td>{x.Tx}</td><td>{x.Redirect}</td><td>{x.Aborted}</td><td>{x.TcxDrop}</td>" +
                    $"<td>{x.RedirectFailed}</td><td>{x.NoRoute}</td><td>{x.TtlExpired}</td></tr>");
            }
            page.Html("</table>");
        }

        var markers = ReportMarkers.For(summary.StructOps, summary.Faults);
        var figures = new TcpReportFigures(summary, result, markers);
        double bottleneckMbps = (spec?.Network.BottleneckRateBps ?? 0) / 1e6;
        page.Html("<h2>Time series</h2>");
        if (markers.Count > 0)
        {
            page.Html("<p class=\"caption\">Dashed lines: <span style=\"color:" + ReportPalette.Attach + "\">registration / link attach</span>, " +
                "<span style=\"color:" + ReportPalette.Update + "\">link update</span>, <span style=\"color:" + ReportPalette.Detach +
                "\">unregistration / link detach</span>, <span style=\"color:" + ReportPalette.Fault + "\">ejection</span>; hover a label for details.</p>");
        }
        page.Figure(figures.Rate("goodput", "Goodput", goodputWindowSeconds, bottleneckMbps));
        page.Figure(figures.Rate("delivery_rate", "Delivery rate", goodputWindowSeconds, bottleneckMbps));
        page.Figure(figures.PerFlow("cwnd", "Congestion window", "cwnd (packets)", "packets"));
        page.Figure(figures.PerFlow("srtt", "Smoothed RTT", "srtt (ms)", "ms"));
        // What get_info reports (as ss -i shows it), for algorithms that have it.
        foreach (var (metric, title, axis, unit) in new[]
                 {
                     ("dctcp_alpha", "DCTCP alpha (get_info)", "alpha (fraction marked)", ""),
                     ("bbr_bw", "BBR bandwidth estimate (get_info)", "bw (Mbit/s)", "Mbit/s"),
                 })
        {
            if (summary.Flows.Any(f => result.Samples.Flow(f.Id - 1, metric).Any()))
            {
                page.Figure(figures.PerFlow(metric, title, axis, unit));
            }
        }
        page.Figure(figures.Queues());
        AddComparisons(page, result);
        if (summary.StructOps.Count > 0)
        {
            page.Figure(figures.RefCounts());
            page.Html("<h2>struct_ops</h2><table><tr><th>map id</th><th class=\"l\">name</th><th class=\"l\">transitions</th><th>refcnt max</th><th>refcnt final</th><th>freed</th></tr>");
            foreach (var m in summary.StructOps)
            {
                page.Html($"<tr><td>{m.MapId}</td><td class=\"l\">{Encode(m.Name)}</td><td class=\"l\">{Encode(string.Join(" → ", m.Transitions.Select(t => $"{t.State}@{F(t.Seconds, "0.###")}s")))}</td>" +
                    $"<td>{m.RefCountMax}</td><td>{m.RefCountFinal}</td><td>{(m.Freed ? "yes" : "no")}</td></tr>");
            }
            page.Html("</table>");
        }
        if (summary.Programs.Count > 0)
        {
            page.Html("<h2>BPF programs</h2><table><tr><th class=\"l\">object</th><th class=\"l\">program</th><th class=\"l\">member</th><th>runs</th><th>insns executed</th><th>insns/run</th></tr>");
            foreach (var p in summary.Programs)
            {
                page.Html($"<tr><td class=\"l\">{Encode(p.Object)}</td><td class=\"l\">{Encode(p.Name)}</td><td class=\"l\">{Encode(p.Member)}</td>" +
                    $"<td>{p.RunCount.ToString("N0", CultureInfo.InvariantCulture)}</td><td>{p.InstructionsExecuted.ToString("N0", CultureInfo.InvariantCulture)}</td>" +
                    $"<td>{F(p.InstructionsPerRun, "0.#")}</td></tr>");
            }
            page.Html("</table>");
        }
        foreach (var note in summary.Notes)
        {
            page.Html($"<p>note: {Encode(note)}</p>");
        }
        return page.Render();
    }

    /// <summary>
    /// The plots that compare rather than follow time, when the run has their data: Pantheon's throughput against
    /// 95th-percentile one-way delay per algorithm, and the FCT distribution of each sized-flow group.
    /// </summary>
    private static void AddComparisons(PlotlyPage page, TcpRunResult result)
    {
        var algorithms = result.Pantheon.Where(p => p.FlowId is null && p.OwdMsP95 > 0)
            .Select(p => new AlgorithmPoint(p.Cc, p.GoodputMbps, p.OwdMsP95)).ToList();
        if (algorithms.Count > 0)
        {
            page.Figure(ComparisonFigures.Pantheon(algorithms));
        }
        var groups = result.FctSamples.Where(s => s.FctMs is not null).GroupBy(s => s.Group).OrderBy(g => g.Key)
            .Select(g => new FctSamples($"group {g.Key}: {g.First().Cc}", g.Select(s => s.FctMs!.Value).ToList())).ToList();
        if (groups.Count > 0)
        {
            page.Figure(ComparisonFigures.FctCdf(groups));
        }
    }

    /// <summary>The flows table: the terminal's columns (cwnd restarts when any flow had one), each id in its plot colour.</summary>
    private static string FlowsTable(TcpRunSummary summary)
    {
        var flows = summary.Flows;
        bool restarts = flows.Any(f => f.CwndRestarts > 0);
        bool windowed = summary.Window.FromSeconds > 0 || summary.Window.ToSeconds < summary.SimTimeSeconds;
        bool sized = flows.Any(f => f.SizeBytes is not null);
        bool maps = flows.Any(f => f.MapId is not null);
        var h = summary.Handshake;
        bool handshake = h.SynRetries > 0 || h.SynAckRetries > 0 || h.NeverConnected > 0 || h.StillConnecting > 0;
        // Many short flows: the table scrolls in its own box, so the plots stay near the top.
        var html = new StringBuilder("<h2>Flows</h2>" + (flows.Count > 15 ? "<div class=\"scroll\">" : "") + "<table><tr><th>id</th><th class=\"l\">cc</th><th>start s</th><th>end s</th><th>goodput Mbit/s</th>" +
            (windowed ? "<th>window Mbit/s</th>" : "") +
            "<th>RTT ms mean</th><th>RTT ms min</th><th>retransmits</th><th>timeouts</th><th>TLPs</th><th>ECN echoes</th>" +
            (restarts ? "<th>cwnd restarts</th>" : "") + (handshake ? "<th>SYN retries</th><th>connect ms</th>" : "") +
            (sized ? "<th>FCT ms</th><th>slowdown</th>" : "") +
            (maps ? "<th>struct_ops map</th>" : "") + "</tr>");
        foreach (var f in flows)
        {
            string cc = f.CcRequested is { } requested && requested != f.Cc ? $"{f.Cc} (asked {requested})" : f.Cc;
            html.Append($"<tr><td><span class=\"swatch\" style=\"background:{ReportPalette.Flow(f.Id)}\"></span>{f.Id}</td>" +
                $"<td class=\"l\">{Encode(cc)}</td><td>{F(f.StartSeconds, "0.###")}</td><td>{F(f.EndSeconds, "0.###")}</td>" +
                $"<td>{F(f.GoodputMbps, "0.00")}</td>" + (windowed ? $"<td>{(f.WindowActiveSeconds > 0 ? F(f.WindowGoodputMbps, "0.00") : "-")}</td>" : "") +
                $"<td>{F(f.RttMsMean, "0.0")}</td><td>{F(f.RttMsMin, "0.0")}</td><td>{f.Retransmits}</td>" +
                $"<td>{f.Timeouts}</td><td>{f.LossProbes}</td><td>{f.EcnEchoes}</td>" + (restarts ? $"<td>{f.CwndRestarts}</td>" : "") +
                (handshake ? $"<td>{f.SynRetries}</td><td>{(f.ConnectMs is { } c ? F(c, "0.0") : "-")}</td>" : "") +
                (sized ? $"<td>{(f.FctMs is { } fct ? F(fct, "0.0") : f.SizeBytes is null ? "" : "-")}</td><td>{(f.Slowdown is { } slow ? F(slow, "0.00") : "")}</td>" : "") +
                (maps ? $"<td class=\"l\">{(f.MapId is { } id ? Encode($"{id} {f.MapName} ({f.MapProgram})") : "")}</td>" : "") + "</tr>");
        }
        html.Append(summary.Flows.Count > 15 ? "</table></div>" : "</table>");
        if (handshake)
        {
            // Lost SYNs or SYN-ACKs: the kernel's 1 s handshake timeouts are in these flows' connect and completion times.
            html.Append($"<p class=\"caption\">Handshakes: {h.SynRetries} SYN and {h.SynAckRetries} SYN-ACK retries; {h.NeverConnected} flow(s) " +
                $"never connected (connect timed out), {h.StillConnecting} still connecting at the end; connect ms p50 " +
                $"{F(h.ConnectMsP50, "0.0")}, p99 {F(h.ConnectMsP99, "0.0")}, max {F(h.ConnectMsMax, "0.0")}.</p>");
        }
        if (summary.Flows.Count > ReportPalette.FlowColours)
        {
            html.Append($"<p class=\"caption\">Flows more than {ReportPalette.FlowColours} apart share a colour.</p>");
        }
        return html.ToString();
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
