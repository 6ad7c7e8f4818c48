using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Tcp.Workloads;
using BpfSim.Studies.Runs;
using CsvHelper;

namespace BpfSim.Studies.Output;

/// <summary>
/// Writes a run's files into a folder: summary.json, flows.csv, timeseries.csv, struct_ops.json, report.html, and
/// trace.txt when programs wrote with bpf_printk.
/// </summary>
public static class OutputWriter
{
    public static IReadOnlyList<string> Write(string directory, string scenario, TcpRunSummary summary, TcpRunResult result,
        OutputFormats formats = OutputFormats.Csv)
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
        static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(new StreamWriter(Path("flows.csv")), null, leaveOpen: false))
        {
            csv.WriteHeader(["id", "cc", "cc_requested", "start_s", "end_s", "bytes_acked", "goodput_mbps", "rtt_ms_mean", "rtt_ms_min",
                "retransmits", "timeouts", "ecn_echoes", "completed", "cwnd_restarts", "loss_probes", "loss_probe_recoveries",
                "rack_reo_timeouts", "lost_retransmits", "dsacks_received", "spurious_rtos", "full_undos", "partial_undos", "dsack_undos",
                "loss_undos"]);
            foreach (var f in result.Flows)
            {
                csv.WriteRecord([f.Id.ToString(CultureInfo.InvariantCulture), f.Cc, f.CcRequested ?? "", F(f.StartSeconds), F(f.EndSeconds),
                    f.BytesAcked.ToString(CultureInfo.InvariantCulture), F(f.GoodputMbps), F(f.RttMsMean), F(f.RttMsMin),
                    f.Retransmits.ToString(CultureInfo.InvariantCulture), f.Timeouts.ToString(CultureInfo.InvariantCulture),
                    f.EcnEchoes.ToString(CultureInfo.InvariantCulture), f.Completed ? "true" : "false",
                    f.CwndRestarts.ToString(CultureInfo.InvariantCulture), I(f.LossProbes), I(f.LossProbeRecoveries),
                    I(f.RackReoTimeouts), I(f.LostRetransmits), I(f.DsacksReceived), I(f.SpuriousRtos), I(f.FullUndos),
                    I(f.PartialUndos), I(f.DsackUndos), I(f.LossUndos)]);
            }
        }
        using (var csv = CsvWriter.Create(new StreamWriter(Path("timeseries.csv")), null, leaveOpen: false))
        {
            csv.WriteHeader(["t_s", "flow", "metric", "value", "unit"]);
            foreach (var p in result.Samples.Points())
            {
                csv.WriteRecord([F(p.TimeSeconds), p.Subject, p.Metric, F(p.Value), p.Unit]);
            }
        }
        var structOps = new JsonObject
        {
            ["dump"] = result.StructOpsDump.DeepClone(),
            ["timeline"] = JsonSerializer.SerializeToNode(result.StructOps),
            ["programs"] = JsonSerializer.SerializeToNode(result.Programs),
        };
        File.WriteAllText(Path("struct_ops.json"), structOps.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path("report.html"), HtmlReport.Render(scenario, summary, result));
        if (result.Trace.Count > 0)
        {
            // trace_pipe's lines: what the programs wrote with bpf_printk, with the simulated time.
            File.WriteAllLines(Path("trace.txt"), result.Trace.Select(t => t.ToString()));
        }
        return written;
    }
}
