using System.Text.Json;
using BpfSim.Studies.Output;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// The numbers sweep.csv shows for one run, read from its summary.json (so a collected sweep and a local one agree,
/// and a resumed sweep needs nothing but the files). Column names are documented in docs/sweeps.md.
/// </summary>
public static class SweepMetrics
{
    /// <summary>The metrics of one run's summary JSON, in column order.</summary>
    public static IReadOnlyList<SweepMetric> From(JsonElement summary) =>
        summary.TryGetProperty("subsystem", out var s) && s.GetString() == "sched" ? Sched(summary) : Tcp(summary);

    private static List<SweepMetric> Tcp(JsonElement j)
    {
        var m = new List<SweepMetric>();
        var flows = Array(j, "flows");
        m.Add(Int("events", Long(j, "events")));
        m.Add(Int("flows", flows.Count));
        m.Add(Real("goodput_mbps", Goodput(flows)));
        m.Add(Real("jain", Double(Object(j, "fairness"), "jain")));
        m.Add(Int("retransmits", flows.Sum(f => Long(f, "retransmits"))));
        m.Add(Int("timeouts", flows.Sum(f => Long(f, "timeouts"))));
        m.Add(Int("ecn_echoes", flows.Sum(f => Long(f, "ecn_echoes"))));
        m.Add(Real("rtt_ms_mean", flows.Count == 0 ? 0 : flows.Average(f => Double(f, "rtt_ms_mean"))));
        // Per flow group (the index of the flow's entry in the scenario's flows list).
        foreach (var group in flows.GroupBy(f => f.TryGetProperty("group", out var g) ? g.GetInt32() : 0).OrderBy(g => g.Key))
        {
            m.Add(Int($"group{group.Key}_flows", group.Count()));
            m.Add(Real($"group{group.Key}_goodput_mbps", Goodput([.. group])));
            m.Add(Int($"group{group.Key}_retransmits", group.Sum(f => Long(f, "retransmits"))));
        }
        foreach (var link in Array(j, "links"))
        {
            string p = $"link_{Column(link.GetProperty("name").GetString() ?? "")}_";
            m.Add(Real(p + "utilization", Double(link, "utilization")));
            m.Add(Int(p + "drops", Long(link, "drops")));
            m.Add(Int(p + "random_losses", Long(link, "random_losses")));
            m.Add(Int(p + "ecn_marks", Long(link, "ecn_marks")));
            m.Add(Real(p + "queue_pkts_mean", Double(link, "queue_pkts_mean")));
            m.Add(Int(p + "queue_pkts_max", Long(link, "queue_pkts_max")));
            m.Add(Real(p + "loss_rate", Double(link, "loss_rate")));
            var delay = link.TryGetProperty("queue_delay_ms", out var d) ? d : default;
            foreach (var stat in new[] { "mean", "p50", "p95", "p99" })
            {
                m.Add(Real($"{p}queue_delay_ms_{stat}", Double(delay, stat)));
            }
        }
        // Over the measurement window: the run's and each algorithm's goodput, share and p95 one-way delay (the
        // Pantheon pair), and each sized-flow group's completion times.
        var algorithms = Array(j, "by_algorithm");
        m.Add(Real("window_goodput_mbps", algorithms.Sum(a => Double(a, "goodput_mbps"))));
        foreach (var a in algorithms)
        {
            string p = $"cc_{Column(a.GetProperty("cc").GetString() ?? "")}_";
            m.Add(Int(p + "flows", Long(a, "flows")));
            m.Add(Real(p + "goodput_mbps", Double(a, "goodput_mbps")));
            m.Add(Real(p + "share", Double(a, "share")));
            m.Add(Real(p + "owd_ms_p95", Double(a, "owd_ms_p95")));
        }
        foreach (var g in Array(j, "fct"))
        {
            string p = $"group{Long(g, "group")}_fct_";
            m.Add(Int(p + "count", Long(g, "count")));
            m.Add(Int(p + "completed", Long(g, "completed")));
            m.Add(Real(p + "ms_p50", Double(g, "p50_ms")));
            m.Add(Real(p + "ms_p99", Double(g, "p99_ms")));
            m.Add(Real(p + "slowdown_p50", Double(g, "slowdown_p50")));
            m.Add(Real(p + "slowdown_p99", Double(g, "slowdown_p99")));
        }
        m.Add(Int("faults", Array(j, "faults").Count));
        return m;
    }

    private static List<SweepMetric> Sched(JsonElement j)
    {
        var m = new List<SweepMetric>();
        var cpus = Array(j, "cpus");
        m.Add(Int("events", Long(j, "events")));
        m.Add(Int("sched_events", Long(j, "sched_events")));
        m.Add(Real("utilization", cpus.Count == 0 ? 0 : cpus.Average(c => Double(c, "utilization"))));
        var fairness = Object(j, "fairness");
        m.Add(Real("jain_weighted", Double(fairness, "jain_weighted")));
        m.Add(Real("max_share_error", Double(fairness, "max_share_error")));
        foreach (var group in Array(j, "groups"))
        {
            string p = $"group_{Column(group.GetProperty("name").GetString() ?? "")}_";
            m.Add(Int(p + "tasks", Long(group, "tasks")));
            m.Add(Real(p + "runtime_s", Double(group, "runtime_s")));
            m.Add(Real(p + "cpu_share", Double(group, "cpu_share")));
            m.Add(Real(p + "wait_ms_mean", Double(group, "wait_ms_mean")));
            m.Add(Real(p + "wait_ms_p99", Double(group, "wait_ms_p99")));
            m.Add(Real(p + "wait_ms_max", Double(group, "wait_ms_max")));
            m.Add(Int(p + "switches", Long(group, "switches")));
            m.Add(Int(p + "migrations", Long(group, "migrations")));
            m.Add(Int(p + "deadline_misses", Long(group, "deadline_misses")));
        }
        m.Add(Int("ejections", Array(j, "ejections").Count));
        m.Add(Int("faults", Array(j, "faults").Count));
        return m;
    }

    /// <summary>
    /// The flows' aggregate goodput in Mbit/s: every byte they had acknowledged, over the time from the first one's start
    /// to the last one's end. Not the sum of the flows' own goodputs, each over its own lifetime, which overstates the
    /// aggregate when flows start at different times (staggered flows on a 100 Mbit/s link would sum to more than 100).
    /// </summary>
    private static double Goodput(List<JsonElement> flows)
    {
        if (flows.Count == 0)
        {
            return 0;
        }
        double span = flows.Max(f => Double(f, "end_s")) - flows.Min(f => Double(f, "start_s"));
        return span > 0 ? flows.Sum(f => Long(f, "bytes_acked")) * 8.0 / span / 1e6 : 0;
    }

    /// <summary>A link's or group's name as part of a column name: letters, digits and '_'.</summary>
    public static string Column(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray());

    private static SweepMetric Int(string name, long value) => new(name, ResultColumnKind.Integer, value);

    private static SweepMetric Real(string name, double value) => new(name, ResultColumnKind.Double, Math.Round(value, 9));

    private static List<JsonElement> Array(JsonElement j, string name) =>
        j.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().ToList() : [];

    private static JsonElement Object(JsonElement j, string name) => j.TryGetProperty(name, out var o) ? o : default;

    private static long Long(JsonElement j, string name) =>
        j.ValueKind == JsonValueKind.Object && j.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;

    private static double Double(JsonElement j, string name) =>
        j.ValueKind == JsonValueKind.Object && j.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
