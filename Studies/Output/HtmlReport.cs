using System.Net;
using System.Text;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>
/// report.html: one self-contained page (inline SVG and CSS, no scripts, nothing fetched) with the summary tables and
/// plots of cwnd, RTT and goodput per flow, the bottleneck queue, and each struct_ops map's refcnt over time; consumer
/// faults first, and marked on every plot.
/// </summary>
public static class HtmlReport
{
    public static string Render(string scenario, TcpRunSummary summary, TcpRunResult result)
    {
        var html = new StringBuilder();
        string E(string s) => WebUtility.HtmlEncode(s);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bpfsim report</title><style>");
        html.Append("body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}");
        html.Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:nth-child(2){text-align:left}");
        html.Append("svg{display:block;margin:12px 0;font-family:sans-serif}</style></head><body>");
        html.Append($"<h1>bpfsim run: {E(scenario)}</h1>");
        html.Append($"<p>seed {summary.Seed}, {summary.SimTimeSeconds} s simulated, {summary.Events:N0} events, Jain's fairness {summary.Fairness.Jain:0.000}</p>");

        if (summary.Faults.Count > 0)
        {
            // First thing on the page: the results below include flows that lost their algorithm part-way.
            html.Append("<h2 style=\"color:#c00\">Consumer faults</h2><p>These consumers faulted and were ejected: their maps were unregistered ");
            html.Append("and their flows moved to the default algorithm; the run went on to its end.</p>");
            html.Append("<table><tr><th>t s</th><th>consumer</th><th>map id</th><th>member</th><th>kind</th><th>what happened</th></tr>");
            foreach (var f in summary.Faults)
            {
                html.Append($"<tr><td>{f.Seconds:0.######}</td><td>{E(f.Consumer)}</td><td>{(f.MapId == 0 ? "-" : f.MapId)}</td><td>{E(f.Member)}</td><td>{f.Kind}</td><td style=\"text-align:left\">{E(f.Message)}</td></tr>");
            }
            html.Append("</table>");
        }
        html.Append("<h2>Flows</h2><table><tr><th>id</th><th>cc</th><th>start s</th><th>end s</th><th>goodput Mbit/s</th><th>RTT ms mean</th><th>retransmits</th><th>timeouts</th><th>TLPs</th><th>ECN echoes</th></tr>");
        foreach (var f in summary.Flows)
        {
            string cc = f.CcRequested is { } requested && requested != f.Cc ? $"{f.Cc} (asked {requested})" : f.Cc;
            html.Append($"<tr><td>{f.Id}</td><td>{E(cc)}</td><td>{f.StartSeconds:0.###}</td><td>{f.EndSeconds:0.###}</td><td>{f.GoodputMbps:0.00}</td><td>{f.RttMsMean:0.0}</td><td>{f.Retransmits}</td><td>{f.Timeouts}</td><td>{f.LossProbes}</td><td>{f.EcnEchoes}</td></tr>");
        }
        html.Append("</table><h2>Links</h2><table><tr><th>link</th><th>utilization</th><th>drops</th><th>ECN marks</th><th>queue mean pkts</th><th>queue max pkts</th></tr>");
        foreach (var l in summary.Links)
        {
            html.Append($"<tr><td>{E(l.Name)}</td><td>{l.Utilization:0.000}</td><td>{l.Drops}</td><td>{l.EcnMarks}</td><td>{l.QueuePacketsMean:0.0}</td><td>{l.QueuePacketsMax}</td></tr>");
        }
        html.Append("</table>");

        var samples = result.Samples;
        void Mark(SvgChart chart)
        {
            foreach (var f in summary.Faults)
            {
                chart.Mark(f.Seconds, $"{f.Consumer} ejected");
            }
        }
        SvgChart PerFlow(string title, string metric, string unit)
        {
            var chart = new SvgChart(title, "time (s)", unit);
            foreach (var f in summary.Flows)
            {
                chart.Add($"flow {f.Id} {f.Cc}", samples.Flow(f.Id - 1, metric).ToList());
            }
            Mark(chart);
            return chart;
        }
        html.Append("<h2>Time series</h2>");
        html.Append(PerFlow("Congestion window", "cwnd", "cwnd (packets)").Render());
        html.Append(PerFlow("Smoothed RTT", "srtt", "srtt (ms)").Render());
        html.Append(PerFlow("Goodput", "goodput", "goodput (Mbit/s)").Render());
        // What get_info reports (as ss -i shows it), for algorithms that have it.
        foreach (var (metric, title, unit) in new[]
                 {
                     ("dctcp_alpha", "DCTCP alpha (get_info)", "alpha (fraction marked)"),
                     ("bbr_bw", "BBR bandwidth estimate (get_info)", "bw (Mbit/s)"),
                 })
        {
            if (summary.Flows.Any(f => samples.Flow(f.Id - 1, metric).Any()))
            {
                html.Append(PerFlow(title, metric, unit).Render());
            }
        }
        var queue = new SvgChart("Bottleneck queue", "time (s)", "queue (packets)");
        foreach (var l in summary.Links)
        {
            queue.Add(l.Name, samples.Points().Where(p => p.Subject == l.Name && p.Metric == "queue").Select(p => (p.TimeSeconds, p.Value)).ToList());
        }
        Mark(queue);
        html.Append(queue.Render());
        if (summary.StructOps.Count > 0)
        {
            var refcnt = new SvgChart("struct_ops refcnt", "time (s)", "refcnt (registration/link + users)");
            foreach (var m in summary.StructOps)
            {
                // A step plot: each change holds until the next.
                var steps = new List<(double, double)>();
                foreach (var e in m.Timeline)
                {
                    if (steps.Count > 0)
                    {
                        steps.Add((e.Seconds, steps[^1].Item2));
                    }
                    steps.Add((e.Seconds, e.RefCount));
                }
                steps.Add((summary.SimTimeSeconds, steps.Count > 0 ? steps[^1].Item2 : 0));
                refcnt.Add($"map {m.MapId} {m.Name}", steps);
            }
            Mark(refcnt);
            html.Append(refcnt.Render());
            html.Append("<h2>struct_ops</h2><table><tr><th>map id</th><th>name</th><th>transitions</th><th>refcnt max</th><th>refcnt final</th><th>freed</th></tr>");
            foreach (var m in summary.StructOps)
            {
                html.Append($"<tr><td>{m.MapId}</td><td>{E(m.Name)}</td><td>{E(string.Join(" → ", m.Transitions.Select(t => $"{t.State}@{t.Seconds:0.###}s")))}</td><td>{m.RefCountMax}</td><td>{m.RefCountFinal}</td><td>{(m.Freed ? "yes" : "no")}</td></tr>");
            }
            html.Append("</table>");
        }
        if (summary.Programs.Count > 0)
        {
            html.Append("<h2>BPF programs</h2><table><tr><th>object</th><th>program</th><th>member</th><th>runs</th><th>insns executed</th><th>insns/run</th></tr>");
            foreach (var p in summary.Programs)
            {
                html.Append($"<tr><td>{E(p.Object)}</td><td>{E(p.Name)}</td><td>{E(p.Member)}</td><td>{p.RunCount:N0}</td><td>{p.InstructionsExecuted:N0}</td><td>{p.InstructionsPerRun:0.#}</td></tr>");
            }
            html.Append("</table>");
        }
        foreach (var note in summary.Notes)
        {
            html.Append($"<p>note: {E(note)}</p>");
        }
        html.Append("</body></html>");
        return html.ToString();
    }
}
