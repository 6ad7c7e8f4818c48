using BpfSim.Scheduler.Workloads;
using Spectre.Console;

namespace BpfSim.Cli.Output;

/// <summary>
/// The terminal summary of a scheduler run: the header, the schedulers and any ejection (in red, with the kernel's
/// message), the tasks (a row per task, or per group when there are many), jobs, CPUs, a per-CPU timeline strip,
/// struct_ops, programs, faults and notes.
/// </summary>
public static class SchedTerminal
{
    /// <summary>Above this many tasks the table has a row per group instead of per task.</summary>
    public const int MaxTaskRows = 24;

    /// <summary>Above this many CPUs the CPU table is summarised (min, mean, max) instead of a row per CPU.</summary>
    public const int MaxCpuRows = 16;

    /// <summary>The timeline strip's width in columns.</summary>
    public const int StripColumns = 72;

    /// <summary>The strip shows at most this many CPUs (report.html has every one).</summary>
    public const int MaxStripCpus = 32;

    private static readonly string[] s_colours =
        ["blue", "darkorange", "green", "red", "purple", "olive", "fuchsia", "teal", "yellow", "aqua", "maroon", "navy"];

    private const string Letters = "abcdefghijklmnopqrstuvwxyz";

    public static void Print(IAnsiConsole console, string name, SchedScenarioSpec spec, SchedRunSummary s, SchedRunResult result)
    {
        console.MarkupLine($"[bold]bpfsim run[/] {Markup.Escape(name)}: seed {s.Seed}, {s.SimTimeSeconds:0.###} s simulated in {s.WallSeconds:0.###} s " +
                           $"({s.Events:N0} events, {s.SchedEvents:N0} scheduling events), {spec.Cpus.Count} CPUs, HZ {spec.Hz}" +
                           Markup.Escape(s.KernelNotes));
        Schedulers(console, s);
        Ejections(console, s);
        Tasks(console, s);
        Jobs(console, s);
        Cpus(console, s);
        Hotplug(console, s);
        Strip(console, spec, s, result);
        if (s.Fairness.JainWeighted > 0)
        {
            console.WriteLine($"fairness against weights (CPU-bound tasks): Jain {s.Fairness.JainWeighted:0.000}, largest share error {s.Fairness.MaxShareError:P1}");
        }
        StructOpsTables.Write(console, s.StructOps, s.Programs, s.Faults);
        foreach (var note in s.Notes)
        {
            console.WriteLine($"note: {note}");
        }
    }

    private static string Seconds(double? t) => t is { } v ? $"{v:0.######}" : "-";

    private static void Schedulers(IAnsiConsole console, SchedRunSummary s)
    {
        if (s.Schedulers.Count == 0)
        {
            console.WriteLine("no sched_ext scheduler: every task ran in the fair class (EEVDF)");
            return;
        }
        var table = new Table().Title("schedulers (sched_ext)").AddColumns("name", "enabled s", "disabled s", "exit kind", "reason", "message");
        foreach (var x in s.Schedulers)
        {
            bool error = x.ExitKind?.Contains("ERROR", StringComparison.Ordinal) == true;
            string kind = x.ExitKind is null ? "-" : error ? $"[red]{Markup.Escape(x.ExitKind)}[/]" : Markup.Escape(x.ExitKind);
            table.AddRow(Markup.Escape(x.Name), Seconds(x.EnabledSeconds), Seconds(x.DisabledSeconds), kind, Markup.Escape(x.ExitReason ?? "-"),
                Markup.Escape(x.ExitMessage is { Length: > 0 } m ? m : "-"));
        }
        console.Write(table);
    }

    /// <summary>Each ejection as the kernel logs it ("sched_ext: BPF scheduler "…" disabled (…)" and the message).</summary>
    private static void Ejections(IAnsiConsole console, SchedRunSummary s)
    {
        foreach (var e in s.Ejections)
        {
            var text = new List<string>
            {
                $"at {e.Seconds:0.######} s: sched_ext: BPF scheduler \"{e.Scheduler}\" disabled ({e.Reason})",
                $"kind {e.Kind} ({e.KindCode}), exit_code {e.ExitCode}",
            };
            if (e.Message.Length > 0)
            {
                text.Add($"sched_ext: {e.Scheduler}: {e.Message}");
            }
            text.Add("every task went back to the fair class; the link was detached and the run went on");
            console.Write(new Panel(new Markup($"[red]{Markup.Escape(string.Join("\n", text))}[/]"))
                .Header("[red bold]scheduler ejected[/]").BorderColor(Color.Red));
        }
    }

    private static void Tasks(IAnsiConsole console, SchedRunSummary s)
    {
        if (s.Tasks.Count == 0)
        {
            return;
        }
        if (s.Tasks.Count > MaxTaskRows)
        {
            var groups = new Table().Title($"tasks: {s.Tasks.Count} in {s.Groups.Count} groups (one row per group, run s and CPUs summed over it; --json or --out for each task)")
                .AddColumns("group", "tasks", "nice", "class", "run s", "CPUs", "wait ms mean", "p50", "p99", "p99.9", "switches", "migr",
                    "dl misses");
            foreach (var g in s.Groups)
            {
                groups.AddRow(Markup.Escape(g.Name), $"{g.Tasks}", g.Nice, g.Class, $"{g.RuntimeSeconds:0.###}", $"{g.CpuShare:0.000}", Ms(g.WaitMsMean),
                    Ms(g.WaitMsP50), Ms(g.WaitMsP99), Ms(g.WaitMsP999), $"{g.Switches:N0}", $"{g.Migrations:N0}", $"{g.DeadlineMisses:N0}");
            }
            console.Write(groups);
            return;
        }
        var table = new Table().Title("tasks (wait: runnable → running)").AddColumns("pid", "name", "nice", "class", "run s", "CPU",
            "wait ms mean", "p50", "p99", "p99.9", "switches", "migr", "dl misses");
        foreach (var t in s.Tasks)
        {
            string misses = t.Periods > 0 ? $"{t.DeadlineMisses:N0}/{t.Periods:N0}" : $"{t.DeadlineMisses:N0}";
            table.AddRow($"{t.Pid}", Markup.Escape(t.Name), $"{t.Nice}", t.Class, $"{t.RuntimeSeconds:0.###}", $"{t.CpuShare:0.000}", Ms(t.WaitMsMean),
                Ms(t.WaitMsP50), Ms(t.WaitMsP99), Ms(t.WaitMsP999), $"{t.Switches:N0}", $"{t.Migrations:N0}", misses);
        }
        console.Write(table);
    }

    private static string Ms(double v) => v >= 100 ? $"{v:0}" : v >= 1 ? $"{v:0.00}" : $"{v:0.000}";

    private static void Jobs(IAnsiConsole console, SchedRunSummary s)
    {
        if (s.Jobs.Count == 0)
        {
            return;
        }
        var table = new Table().Title("jobs (poisson arrivals: fork → exit)").AddColumns("group", "arrived", "completed", "response ms mean", "p50", "p99",
            "wait ms mean", "wait p99");
        foreach (var j in s.Jobs)
        {
            table.AddRow(Markup.Escape(j.Name), $"{j.Count:N0}", $"{j.Completed:N0}", Ms(j.ResponseMsMean), Ms(j.ResponseMsP50), Ms(j.ResponseMsP99),
                Ms(j.WaitMsMean), Ms(j.WaitMsP99));
        }
        console.Write(table);
    }

    /// <summary>One line for the run's CPU hotplug, then one per event.</summary>
    private static void Hotplug(IAnsiConsole console, SchedRunSummary s)
    {
        if (s.Hotplug is not { } h)
        {
            return;
        }
        console.WriteLine($"hotplug: {Count(h.Events.Count, "event")} (scx_hotplug_seq {h.Seq}), {Count(h.TasksMigrated, "task")} pushed off outgoing CPUs, " +
                          $"{Count(h.AffinityBroken, "affinity", "affinities")} broken (no allowed CPU online), {Count(h.Restarts, "scheduler restart")}");
        foreach (var e in h.Events)
        {
            console.WriteLine($"  at {e.Seconds:0.######} s: cpu {e.Cpu} {(e.Online ? "online" : "offline")}, seq {e.Seq}" +
                              (e.Online ? "" : $", {Count(e.TasksMigrated, "task")} moved") + (e.AffinityBroken > 0 ? $", {Count(e.AffinityBroken, "affinity", "affinities")} broken" : "") +
                              $" — {e.HandledBy}");
        }
    }

    private static string Count(long n, string one, string? many = null) => $"{n:N0} {(n == 1 ? one : many ?? one + "s")}";

    private static void Cpus(IAnsiConsole console, SchedRunSummary s)
    {
        if (s.Cpus.Count == 0)
        {
            return;
        }
        if (s.Cpus.Count > MaxCpuRows)
        {
            var min = s.Cpus.MinBy(c => c.Utilization)!;
            var max = s.Cpus.MaxBy(c => c.Utilization)!;
            console.WriteLine($"CPUs: {s.Cpus.Count}, utilization mean {s.Cpus.Average(c => c.Utilization):0.000}, min {min.Utilization:0.000} (cpu {min.Id}), " +
                              $"max {max.Utilization:0.000} (cpu {max.Id}); context switches {s.Cpus.Sum(c => c.Switches):N0} " +
                              "(--json or --out for each CPU)");
            return;
        }
        bool hotplug = s.Hotplug is not null;
        var table = new Table().Title(hotplug ? "CPUs (utilization of the time online)" : "CPUs").AddColumns("cpu", "node", "utilization", "context switches", "ticks");
        if (hotplug)
        {
            table.AddColumn("offline s");
        }
        foreach (var c in s.Cpus)
        {
            if (hotplug)
            {
                table.AddRow($"{c.Id}", $"{c.Node}", $"{c.Utilization:0.000}", $"{c.Switches:N0}", $"{c.Ticks:N0}", $"{s.Hotplug!.CpuOfflineSeconds[c.Id]:0.######}");
            }
            else
            {
                table.AddRow($"{c.Id}", $"{c.Node}", $"{c.Utilization:0.000}", $"{c.Switches:N0}", $"{c.Ticks:N0}");
            }
        }
        console.Write(table);
    }

    /// <summary>Whether <paramref name="cpu"/> was offline for most of from … to (CPU hotplug).</summary>
    private static bool OfflineMost(Scheduler.Metrics.SchedTrace trace, int cpu, long from, long to)
    {
        long offline = 0;
        foreach (var (c, f, t) in trace.OfflineSpans)
        {
            if (c == cpu)
            {
                offline += Math.Max(0, Math.Min(t, to) - Math.Max(f, from));
            }
        }
        return 2 * offline > to - from;
    }

    /// <summary>What the strip says of the segments the run did not keep (past timeline_limit): from where it drew them.</summary>
    private static string DroppedNote(Scheduler.Metrics.SchedTrace trace, TimelineBuckets b) =>
        b.Overview is { } o
            ? $"; the first {trace.Timeline.Count:N0} segments kept, the {trace.TimelineDropped:N0} after them (from {o.FirstNs / 1e9:0.###} s) drawn at {o.ColumnNs / 1e6:0.##} ms resolution"
            : trace.TimelineDropped > 0
                ? $"; drawn from the first {trace.Timeline.Count:N0} segments, {trace.TimelineDropped:N0} more were counted, not kept"
                : "";

    /// <summary>
    /// The per-CPU timeline as a strip of characters, a row per CPU: each column is a slice of the run, lettered by the
    /// task group that ran most of it (the legend below), '·' when idle, 'x' when offline; a marker row shows struct_ops events.
    /// </summary>
    private static void Strip(IAnsiConsole console, SchedScenarioSpec spec, SchedRunSummary s, SchedRunResult result)
    {
        var trace = result.Trace;
        if (trace.Timeline.Count == 0)
        {
            return;
        }
        long end = (long)(s.SimTimeSeconds * 1e9);
        int cpus = Math.Min(spec.Cpus.Count, MaxStripCpus);
        var b = TimelineBuckets.Of(trace, cpus, 0, end, StripColumns);
        console.MarkupLine($"[bold]per-CPU timeline[/] (0 … {s.SimTimeSeconds:0.###} s, one column = {b.ColumnNs / 1e6:0.##} ms, the group that ran most of it" +
                           $"{DroppedNote(trace, b)}):");
        var markers = new char[StripColumns];
        Array.Fill(markers, ' ');
        foreach (var (t, _) in trace.Markers)
        {
            markers[Math.Clamp((int)(t / b.ColumnNs), 0, StripColumns - 1)] = '▼';
        }
        if (trace.Markers.Count > 0)
        {
            console.WriteLine($"        {new string(markers)}");
        }
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            var row = new System.Text.StringBuilder();
            for (int c = 0; c < StripColumns; c++)
            {
                var (g, busy) = b.Dominant(cpu, c);
                if ((g < 0 || busy < 0.05) && OfflineMost(trace, cpu, (long)(b.StartNs + c * b.ColumnNs), (long)(b.StartNs + (c + 1) * b.ColumnNs)))
                {
                    row.Append("[grey]x[/]");
                    continue;
                }
                row.Append(g < 0 || busy < 0.05 ? "[grey]·[/]" : $"[{s_colours[g % s_colours.Length]}]{Letters[g % Letters.Length]}[/]");
            }
            console.MarkupLine($"cpu {cpu,3} {row}");
        }
        if (spec.Cpus.Count > cpus)
        {
            console.WriteLine($"        (CPUs {cpus} … {spec.Cpus.Count - 1} not shown; report.html has every CPU)");
        }
        var legend = b.Groups.Select((g, i) => $"[{s_colours[i % s_colours.Length]}]{Letters[i % Letters.Length]}[/] {Markup.Escape(g)}");
        console.MarkupLine($"        {string.Join("  ", legend)}  [grey]·[/] idle{(trace.OfflineSpans.Count > 0 ? "  [grey]x[/] offline" : "")}");
        foreach (var (t, text) in trace.Markers)
        {
            console.WriteLine($"        ▼ {t / 1e9:0.######} s: {text}");
        }
    }
}
