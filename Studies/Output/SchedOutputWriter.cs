using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Runs;
using CsvHelper;

namespace BpfSim.Studies.Output;

/// <summary>
/// Writes a scheduler run's files into a folder: summary.json, tasks.csv, cpus.csv (the CPU samples), timeline.csv
/// (per-CPU segments: who ran when), struct_ops.json, report.html, and trace.txt when programs wrote with bpf_printk.
/// </summary>
public static class SchedOutputWriter
{
    public static readonly string[] TasksHeader =
        ["pid", "name", "group", "nice", "class", "runtime_s", "cpu_share", "wait_ms_mean", "wait_ms_p50", "wait_ms_p99", "wait_ms_p999", "wait_ms_max",
         "switches", "migrations", "wakeups", "deadline_misses", "periods", "exited_s"];

    public static readonly string[] CpusHeader = ["t_s", "cpu", "busy", "runnable"];

    public static readonly string[] TimelineHeader = ["cpu", "start_s", "end_s", "pid", "comm", "group", "class"];

    public static IReadOnlyList<string> Write(string directory, string scenario, SchedScenarioSpec spec, SchedRunSummary summary, SchedRunResult result,
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
        static string F(double v) => v.ToString("0.#########", CultureInfo.InvariantCulture);
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path("summary.json"), summary.ToJson());
        var groupOf = SchedGroups.GroupByPid(result);
        using (var csv = CsvWriter.Create(new StreamWriter(Path("tasks.csv")), null, leaveOpen: false))
        {
            csv.WriteHeader(TasksHeader);
            foreach (var t in result.Tasks)
            {
                csv.WriteRecord([I(t.Pid), t.Name, groupOf.TryGetValue(t.Pid, out var g) ? g : t.Name, I(t.Nice), t.Class, F(t.RuntimeSeconds), F(t.CpuShare),
                    F(t.WaitMsMean), F(t.WaitMsP50), F(t.WaitMsP99), F(t.WaitMsP999), F(t.WaitMsMax), I(t.Switches), I(t.Migrations), I(t.Wakeups),
                    I(t.DeadlineMisses), I(t.Periods), t.ExitedSeconds is { } x ? F(x) : ""]);
            }
        }
        using (var csv = CsvWriter.Create(new StreamWriter(Path("cpus.csv")), null, leaveOpen: false))
        {
            csv.WriteHeader(CpusHeader);
            foreach (var s in result.Trace.Samples)
            {
                csv.WriteRecord([F(s.TimeNs / 1e9), I(s.Cpu), F(s.Busy), I(s.Runnable)]);
            }
        }
        using (var csv = CsvWriter.Create(new StreamWriter(Path("timeline.csv")), null, leaveOpen: false))
        {
            csv.WriteHeader(TimelineHeader);
            var names = result.Trace.TaskNames;
            foreach (var s in result.Trace.Timeline)
            {
                if (s.Task < 0 || s.Task >= names.Count)
                {
                    continue; // idle: the gaps between a CPU's rows
                }
                var (pid, comm, group) = names[s.Task];
                csv.WriteRecord([I(s.Cpu), F(s.StartNs / 1e9), F(s.EndNs / 1e9), I(pid), comm, group, s.Class == 1 ? "ext" : "fair"]);
            }
        }
        var structOps = new JsonObject
        {
            ["timeline"] = JsonSerializer.SerializeToNode(result.StructOps),
            ["schedulers"] = JsonSerializer.SerializeToNode(result.Schedulers),
            ["ejections"] = JsonSerializer.SerializeToNode(result.Ejections),
            ["markers"] = new JsonArray([.. result.Trace.Markers.Select(m => (JsonNode)new JsonObject { ["t_s"] = m.TimeNs / 1e9, ["event"] = m.Text })]),
            ["programs"] = JsonSerializer.SerializeToNode(result.Programs),
        };
        File.WriteAllText(Path("struct_ops.json"), structOps.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path("report.html"), SchedHtmlReport.Render(scenario, spec, summary, result));
        if (result.PrintkTrace.Count > 0)
        {
            File.WriteAllLines(Path("trace.txt"), result.PrintkTrace.Select(t => t.ToString()));
        }
        return written;
    }
}
