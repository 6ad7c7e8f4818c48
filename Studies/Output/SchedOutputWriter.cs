using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Runs;

namespace BpfSim.Studies.Output;

/// <summary>
/// Writes a scheduler run's files into a folder: summary.json, tasks.csv, cpus.csv (the CPU samples), timeline.csv
/// (per-CPU segments: who ran when) — each also, or instead, as .parquet per <see cref="OutputFormats"/> —,
/// hotplug.csv in a run with CPU hotplug, struct_ops.json, report.html, and trace.txt when programs wrote with bpf_printk.
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
        File.WriteAllText(Path("summary.json"), summary.ToJson());
        var groupOf = SchedGroups.GroupByPid(result);
        written.AddRange(TasksTable(result, groupOf).Write(directory, "tasks", formats));
        written.AddRange(CpusTable(result).Write(directory, "cpus", formats));
        written.AddRange(TimelineTable(result).Write(directory, "timeline", formats));
        if (result.Hotplug is not null)
        {
            written.AddRange(HotplugTable(result).Write(directory, "hotplug", formats));
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

    private static ResultTable Table(string[] header, string strings, string doubles)
    {
        var t = new ResultTable();
        foreach (var name in header)
        {
            t.AddColumn(name, strings.Split(',').Contains(name) ? ResultColumnKind.String
                : doubles.Split(',').Contains(name) ? ResultColumnKind.Double : ResultColumnKind.Integer);
        }
        return t;
    }

    /// <summary>tasks.csv: one row per task.</summary>
    public static ResultTable TasksTable(SchedRunResult result, IReadOnlyDictionary<int, string> groupOf)
    {
        var t = Table(TasksHeader, "name,group,class", "runtime_s,cpu_share,wait_ms_mean,wait_ms_p50,wait_ms_p99,wait_ms_p999,wait_ms_max,exited_s");
        foreach (var k in result.Tasks)
        {
            t.AddRow(k.Pid, k.Name, groupOf.TryGetValue(k.Pid, out var g) ? g : k.Name, k.Nice, k.Class, k.RuntimeSeconds, k.CpuShare, k.WaitMsMean,
                k.WaitMsP50, k.WaitMsP99, k.WaitMsP999, k.WaitMsMax, k.Switches, k.Migrations, k.Wakeups, k.DeadlineMisses, k.Periods, k.ExitedSeconds);
        }
        return t;
    }

    public static readonly string[] HotplugHeader = ["t_s", "cpu", "online", "seq", "tasks_migrated", "affinity_broken", "handled_by"];

    /// <summary>hotplug.csv: one row per CPU hotplug event.</summary>
    public static ResultTable HotplugTable(SchedRunResult result)
    {
        var t = Table(HotplugHeader, "handled_by", "t_s");
        foreach (var e in result.Hotplug?.Events ?? [])
        {
            t.AddRow(e.Seconds, e.Cpu, e.Online ? 1 : 0, e.Seq, e.TasksMigrated, e.AffinityBroken, e.HandledBy);
        }
        return t;
    }

    /// <summary>cpus.csv: the CPU samples.</summary>
    public static ResultTable CpusTable(SchedRunResult result)
    {
        var t = Table(CpusHeader, "", "t_s,busy");
        foreach (var s in result.Trace.Samples)
        {
            t.AddRow(s.TimeNs / 1e9, s.Cpu, s.Busy, s.Runnable);
        }
        return t;
    }

    /// <summary>timeline.csv: per-CPU segments of who ran (idle gaps are the gaps between a CPU's rows).</summary>
    public static ResultTable TimelineTable(SchedRunResult result)
    {
        var t = Table(TimelineHeader, "comm,group,class", "start_s,end_s");
        var names = result.Trace.TaskNames;
        foreach (var s in result.Trace.Timeline)
        {
            if (s.Task < 0 || s.Task >= names.Count)
            {
                continue;
            }
            var (pid, comm, group) = names[s.Task];
            t.AddRow(s.Cpu, s.StartNs / 1e9, s.EndNs / 1e9, pid, comm, group, s.Class == 1 ? "ext" : "fair");
        }
        return t;
    }
}
