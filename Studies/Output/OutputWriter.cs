using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Tcp.Workloads;
using BpfSim.Studies.Runs;

namespace BpfSim.Studies.Output;

/// <summary>
/// Writes a run's files into a folder: summary.json, flows.csv, timeseries.csv (each also, or instead, as .parquet,
/// per <see cref="OutputFormats"/>), struct_ops.json, report.html, and trace.txt when programs wrote with bpf_printk.
/// </summary>
public static class OutputWriter
{
    public static IReadOnlyList<string> Write(string directory, string scenario, TcpRunSummary summary, TcpRunResult result,
        OutputFormats formats = OutputFormats.Csv, TcpScenarioSpec? spec = null, string? plotlyJsPath = null)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        string Path(string name)
        {
            var p = System.IO.Path.Combine(directory, name);
            written.Add(p);
            return p;
        }
        File.WriteAllText(Path("summary.json"), summary.ToJson());
        written.AddRange(FlowsTable(result).Write(directory, "flows", formats));
        written.AddRange(TimeSeriesTable(result).Write(directory, "timeseries", formats));
        var structOps = new JsonObject
        {
            ["dump"] = result.StructOpsDump.DeepClone(),
            ["timeline"] = JsonSerializer.SerializeToNode(result.StructOps),
            ["programs"] = JsonSerializer.SerializeToNode(result.Programs),
        };
        File.WriteAllText(Path("struct_ops.json"), structOps.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path("report.html"), HtmlReport.Render(scenario, spec, summary, result, plotlyJsPath: plotlyJsPath));
        if (result.Xdp is { } xdp)
        {
            written.AddRange(XdpTable(xdp).Write(directory, "xdp", formats));
        }
        if (result.XdpMaps.Count > 0)
        {
            // maps/NAME.json: bpftool -j map dump of each XDP object's map at the end of the run; maps that share a
            // name are maps/NAME@NODE_PORT.json (XdpMapResult.Key), so none overwrites another.
            Directory.CreateDirectory(System.IO.Path.Combine(directory, "maps"));
            foreach (var map in result.XdpMaps)
            {
                File.WriteAllText(Path(System.IO.Path.Combine("maps", map.FileStem + ".json")), map.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
        }
        if (result.Trace.Count > 0)
        {
            // trace_pipe's lines: what the programs wrote with bpf_printk, with the simulated time.
            File.WriteAllLines(Path("trace.txt"), result.Trace.Select(t => t.ToString()));
        }
        return written;
    }

    /// <summary>xdp.csv: one row per interface that had a packet hook, with what its hooks did per action.</summary>
    public static ResultTable XdpTable(IReadOnlyList<XdpInterfaceResult> xdp)
    {
        var t = new ResultTable();
        const ResultColumnKind S = ResultColumnKind.String, I = ResultColumnKind.Integer;
        t.AddColumn("interface", S).AddColumn("ifindex", I).AddColumn("programs", S);
        foreach (var name in (string[])["pass", "drop", "tx", "redirect", "aborted", "tcx_drop", "redirect_failed", "no_route", "ttl_expired"])
        {
            t.AddColumn(name, I);
        }
        foreach (var x in xdp)
        {
            t.AddRow(x.Interface, (long)x.Ifindex, string.Join("; ", x.Programs), x.Pass, x.Drop, x.Tx, x.Redirect, x.Aborted, x.TcxDrop,
                x.RedirectFailed, x.NoRoute, x.TtlExpired);
        }
        return t;
    }

    /// <summary>flows.csv: one row per flow (the summary's flows plus the loss-recovery counters).</summary>
    public static ResultTable FlowsTable(TcpRunResult result)
    {
        var t = new ResultTable();
        const ResultColumnKind S = ResultColumnKind.String, I = ResultColumnKind.Integer, D = ResultColumnKind.Double;
        t.AddColumn("id", I).AddColumn("cc", S).AddColumn("cc_requested", S).AddColumn("start_s", D, 6).AddColumn("end_s", D, 6)
            .AddColumn("bytes_acked", I).AddColumn("goodput_mbps", D, 6).AddColumn("rtt_ms_mean", D, 6).AddColumn("rtt_ms_min", D, 6)
            .AddColumn("retransmits", I).AddColumn("timeouts", I).AddColumn("ecn_echoes", I).AddColumn("completed", ResultColumnKind.Boolean);
        foreach (var name in (string[])["cwnd_restarts", "loss_probes", "loss_probe_recoveries", "rack_reo_timeouts", "lost_retransmits",
                     "dsacks_received", "spurious_rtos", "full_undos", "partial_undos", "dsack_undos", "loss_undos"])
        {
            t.AddColumn(name, I);
        }
        // The measurement window, one-way delay, FCT and struct_ops map columns (added after the original ones).
        t.AddColumn("group", I).AddColumn("window_bytes_acked", I).AddColumn("window_active_s", D, 6).AddColumn("window_goodput_mbps", D, 6)
            .AddColumn("owd_ms_mean", D, 6).AddColumn("owd_ms_p95", D, 6).AddColumn("size_bytes", I).AddColumn("fct_ms", D, 6)
            .AddColumn("slowdown", D, 6).AddColumn("map_id", I).AddColumn("map_name", S).AddColumn("map_program", S);
        // The handshake (added after the original ones).
        t.AddColumn("syn_retries", I).AddColumn("synack_retries", I).AddColumn("connected", ResultColumnKind.Boolean)
            .AddColumn("connect_ms", D, 6);
        foreach (var f in result.Flows)
        {
            t.AddRow(f.Id, f.Cc, f.CcRequested, f.StartSeconds, f.EndSeconds, f.BytesAcked, f.GoodputMbps, f.RttMsMean, f.RttMsMin,
                f.Retransmits, f.Timeouts, f.EcnEchoes, f.Completed, f.CwndRestarts, f.LossProbes, f.LossProbeRecoveries, f.RackReoTimeouts,
                f.LostRetransmits, f.DsacksReceived, f.SpuriousRtos, f.FullUndos, f.PartialUndos, f.DsackUndos, f.LossUndos,
                f.Group, f.WindowBytesAcked, f.WindowActiveSeconds, f.WindowGoodputMbps, f.OwdMsMean, f.OwdMsP95, f.SizeBytes, f.FctMs,
                f.Slowdown, f.MapId, f.MapName, f.MapProgram, f.SynRetries, f.SynAckRetries, f.Connected, f.ConnectMs);
        }
        return t;
    }

    /// <summary>
    /// timeseries.csv: the sampled series as tidy rows. <c>flow</c> is the subject as it always was (a flow id or a link
    /// name); <c>kind</c> says which (<c>flow</c> or <c>link</c>) and <c>cc</c> is the flow's algorithm (empty for a link),
    /// so a reader needs no join with flows.csv.
    /// </summary>
    public static ResultTable TimeSeriesTable(TcpRunResult result)
    {
        var ccOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in result.Flows)
        {
            ccOf[f.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = f.Cc;
        }
        var t = new ResultTable();
        t.AddColumn("t_s", ResultColumnKind.Double, 6).AddColumn("flow", ResultColumnKind.String).AddColumn("metric", ResultColumnKind.String)
            .AddColumn("value", ResultColumnKind.Double, 6).AddColumn("unit", ResultColumnKind.String)
            .AddColumn("kind", ResultColumnKind.String).AddColumn("cc", ResultColumnKind.String);
        foreach (var p in result.Samples.Points())
        {
            bool flow = ccOf.TryGetValue(p.Subject, out var cc);
            t.AddRow(p.TimeSeconds, p.Subject, p.Metric, p.Value, p.Unit, flow ? "flow" : "link", flow ? cc : null);
        }
        return t;
    }
}
