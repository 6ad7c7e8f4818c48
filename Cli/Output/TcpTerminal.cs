using BpfSim.Core.Simulation;
using BpfSim.Studies.Output;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Workloads;
using Spectre.Console;

namespace BpfSim.Cli.Output;

/// <summary>
/// The terminal summary of a TCP run: the header and measurement window, the flows (a row per flow, or per
/// <c>flows:</c> group when there are many), links, per-algorithm totals (the Pantheon pair), flow completion times
/// per size bin, the XDP/tcx hooks' actions per interface, fairness, struct_ops, programs, faults and notes.
/// </summary>
public static class TcpTerminal
{
    /// <summary>Above this many flows, some of them sized (short transfers), the flows table has a row per group.</summary>
    public const int MaxFlowRows = 20;

    /// <summary>Above this many flows of any kind the flows table has a row per group.</summary>
    public const int MaxBulkFlowRows = 64;

    /// <summary>Whether the flows table is a row per <c>flows:</c> group rather than per flow.</summary>
    public static bool Grouped(IReadOnlyList<FlowResult> flows) =>
        flows.Count > MaxBulkFlowRows || (flows.Count > MaxFlowRows && flows.Any(f => f.SizeBytes is not null));

    public static void Print(IAnsiConsole console, string name, TcpScenarioSpec spec, TcpRunSummary s)
    {
        console.MarkupLine($"[bold]bpfsim run[/] {Markup.Escape(name)}: seed {s.Seed}, {s.SimTimeSeconds:0.###} s simulated in {s.WallSeconds:0.###} s ({s.Events:N0} events)");
        bool windowed = s.Window.FromSeconds > 0 || s.Window.ToSeconds < s.SimTimeSeconds;
        if (windowed)
        {
            console.WriteLine($"measured over {s.Window.FromSeconds:0.###}–{s.Window.ToSeconds:0.###} s (goodput in window, utilization, queue, loss rate, fairness, one-way delay, FCT)");
        }
        bool grouped = Grouped(s.Flows);
        if (grouped)
        {
            console.Write(GroupTable(s.Flows));
        }
        else
        {
            console.Write(FlowTable(s.Flows, windowed));
        }
        WriteMaps(console, s.Flows);
        var links = new Table().Title("links").AddColumns("link", "utilization", "drops", "random losses", "loss rate", "ECN marks", "queue mean pkts", "queue max pkts",
            "queue delay ms p50/p95/p99");
        foreach (var l in s.Links)
        {
            links.AddRow(l.Name, $"{l.Utilization:0.000}", $"{l.Drops}", $"{l.RandomLosses}", $"{l.LossRate:0.#####}", $"{l.EcnMarks}", $"{l.QueuePacketsMean:0.0}", $"{l.QueuePacketsMax}",
                $"{l.QueueDelayMs.P50:0.00}/{l.QueueDelayMs.P95:0.00}/{l.QueueDelayMs.P99:0.00}");
        }
        console.Write(links);
        if (s.ByAlgorithm.Count > 0)
        {
            var algorithms = new Table().Title("algorithms (window totals)")
                .AddColumns("cc", "flows", "goodput Mbit/s", "share", "OWD ms mean", "OWD ms p95");
            foreach (var a in s.ByAlgorithm)
            {
                algorithms.AddRow(Markup.Escape(a.Cc), $"{a.Flows}", $"{a.GoodputMbps:0.00}", $"{a.Share:0.000}", $"{a.OwdMsMean:0.0}", $"{a.OwdMsP95:0.0}");
            }
            console.Write(algorithms);
        }
        if (s.FctBins.Count > 0)
        {
            var fct = new Table().Title("flow completion times by size (completed flows; slowdown = FCT / ideal)")
                .AddColumns("size", "flows", "completed", "FCT ms mean", "p50", "p95", "p99", "slowdown p50", "slowdown p99");
            foreach (var b in s.FctBins)
            {
                // No flow of the bin completed: no time to show, rather than a 0 that reads as instant.
                string Ms(double v) => b.Completed > 0 ? $"{v:0.0}" : "-";
                string X(double v) => b.Completed > 0 ? $"{v:0.00}" : "-";
                fct.AddRow(Markup.Escape(b.Bin), $"{b.Count}", $"{b.Completed}", Ms(b.MeanMs), Ms(b.P50Ms), Ms(b.P95Ms), Ms(b.P99Ms),
                    X(b.SlowdownP50), X(b.SlowdownP99));
            }
            console.Write(fct);
        }
        if (s.Xdp is { Count: > 0 } xdp)
        {
            var table = new Table().Title("XDP / tcx hooks per interface (aborted = xdp_exception)")
                .AddColumns("interface", "ifindex", "programs", "pass", "drop", "tx", "redirect", "aborted", "tcx_drop", "redirect failed", "no route", "TTL expired");
            foreach (var x in xdp)
            {
                table.AddRow(Markup.Escape(x.Interface), $"{x.Ifindex}", Markup.Escape(string.Join("\n", x.Programs)), $"{x.Pass}", $"{x.Drop}", $"{x.Tx}",
                    $"{x.Redirect}", $"{x.Aborted}", $"{x.TcxDrop}", $"{x.RedirectFailed}", $"{x.NoRoute}", $"{x.TtlExpired}");
            }
            console.Write(table);
        }
        WriteHandshake(console, s.Handshake, s.Flows.Count);
        int ran = s.Flows.Count(f => f.WindowActiveSeconds > 0);
        string unconnected = s.Handshake.NeverConnected + s.Handshake.StillConnecting > 0
            ? ", a flow that could not connect counting with 0"
            : "";
        console.WriteLine($"Jain's fairness over the goodputs of the {ran} flow(s) that ran in the window{unconnected}: {s.Fairness.Jain:0.000}");
        StructOpsTables.Write(console, s.StructOps, s.Programs, s.Faults);
        foreach (var note in s.Notes)
        {
            console.WriteLine($"note: {note}");
        }
    }

    /// <summary>
    /// A line on the handshakes, only when one was not clean: SYNs or SYN-ACKs sent again (lost to a full queue or
    /// random loss), flows whose connect() timed out, or flows still connecting at the end.
    /// </summary>
    private static void WriteHandshake(IAnsiConsole console, HandshakeResult h, int flows)
    {
        if (h.SynRetries == 0 && h.SynAckRetries == 0 && h.NeverConnected == 0 && h.StillConnecting == 0)
        {
            return;
        }
        console.WriteLine($"handshakes: {h.SynRetries} SYN retries over {h.FlowsWithSynRetries} of {flows} flow(s), {h.SynAckRetries} SYN-ACK retries; " +
                          $"{h.NeverConnected} never connected (connect timed out), {h.StillConnecting} still connecting at the end; " +
                          $"connect ms p50 {h.ConnectMsP50:0.0}, p99 {h.ConnectMsP99:0.0}, max {h.ConnectMsMax:0.0}");
    }

    /// <summary>
    /// Which struct_ops map each flow adopted when it opened (a line per map, naming its flows), so a link-update run
    /// shows which flows kept the old map and which got the new one.
    /// </summary>
    private static void WriteMaps(IAnsiConsole console, IReadOnlyList<FlowResult> flows)
    {
        foreach (var map in flows.Where(f => f.MapId is not null).GroupBy(f => f.MapId!.Value).OrderBy(g => g.Key))
        {
            var first = map.First();
            console.WriteLine($"struct_ops map {map.Key} ({first.MapName}, loaded by {first.MapProgram}): flows {Ranges(map.Select(f => f.Id))}");
        }
    }

    /// <summary>Ascending ids as runs: 1-3, 7, 9-10.</summary>
    private static string Ranges(IEnumerable<int> ids)
    {
        var parts = new List<string>();
        int[] sorted = [.. ids.Order()];
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }
            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(", ", parts);
    }

    /// <summary>A row per flow, with every field of the summary's flow a reader compares by; optional columns only when used.</summary>
    private static Table FlowTable(IReadOnlyList<FlowResult> flows, bool windowed)
    {
        var table = new Table().Title("flows").AddColumns("id", "cc", "start s", "end s", "goodput Mbit/s");
        if (windowed)
        {
            table.AddColumn("window Mbit/s");
        }
        table.AddColumns("RTT ms mean", "RTT ms min", "retrans", "timeouts", "TLPs", "ECN echoes");
        // Idle restarts only happen to on/off flows and FCTs to sized flows: shown when there is something to show.
        bool restarts = flows.Any(f => f.CwndRestarts > 0);
        bool sized = flows.Any(f => f.SizeBytes is not null);
        if (restarts)
        {
            table.AddColumn("cwnd restarts");
        }
        if (sized)
        {
            table.AddColumns("FCT ms", "slowdown");
        }
        foreach (var f in flows)
        {
            string cc = f.CcRequested is { } requested && requested != f.Cc ? $"{f.Cc} (asked {requested})" : f.Cc;
            var cells = new List<string> { $"{f.Id}", Markup.Escape(cc), $"{f.StartSeconds:0.###}", $"{f.EndSeconds:0.###}", $"{f.GoodputMbps:0.00}" };
            if (windowed)
            {
                cells.Add(f.WindowActiveSeconds > 0 ? $"{f.WindowGoodputMbps:0.00}" : "-");
            }
            cells.AddRange([$"{f.RttMsMean:0.0}", $"{f.RttMsMin:0.0}", $"{f.Retransmits}", $"{f.Timeouts}", $"{f.LossProbes}", $"{f.EcnEchoes}"]);
            if (restarts)
            {
                cells.Add($"{f.CwndRestarts}");
            }
            if (sized)
            {
                cells.Add(f.FctMs is { } fct ? $"{fct:0.0}" : f.SizeBytes is null ? "" : "-");
                cells.Add(f.Slowdown is { } slow ? $"{slow:0.00}" : "");
            }
            table.AddRow([.. cells]);
        }
        return table;
    }

    /// <summary>A row per <c>flows:</c> group: how many flows, how many completed, and percentiles over them.</summary>
    private static Table GroupTable(IReadOnlyList<FlowResult> flows)
    {
        var table = new Table().Title($"flows ({flows.Count}, a row per flows: entry)")
            .AddColumns("group", "cc", "size", "flows", "done", "Mbit/s p50", "OWD p95 ms", "retrans", "FCT ms p50", "p95", "p99", "slowdown p50", "p99")
            .Caption("Mbit/s p50: the median flow's window goodput; OWD p95 ms: the median of the flows' p95 one-way delays");
        foreach (var g in flows.GroupBy(f => f.Group).OrderBy(g => g.Key))
        {
            var list = g.ToList();
            var ran = list.Where(f => f.WindowActiveSeconds > 0).ToList();
            var fct = list.Where(f => f.FctMs is not null).Select(f => f.FctMs!.Value).Order().ToArray();
            var slow = list.Where(f => f.Slowdown is not null).Select(f => f.Slowdown!.Value).Order().ToArray();
            var goodput = ran.Select(f => f.WindowGoodputMbps).Order().ToArray();
            var owd = ran.Select(f => f.OwdMsP95).Order().ToArray();
            string ccs = string.Join(", ", list.Select(f => f.Cc).Distinct(StringComparer.Ordinal));
            bool sized = list[0].SizeBytes is not null;
            table.AddRow($"{g.Key}", Markup.Escape(ccs), list[0].SizeBytes is { } size ? Quantity.FormatSize(size) : "-", $"{list.Count}",
                sized ? $"{list.Count(f => f.FctMs is not null)}" : $"{list.Count(f => f.Completed)}",
                $"{FctStats.Rank(goodput, 0.5):0.00}", $"{FctStats.Rank(owd, 0.5):0.0}", $"{list.Sum(f => f.Retransmits)}",
                sized ? $"{FctStats.Rank(fct, 0.5):0.0}" : "-", sized ? $"{FctStats.Rank(fct, 0.95):0.0}" : "-", sized ? $"{FctStats.Rank(fct, 0.99):0.0}" : "-",
                sized ? $"{FctStats.Rank(slow, 0.5):0.00}" : "-", sized ? $"{FctStats.Rank(slow, 0.99):0.00}" : "-");
        }
        return table;
    }
}
