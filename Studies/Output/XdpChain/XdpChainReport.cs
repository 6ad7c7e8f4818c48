using System.Globalization;
using BpfSim.Core.Workloads.XdpChain;
using BpfSim.Studies.Output.Charts;

namespace BpfSim.Studies.Output.XdpChain;

/// <summary>
/// The HTML report of <c>bpfsim experiment xdp-chain --out DIR</c>: the comparison table, violations over time,
/// update latency per action, and the per-packet cost of each design, as one self-contained Plotly page.
/// </summary>
public static class XdpChainReport
{
    private static readonly string[] s_colours = ["#d62728", "#1f77b4", "#2ca02c"];

    /// <summary>The page for <paramref name="results"/> of scenario <paramref name="scenarioName"/>.</summary>
    public static string Render(string scenarioName, XdpChainScenario scenario, IReadOnlyList<XdpChainResult> results)
    {
        var page = new PlotlyPage($"bpfsim experiment xdp-chain: {scenarioName}");
        page.Html($"<h1>Several programs on one hook: {PlotlyPage.Encode(scenarioName)}</h1>");
        page.Html($"<p>seed {scenario.Seed}, {scenario.Duration} at {scenario.PacketRate:N0} packets/s, " +
                  $"{scenario.Components.Count} components ({PlotlyPage.Encode(string.Join(", ", scenario.Components.Select(c => $"{c.Name} priority {c.Priority}")))}). " +
                  "See docs/multi-prog.md for the designs, the checker's definitions and the cost and latency models.</p>");
        page.Html(Table(results));
        var over = new ChartFigure("Violations over time", new ChartAxis("time (ms)"), new ChartAxis("violations per bucket"))
        {
            Caption = "Every packet's path checked against the intended order at its instant; skipped, duplicate, out-of-order and stale runs summed per time bucket.",
        };
        var latency = new ChartFigure("Update latency", new ChartAxis("action (completion order)"), new ChartAxis("ms") { Log = true })
        {
            Caption = "Simulated time from a start/replace/stop call's beginning to its return, retries and back-off included.",
        };
        var cost = new ChartFigure("Per-packet cost", new ChartAxis("design") { Categories = results.Select(r => r.Design).ToList() },
            new ChartAxis("ns per packet (simulated)") { Min = 0 })
        {
            Caption = "Mean simulated CPU time of the chain per packet from the cost model (docs/multi-prog.md §cost).",
        };
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            string colour = s_colours[i % s_colours.Length];
            over.Add(new ChartSeries(r.Design, r.ViolationsOverTime.Select((_, b) => (b + 0.5) * r.BucketMs).ToList(),
                r.ViolationsOverTime.Select(v => (double)v).ToList(), colour) { Step = true });
            latency.Add(new ChartSeries(r.Design, r.UpdateLatenciesMs.Select((_, k) => (double)k).ToList(), r.UpdateLatenciesMs, colour)
            {
                Mode = ChartMode.Markers,
                Unit = "ms",
            });
            cost.Add(new ChartSeries(r.Design, [i], [r.NsPerPacket], colour) { Mode = ChartMode.Markers, Unit = "ns" });
        }
        page.Figure(over).Figure(latency).Figure(cost);
        page.Html(Listed(results));
        return page.Render();
    }

    private static string Table(IReadOnlyList<XdpChainResult> results)
    {
        var html = new System.Text.StringBuilder("<div class=\"wide\"><table><tr><th class=\"l\">design</th><th>packets</th><th>violations</th><th>skipped</th>" +
            "<th>duplicate</th><th>out of order</th><th>stale</th><th>ns/packet</th><th>runs/packet</th><th>updates</th><th>failed</th>" +
            "<th>update ms mean</th><th>p50</th><th>p99</th><th>retries</th><th>syscalls</th><th>wall ns/packet</th></tr>");
        foreach (var r in results)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"l\">{r.Design}</td><td>{r.Packets}</td><td>{r.Violations}</td><td>{r.Skipped}</td>" +
                $"<td>{r.Duplicate}</td><td>{r.OutOfOrder}</td><td>{r.Stale}</td><td>{r.NsPerPacket:0.0}</td><td>{r.RunsPerPacket:0.00}</td>" +
                $"<td>{r.Updates}</td><td>{r.FailedUpdates}</td><td>{r.UpdateMsMean:0.000}</td><td>{r.UpdateMsP50:0.000}</td><td>{r.UpdateMsP99:0.000}</td>" +
                $"<td>{r.Retries}</td><td>{r.Syscalls}</td><td>{r.WallNsPerPacket:0}</td></tr>");
        }
        return html.Append("</table></div>").ToString();
    }

    private static string Listed(IReadOnlyList<XdpChainResult> results)
    {
        var html = new System.Text.StringBuilder("<h2>Violations (first listed)</h2>");
        foreach (var r in results.Where(r => r.Listed.Count > 0))
        {
            html.Append($"<h3>{r.Design}</h3><div class=\"scroll\"><table><tr><th>time ms</th><th>packet</th><th class=\"l\">kind</th>" +
                "<th class=\"l\">component</th><th class=\"l\">programs the packet went through</th></tr>");
            foreach (var v in r.Listed)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{v.TimeMs:0.000}</td><td>{v.Packet}</td><td class=\"l\">{v.Kind}</td>" +
                    $"<td class=\"l\">{PlotlyPage.Encode(v.Component)}</td><td class=\"l\">{PlotlyPage.Encode(v.Seen)}</td></tr>");
            }
            html.Append("</table></div>");
        }
        return html.ToString();
    }
}
