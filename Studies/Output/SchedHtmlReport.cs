using System.Net;
using System.Text;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>
/// report.html of a scheduler run: one self-contained page (inline SVG and CSS, no scripts, nothing fetched) with an
/// ejection first when there was one, the schedulers, the per-CPU timeline (<see cref="SchedTimelineSvg"/>: a lane
/// per CPU, a colour per task group, struct_ops events marked), a detail of its first moments with every segment,
/// wait-time distributions (CDF per group), the task, job and CPU tables, and CPU utilization and runnable tasks
/// over time.
/// </summary>
public static class SchedHtmlReport
{
    /// <summary>Points of each CDF drawn (quantiles of the sorted waits).</summary>
    public const int CdfPoints = 400;

    public static string Render(string scenario, SchedScenarioSpec spec, SchedRunSummary s, SchedRunResult result)
    {
        var html = new StringBuilder();
        static string E(string x) => WebUtility.HtmlEncode(x);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bpfsim report</title><style>");
        html.Append("body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}");
        html.Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:nth-child(2){text-align:left}");
        html.Append("svg{display:block;margin:12px 0;font-family:sans-serif}.eject{border:2px solid #c00;padding:8px 14px;color:#900;background:#fff4f4}");
        html.Append(".caption{color:#555;font-size:13px;max-width:1100px}</style></head><body>");
        html.Append($"<h1>bpfsim run: {E(scenario)}</h1>");
        html.Append($"<p>subsystem sched, seed {s.Seed}, {s.SimTimeSeconds} s simulated, {spec.Cpus.Count} CPUs, HZ {spec.Hz}{E(s.KernelNotes)}, {s.Events:N0} events ");
        html.Append($"({s.SchedEvents:N0} scheduling events)</p>");
        foreach (var e in s.Ejections)
        {
            html.Append("<div class=\"eject\"><h2 style=\"color:#c00;margin:4px 0\">Scheduler ejected</h2>");
            html.Append($"<p>at {e.Seconds:0.######} s: sched_ext: BPF scheduler \"{E(e.Scheduler)}\" disabled ({E(e.Reason)})<br>");
            html.Append($"kind {E(e.Kind)} ({e.KindCode}), exit_code {e.ExitCode}<br>");
            if (e.Message.Length > 0)
            {
                html.Append($"<b>{E(e.Message)}</b><br>");
            }
            html.Append("Every task went back to the fair class and the link was detached; the run went on to its end.</p></div>");
        }
        Schedulers(html, s);
        html.Append("<h2>Per-CPU timeline</h2>");
        html.Append(SchedTimelineSvg.Overview(spec, s, result));
        html.Append(SchedTimelineSvg.Detail(spec, s, result));
        html.Append("<h2>Wait times (runnable → running)</h2>");
        html.Append(WaitCdf(result).Render(1000, 360));
        Tables(html, s);
        html.Append("<h2>CPUs over time</h2>");
        var (utilization, runnable) = CpuCharts(spec, result);
        html.Append(utilization.Render(1000, 320));
        html.Append(runnable.Render(1000, 320));
        Cpus(html, s);
        Hotplug(html, s);
        StructOps(html, s);
        foreach (var note in s.Notes)
        {
            html.Append($"<p>note: {E(note)}</p>");
        }
        html.Append("</body></html>");
        return html.ToString();
    }

    private static void Schedulers(StringBuilder html, SchedRunSummary s)
    {
        static string E(string x) => WebUtility.HtmlEncode(x);
        static string O(double? t) => t is { } v ? $"{v:0.######}" : "-";
        if (s.Schedulers.Count > 0)
        {
            html.Append("<h2>Schedulers (sched_ext)</h2><table><tr><th>name</th><th>enabled s</th><th>disabled s</th><th>exit kind</th><th>reason</th><th>message</th></tr>");
            foreach (var x in s.Schedulers)
            {
                html.Append($"<tr><td>{E(x.Name)}</td><td>{O(x.EnabledSeconds)}</td><td>{O(x.DisabledSeconds)}</td><td>{E(x.ExitKind ?? "-")}</td>");
                html.Append($"<td style=\"text-align:left\">{E(x.ExitReason ?? "-")}</td><td style=\"text-align:left\">{E(x.ExitMessage ?? "-")}</td></tr>");
            }
            html.Append("</table>");
        }
        else
        {
            html.Append("<p>No sched_ext scheduler: every task ran in the fair class (EEVDF).</p>");
        }
    }

    private static void Tables(StringBuilder html, SchedRunSummary s)
    {
        static string E(string x) => WebUtility.HtmlEncode(x);
        html.Append("<h2>Task groups</h2><table><tr><th>group</th><th>tasks</th><th>nice</th><th>class</th><th>runtime s</th><th>CPU share</th>");
        html.Append("<th>wait ms mean</th><th>p50</th><th>p99</th><th>p99.9</th><th>max</th><th>switches</th><th>migrations</th><th>deadline misses</th></tr>");
        foreach (var g in s.Groups)
        {
            html.Append($"<tr><td>{E(g.Name)}</td><td>{g.Tasks}</td><td>{g.Nice}</td><td>{g.Class}</td><td>{g.RuntimeSeconds:0.###}</td><td>{g.CpuShare:0.000}</td>");
            html.Append($"<td>{g.WaitMsMean:0.###}</td><td>{g.WaitMsP50:0.###}</td><td>{g.WaitMsP99:0.###}</td><td>{g.WaitMsP999:0.###}</td><td>{g.WaitMsMax:0.###}</td>");
            html.Append($"<td>{g.Switches:N0}</td><td>{g.Migrations:N0}</td><td>{g.DeadlineMisses:N0}</td></tr>");
        }
        html.Append("</table>");
        if (s.Tasks.Count <= 200)
        {
            html.Append("<h2>Tasks</h2><table><tr><th>pid</th><th>name</th><th>nice</th><th>class</th><th>runtime s</th><th>CPU share</th>");
            html.Append("<th>wait ms mean</th><th>p50</th><th>p99</th><th>p99.9</th><th>switches</th><th>migrations</th><th>deadline misses</th></tr>");
            foreach (var t in s.Tasks)
            {
                html.Append($"<tr><td>{t.Pid}</td><td>{E(t.Name)}</td><td>{t.Nice}</td><td>{t.Class}</td><td>{t.RuntimeSeconds:0.###}</td><td>{t.CpuShare:0.000}</td>");
                html.Append($"<td>{t.WaitMsMean:0.###}</td><td>{t.WaitMsP50:0.###}</td><td>{t.WaitMsP99:0.###}</td><td>{t.WaitMsP999:0.###}</td>");
                html.Append($"<td>{t.Switches:N0}</td><td>{t.Migrations:N0}</td><td>{t.DeadlineMisses:N0}{(t.Periods > 0 ? $"/{t.Periods:N0}" : "")}</td></tr>");
            }
            html.Append("</table>");
        }
        else
        {
            html.Append($"<p>{s.Tasks.Count:N0} tasks: one row per group above; tasks.csv and summary.json have each task.</p>");
        }
        if (s.Jobs.Count > 0)
        {
            html.Append("<h2>Jobs</h2><table><tr><th>group</th><th>arrived</th><th>completed</th><th>response ms mean</th><th>p50</th><th>p99</th><th>wait ms mean</th><th>wait p99</th></tr>");
            foreach (var j in s.Jobs)
            {
                html.Append($"<tr><td>{E(j.Name)}</td><td>{j.Count:N0}</td><td>{j.Completed:N0}</td><td>{j.ResponseMsMean:0.###}</td><td>{j.ResponseMsP50:0.###}</td>");
                html.Append($"<td>{j.ResponseMsP99:0.###}</td><td>{j.WaitMsMean:0.###}</td><td>{j.WaitMsP99:0.###}</td></tr>");
            }
            html.Append("</table>");
        }
        if (s.Fairness.JainWeighted > 0)
        {
            html.Append($"<p>Fairness against weights (CPU-bound tasks): Jain {s.Fairness.JainWeighted:0.000}, largest share error {s.Fairness.MaxShareError:P1}</p>");
        }
    }

    /// <summary>The hotplug events (absent without any).</summary>
    private static void Hotplug(StringBuilder html, SchedRunSummary s)
    {
        if (s.Hotplug is not { } h)
        {
            return;
        }
        static string Count(long n, string one, string? many = null) => $"{n:N0} {(n == 1 ? one : many ?? one + "s")}";
        html.Append($"<h2>CPU hotplug</h2><p>{Count(h.Events.Count, "event")}, scx_hotplug_seq {h.Seq}; {Count(h.TasksMigrated, "task")} pushed off outgoing CPUs, " +
                    $"{Count(h.AffinityBroken, "affinity", "affinities")} broken, {Count(h.Restarts, "scheduler restart")}. Utilization above is of the time each CPU was online; " +
                    "offline spans are dark grey in the timeline.</p>");
        html.Append("<table><tr><th>t s</th><th>cpu</th><th>online</th><th>seq</th><th>tasks moved</th><th>affinity broken</th><th>handled by</th></tr>");
        foreach (var e in h.Events)
        {
            html.Append($"<tr><td>{e.Seconds:0.######}</td><td>{e.Cpu}</td><td>{(e.Online ? "yes" : "no")}</td><td>{e.Seq}</td><td>{e.TasksMigrated}</td>" +
                        $"<td>{e.AffinityBroken}</td><td>{WebUtility.HtmlEncode(e.HandledBy)}</td></tr>");
        }
        html.Append("</table>");
    }

    /// <summary>The CPU table, in as many side-by-side column groups as keep it about 16 rows tall.</summary>
    private static void Cpus(StringBuilder html, SchedRunSummary s)
    {
        int blocks = Math.Max(1, (s.Cpus.Count + 15) / 16), rows = (s.Cpus.Count + blocks - 1) / Math.Max(1, blocks);
        html.Append("<h2>CPUs</h2><table><tr>");
        for (int b = 0; b < blocks; b++)
        {
            html.Append("<th>cpu</th><th>node</th><th>utilization</th><th>context switches</th><th>ticks</th>");
        }
        html.Append("</tr>");
        for (int r = 0; r < rows; r++)
        {
            html.Append("<tr>");
            for (int b = 0; b < blocks; b++)
            {
                int i = b * rows + r;
                html.Append(i < s.Cpus.Count
                    ? $"<td>{s.Cpus[i].Id}</td><td>{s.Cpus[i].Node}</td><td>{s.Cpus[i].Utilization:0.000}</td><td>{s.Cpus[i].Switches:N0}</td><td>{s.Cpus[i].Ticks:N0}</td>"
                    : "<td></td><td></td><td></td><td></td><td></td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table>");
    }

    /// <summary>A CDF per group: the fraction of its waits at most x ms, x up to the p99.9 of all waits (the tail is in the tables).</summary>
    private static SvgChart WaitCdf(SchedRunResult result)
    {
        var all = new List<long>();
        foreach (var w in result.Trace.WaitsByGroup.Values)
        {
            all.AddRange(w);
        }
        double xMax = 0;
        if (all.Count > 0)
        {
            var sorted = all.ToArray();
            Array.Sort(sorted);
            xMax = WaitStats.Rank(sorted, 0.999);
        }
        var chart = new SvgChart("Wait-time distribution (CDF per group, x axis to the p99.9 of all waits)", "wait (ms)", "fraction of waits ≤ x");
        // In the timeline's group order, so each group has the same colour in both (SvgChart's palette is its first ten).
        var order = SchedTimelineSvg.GroupOrder(result.Trace);
        foreach (var (group, waits) in result.Trace.WaitsByGroup.OrderBy(g => order.IndexOf(g.Key) is var i && i < 0 ? int.MaxValue : i)
                     .ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            if (waits.Length == 0)
            {
                continue;
            }
            var sorted = (long[])waits.Clone();
            Array.Sort(sorted);
            var points = new List<(double, double)> { (0, 0) };
            int step = Math.Max(1, sorted.Length / CdfPoints);
            for (int i = 0; i < sorted.Length; i += step)
            {
                double x = sorted[i] / 1e6;
                if (x > xMax)
                {
                    break;
                }
                points.Add((x, (i + 1) / (double)sorted.Length));
            }
            int below = Array.FindLastIndex(sorted, w => w / 1e6 <= xMax);
            points.Add((xMax, (below + 1) / (double)sorted.Length));
            chart.Add(group, points);
        }
        return chart;
    }

    private static (SvgChart Utilization, SvgChart Runnable) CpuCharts(SchedScenarioSpec spec, SchedRunResult result)
    {
        var utilization = new SvgChart("CPU utilization (per sample interval)", "time (s)", "busy fraction");
        var runnable = new SvgChart("Runnable tasks (all CPUs' runqueues, at each sample)", "time (s)", "tasks");
        var byTime = result.Trace.Samples.GroupBy(x => x.TimeNs).OrderBy(g => g.Key).ToList();
        utilization.Add("mean of all CPUs", byTime.Select(g => (g.Key / 1e9, g.Average(x => x.Busy))).ToList());
        if (spec.Cpus.Count <= 8)
        {
            for (int cpu = 0; cpu < spec.Cpus.Count; cpu++)
            {
                int c = cpu;
                utilization.Add($"cpu {c}", result.Trace.Samples.Where(x => x.Cpu == c).Select(x => (x.TimeNs / 1e9, x.Busy)).ToList());
            }
        }
        runnable.Add("runnable", byTime.Select(g => (g.Key / 1e9, (double)g.Sum(x => x.Runnable))).ToList());
        // One label per instant (enabling and enabled, an error exit and the disable, come at the same time).
        foreach (var at in result.Trace.Markers.GroupBy(m => m.TimeNs))
        {
            string text = at.Last().Text.Replace("sched_ext: ", "", StringComparison.Ordinal);
            text = text.Length > 48 ? text[..47] + "…" : text;
            utilization.Mark(at.Key / 1e9, text);
            runnable.Mark(at.Key / 1e9, text);
        }
        return (utilization, runnable);
    }

    private static void StructOps(StringBuilder html, SchedRunSummary s)
    {
        static string E(string x) => WebUtility.HtmlEncode(x);
        if (s.StructOps.Count > 0)
        {
            html.Append("<h2>struct_ops</h2><table><tr><th>map id</th><th>name</th><th>type</th><th>transitions</th><th>refcnt max</th><th>refcnt final</th><th>freed</th></tr>");
            foreach (var m in s.StructOps)
            {
                html.Append($"<tr><td>{m.MapId}</td><td>{E(m.Name)}</td><td>{E(m.Type)}</td><td>{E(string.Join(" → ", m.Transitions.Select(t => $"{t.State}@{t.Seconds:0.###}s")))}</td>");
                html.Append($"<td>{m.RefCountMax}</td><td>{m.RefCountFinal}</td><td>{(m.Freed ? "yes" : "no")}</td></tr>");
            }
            html.Append("</table>");
        }
        if (s.Programs.Count > 0)
        {
            html.Append("<h2>BPF programs</h2><table><tr><th>object</th><th>program</th><th>member</th><th>runs</th><th>insns executed</th><th>insns/run</th></tr>");
            foreach (var p in s.Programs)
            {
                html.Append($"<tr><td>{E(p.Object)}</td><td>{E(p.Name)}</td><td>{E(p.Member)}</td><td>{p.RunCount:N0}</td><td>{p.InstructionsExecuted:N0}</td><td>{p.InstructionsPerRun:0.#}</td></tr>");
            }
            html.Append("</table>");
        }
        if (s.Faults.Count > 0)
        {
            html.Append("<h2 style=\"color:#c00\">Consumer faults</h2><table><tr><th>t s</th><th>consumer</th><th>member</th><th>kind</th><th>what happened</th></tr>");
            foreach (var f in s.Faults)
            {
                html.Append($"<tr><td>{f.Seconds:0.######}</td><td>{E(f.Consumer)}</td><td>{E(f.Member)}</td><td>{f.Kind}</td><td style=\"text-align:left\">{E(f.Message)}</td></tr>");
            }
            html.Append("</table>");
        }
    }
}
