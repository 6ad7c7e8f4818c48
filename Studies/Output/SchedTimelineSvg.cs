using System.Globalization;
using System.Net;
using System.Text;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>
/// The per-CPU timeline of report.html as inline SVG: one lane per CPU (<c>&lt;g class="lane" data-cpu="N"&gt;</c>), a
/// colour per task group, hover text (an SVG <c>&lt;title&gt;</c>) on every rectangle, struct_ops events as red lines.
/// The overview reduces the run to <see cref="Columns"/> columns per lane (<see cref="TimelineBuckets"/>) and merges
/// equal neighbours, so 64 CPUs and millions of segments draw as at most 64 × 1000 rectangles; the detail draws every
/// segment of a short window so single scheduling decisions can be seen.
/// </summary>
public static class SchedTimelineSvg
{
    public const int Columns = 1000;
    /// <summary>The detail window: this long, or the run if shorter.</summary>
    public const long DetailNs = SchedTrace.DetailWindowNs;
    /// <summary>The detail draws at most this many segments (else it is cut short and says so).</summary>
    public const int MaxDetailSegments = 20_000;

    private const int Left = 64, Right = 20, Top = 28, Width = Left + Columns + Right;

    internal static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
         "#393b79", "#e7ba52", "#637939", "#ad494a", "#7b4173", "#3182bd", "#fd8d3c", "#74c476", "#9e9ac8", "#969696"];

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static int LaneHeight(int cpus) => Math.Clamp(640 / Math.Max(cpus, 1), 6, 22);

    public static string Overview(SchedScenarioSpec spec, SchedRunSummary s, SchedRunResult result)
    {
        var trace = result.Trace;
        int cpus = spec.Cpus.Count, lane = LaneHeight(cpus);
        long end = (long)Math.Round(s.SimTimeSeconds * 1e9);
        var b = TimelineBuckets.Of(trace, cpus, 0, end, Columns);
        var svg = new StringBuilder();
        int height = Top + cpus * lane + 56 + 18 * ((b.Groups.Count + 5) / 6);
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{Width}\" height=\"{height}\" role=\"img\" aria-label=\"per-CPU timeline\">");
        svg.Append($"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">Which task group ran on each CPU, 0 … {F(s.SimTimeSeconds)} s</text>");
        long rects = 0;
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            int y = Top + cpu * lane;
            svg.Append($"<g class=\"lane\" data-cpu=\"{cpu}\"><rect x=\"{Left}\" y=\"{y}\" width=\"{Columns}\" height=\"{lane - 1}\" fill=\"#f3f3f3\"/>");
            Offline(svg, trace, cpu, y, lane, 0, end);
            if (lane >= 8 || cpu % 4 == 0)
            {
                svg.Append($"<text x=\"{Left - 6}\" y=\"{y + lane - 2}\" text-anchor=\"end\" font-size=\"{Math.Min(11, lane)}\">cpu {cpu}</text>");
            }
            // Merge neighbouring columns of the same group and (quartered) busy level into one rectangle.
            int c = 0;
            while (c < Columns)
            {
                var (g, busy) = b.Dominant(cpu, c);
                int level = (int)Math.Ceiling(busy * 4);
                int to = c;
                while (to + 1 < Columns && b.Dominant(cpu, to + 1) is var (g2, busy2) && g2 == g && (int)Math.Ceiling(busy2 * 4) == level)
                {
                    to++;
                }
                if (g >= 0 && level > 0)
                {
                    double t0 = (b.StartNs + c * b.ColumnNs) / 1e9, t1 = (b.StartNs + (to + 1) * b.ColumnNs) / 1e9;
                    svg.Append($"<rect x=\"{Left + c}\" y=\"{y}\" width=\"{to - c + 1}\" height=\"{lane - 1}\" fill=\"{Palette[g % Palette.Length]}\" ");
                    svg.Append($"fill-opacity=\"{F(0.25 + 0.75 * level / 4.0)}\"><title>cpu {cpu}, {t0:0.######}–{t1:0.######} s: {E(b.Shares(cpu, c, to))}</title></rect>");
                    rects++;
                }
                c = to + 1;
            }
            svg.Append("</g>");
        }
        Axis(svg, Top + cpus * lane, 0, s.SimTimeSeconds);
        Markers(svg, result, Top, Top + cpus * lane, 0, end);
        Legend(svg, b.Groups, Top + cpus * lane + 52);
        svg.Append("</svg>");
        string dropped = b.Overview is { } o
            ? $" The run kept {trace.Timeline.Count:N0} segments, the first {spec.TimelineLimit:N0} (timeline_limit) and those of the detail's window;" +
              $" timeline.csv has them. The {trace.TimelineDropped:N0} others, from {o.FirstNs / 1e9:0.###} s on, are drawn from the run's overview at its {o.ColumnNs / 1e6:0.###} ms resolution."
            : trace.TimelineDropped > 0
                ? $" The run kept the first {trace.Timeline.Count:N0} segments (timeline_limit {spec.TimelineLimit:N0}); {trace.TimelineDropped:N0} later ones were counted, not kept, so the lanes end where the kept ones do."
                : "";
        return svg + $"<p class=\"caption\">{b.Segments:N0} segments drawn as {rects:N0} rectangles: each of the {Columns} columns is {b.ColumnNs / 1e6:0.###} ms " +
               "and shows the group that ran most of it, paler when the CPU was idle part of it; hover for the shares. Red lines: struct_ops events." +
               (trace.OfflineSpans.Count > 0 ? " Dark grey: the CPU was offline (hotplug)." : "") +
               dropped + "</p>";
    }

    /// <summary>Every segment of a short window: from the first scheduler's enable (or the start) for <see cref="DetailNs"/>.</summary>
    public static string Detail(SchedScenarioSpec spec, SchedRunSummary s, SchedRunResult result)
    {
        var trace = result.Trace;
        long end = (long)Math.Round(s.SimTimeSeconds * 1e9);
        long from = s.Schedulers.FirstOrDefault(x => x.EnabledSeconds is not null)?.EnabledSeconds is { } en ? (long)(en * 1e9) : 0;
        from = Math.Max(0, Math.Min(from, end - Math.Min(DetailNs, end)));
        long to = Math.Min(end, from + DetailNs);
        var segments = trace.Timeline.Where(x => x.Task >= 0 && x.Task < trace.TaskNames.Count && x.EndNs > from && x.StartNs < to).Take(MaxDetailSegments + 1).ToList();
        if (segments.Count == 0 || to <= from)
        {
            return "";
        }
        bool cut = segments.Count > MaxDetailSegments;
        if (cut)
        {
            segments.RemoveAt(segments.Count - 1);
            to = Math.Min(to, segments.Max(x => x.EndNs));
        }
        int cpus = spec.Cpus.Count, lane = LaneHeight(cpus);
        var groups = GroupOrder(trace);
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline-detail\" width=\"{Width}\" height=\"{Top + cpus * lane + 56 + 18 * ((groups.Count + 5) / 6)}\" role=\"img\" aria-label=\"per-CPU timeline detail\">");
        svg.Append($"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">Detail: every segment from {from / 1e9:0.###} s to {to / 1e9:0.###} s</text>");
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            int y = Top + cpu * lane;
            svg.Append($"<rect x=\"{Left}\" y=\"{y}\" width=\"{Columns}\" height=\"{lane - 1}\" fill=\"#f3f3f3\"/>");
            Offline(svg, trace, cpu, y, lane, from, to);
            if (lane >= 8 || cpu % 4 == 0)
            {
                svg.Append($"<text x=\"{Left - 6}\" y=\"{y + lane - 2}\" text-anchor=\"end\" font-size=\"{Math.Min(11, lane)}\">cpu {cpu}</text>");
            }
        }
        double scale = Columns / (double)(to - from);
        foreach (var x in segments)
        {
            var (pid, comm, group) = trace.TaskNames[x.Task];
            int g = Math.Min(groups.IndexOf(group), TimelineBuckets.MaxGroups);
            double x0 = Left + (Math.Max(x.StartNs, from) - from) * scale, x1 = Left + (Math.Min(x.EndNs, to) - from) * scale;
            svg.Append($"<rect x=\"{F(x0)}\" y=\"{Top + x.Cpu * lane}\" width=\"{F(Math.Max(x1 - x0, 0.3))}\" height=\"{lane - 1}\" fill=\"{Palette[g % Palette.Length]}\" stroke=\"#fff\" stroke-width=\"0.3\">");
            svg.Append($"<title>cpu {x.Cpu}: {E(comm)}[{pid}] ({E(group)}, {(x.Class == 1 ? "ext" : "fair")}) {x.StartNs / 1e9:0.######}–{x.EndNs / 1e9:0.######} s ({(x.EndNs - x.StartNs) / 1e6:0.###} ms)</title></rect>");
        }
        Axis(svg, Top + cpus * lane, from / 1e9, to / 1e9);
        Markers(svg, result, Top, Top + cpus * lane, from, to);
        Legend(svg, groups.Take(TimelineBuckets.MaxGroups).ToList(), Top + cpus * lane + 52);
        svg.Append("</svg>");
        return svg + $"<p class=\"caption\">{segments.Count:N0} segments, each drawn (a white edge between two); hover for the task, its class and times." +
               (cut ? $" Cut at {MaxDetailSegments:N0} segments." : "") + "</p>";
    }

    /// <summary>The task groups in order of first appearance among the tasks: one colour each, the same in every chart.</summary>
    internal static List<string> GroupOrder(Scheduler.Metrics.SchedTrace trace)
    {
        var groups = new List<string>();
        foreach (var (_, _, group) in trace.TaskNames)
        {
            if (!groups.Contains(group))
            {
                groups.Add(group);
            }
        }
        return groups;
    }

    private static void Axis(StringBuilder svg, int y, double t0, double t1)
    {
        for (int i = 0; i <= 10; i++)
        {
            double t = t0 + (t1 - t0) * i / 10;
            int x = Left + Columns * i / 10;
            svg.Append($"<line x1=\"{x}\" x2=\"{x}\" y1=\"{y}\" y2=\"{y + 4}\" stroke=\"#666\"/>");
            svg.Append($"<text x=\"{x}\" y=\"{y + 16}\" text-anchor=\"middle\" font-size=\"11\">{t.ToString(t1 - t0 < 0.5 ? "0.####" : "0.##", CultureInfo.InvariantCulture)}</text>");
        }
        svg.Append($"<text x=\"{Left + Columns / 2}\" y=\"{y + 30}\" text-anchor=\"middle\" font-size=\"12\">time (s)</text>");
    }

    /// <summary>The spans <paramref name="cpu"/> was offline, within from … to, as dark grey bars.</summary>
    private static void Offline(StringBuilder svg, Scheduler.Metrics.SchedTrace trace, int cpu, int y, int lane, long from, long to)
    {
        double scale = Columns / (double)Math.Max(1, to - from);
        foreach (var (c, f, t) in trace.OfflineSpans)
        {
            if (c != cpu || t <= from || f >= to)
            {
                continue;
            }
            double x0 = Left + (Math.Max(f, from) - from) * scale, x1 = Left + (Math.Min(t, to) - from) * scale;
            svg.Append($"<rect class=\"offline\" x=\"{F(x0)}\" y=\"{y}\" width=\"{F(Math.Max(x1 - x0, 0.5))}\" height=\"{lane - 1}\" fill=\"#555\" fill-opacity=\"0.45\">");
            svg.Append($"<title>cpu {cpu} offline {f / 1e9:0.######}–{t / 1e9:0.######} s</title></rect>");
        }
    }

    private static void Markers(StringBuilder svg, SchedRunResult result, int top, int bottom, long from, long to)
    {
        double scale = Columns / (double)Math.Max(1, to - from);
        foreach (var (t, text) in result.Trace.Markers.Where(m => m.TimeNs >= from && m.TimeNs <= to))
        {
            double x = Left + (t - from) * scale;
            svg.Append($"<line class=\"marker\" x1=\"{F(x)}\" x2=\"{F(x)}\" y1=\"{top - 4}\" y2=\"{bottom}\" stroke=\"#c00\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\">");
            svg.Append($"<title>{t / 1e9:0.######} s: {E(text)}</title></line>");
        }
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<string> groups, int y)
    {
        for (int i = 0; i < groups.Count; i++)
        {
            int x = Left + i % 6 * 170, yy = y + i / 6 * 18;
            svg.Append($"<rect x=\"{x}\" y=\"{yy - 10}\" width=\"14\" height=\"10\" fill=\"{Palette[i % Palette.Length]}\"/>");
            svg.Append($"<text x=\"{x + 18}\" y=\"{yy}\" font-size=\"11\">{E(groups[i])}</text>");
        }
    }
}
