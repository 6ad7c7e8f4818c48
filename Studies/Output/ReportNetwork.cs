using System.Globalization;
using System.Text;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;
using static BpfSim.Studies.Output.Charts.PlotlyPage;

namespace BpfSim.Studies.Output;

/// <summary>
/// The top of a TCP report: the scenario's network (topology, link rates and delays, the bottleneck's queue and its
/// parameters) and its flow groups with the round-trip propagation delay each sees.
/// </summary>
public static class ReportNetwork
{
    public static string Html(TcpScenarioSpec spec)
    {
        var n = spec.Network;
        var html = new StringBuilder("<h2>Network</h2><table>");
        void Row(string what, string value) => html.Append($"<tr><th class=\"l\">{Encode(what)}</th><td class=\"l\">{Encode(value)}</td></tr>");
        Row("topology", n.Topology == TopologyKind.ParkingLot ? $"parking lot, {n.Hops} bottleneck hops" : "dumbbell");
        string bottleneck = n.Topology == TopologyKind.ParkingLot ? "each hop" : "bottleneck";
        Row(bottleneck, $"{Rate(n.BottleneckRateBps)}, one-way delay {n.BottleneckDelay}" +
            (n.BottleneckLoss > 0 ? $", random loss {n.BottleneckLoss.ToString("0.######", CultureInfo.InvariantCulture)}" : ""));
        if (n.Mahimahi is { } down)
        {
            Row("bottleneck data direction", $"Mahimahi trace {Path.GetFileName(down.Source)}: {down.Count} delivery opportunities per {down.PeriodMs} ms, " +
                $"mean {Rate((long)down.MeanRateBps)}, looped");
        }
        if (n.MahimahiUp is { } up)
        {
            Row("bottleneck ACK direction", $"Mahimahi trace {Path.GetFileName(up.Source)}: mean {Rate((long)up.MeanRateBps)}, looped");
        }
        if (n.Changes.Count > 0)
        {
            Row("changes", string.Join("; ", n.Changes.Select(c => $"at {c.At}: " + string.Join(", ",
                new[] { c.RateBps is { } r ? $"rate {Rate(r)}" : null, c.Delay is { } d ? $"delay {d}" : null,
                        c.Loss is { } l ? $"loss {l.ToString("0.######", CultureInfo.InvariantCulture)}" : null }.OfType<string>()))));
        }
        Row("queue", Queue(n.Queue));
        Row("access links", $"{Rate(n.AccessRateBps)}, one-way delay {n.AccessDelay} (each sender and receiver)");
        Row("hosts", $"net.ipv4.tcp_ecn={spec.Ecn}, tcp_recovery={spec.Recovery}, tcp_frto={spec.Frto}, TSO {(spec.Tso ? "on" : "off")}, " +
            $"GRO {(spec.Gro ? "on" : "off")}" + (spec.ReceiverCc is { } r ? $", receivers' cc {r}" : ""));
        Row("sampling", $"every {spec.SampleInterval}");
        html.Append("</table>");
        html.Append("<table><tr><th>group</th><th class=\"l\">flows</th><th class=\"l\">cc</th><th>start</th><th>stop</th><th>size</th>" +
            "<th>sender access delay</th><th>base RTT</th></tr>");
        for (int i = 0; i < spec.Flows.Count; i++)
        {
            var f = spec.Flows[i];
            string flows = f.Arrivals == ArrivalKind.Poisson
                ? $"Poisson, {f.Rate.ToString("0.###", CultureInfo.InvariantCulture)}/s"
                : f.Count + (f.Stagger.Nanoseconds > 0 ? $", {f.Stagger} apart" : "");
            html.Append($"<tr><td>{i + 1}</td><td class=\"l\">{Encode(flows)}</td><td class=\"l\">{Encode(f.Cc ?? "default")}</td>" +
                $"<td>{f.Start}</td><td>{(f.Stop is { } stop ? stop.ToString() : "end")}</td>" +
                $"<td>{(f.SizeBytes is { } size ? Bytes(size) : "unlimited")}</td><td>{f.AccessDelay ?? n.AccessDelay}</td>" +
                $"<td>{BaseRtt(n, f)}</td></tr>");
        }
        html.Append("</table><p class=\"caption\">Base RTT: twice the one-way propagation delay of the flow's path, as the topology " +
            "builds it (dumbbell: 2 × (sender access + bottleneck + receiver access)); the flows table's RTT min adds the " +
            "serialization of one packet per link.</p>");
        return html.ToString();
    }

    /// <summary>The round-trip propagation delay of a flow of group <paramref name="f"/> (Dumbbell.AddFlow, ParkingLot.AddFlow).</summary>
    public static SimTime BaseRtt(NetworkSpec n, FlowSpec f)
    {
        var access = f.AccessDelay ?? n.AccessDelay;
        if (n.Topology == TopologyKind.ParkingLot)
        {
            // Every access link of a parking-lot flow takes the flow's delay; it crosses hops from..to.
            int hops = (f.ToRouter ?? n.Hops) - (f.FromRouter ?? 0);
            return (access * 2 + n.BottleneckDelay * hops) * 2;
        }
        // The flow's access delay is its sender's; the receiver's access link has the network's.
        return (access + n.BottleneckDelay + n.AccessDelay) * 2;
    }

    private static string Queue(QueueSpec q)
    {
        string limit = q.LimitBytes > 0 && q.Limit == 0 ? Bytes(q.LimitBytes) : $"{q.Limit} packets";
        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        return q.Kind switch
        {
            QueueKind.DropTail => $"drop-tail, limit {limit}",
            QueueKind.Red => $"RED, min {F(q.Min)}, max {F(q.Max)} packets, max_p {F(q.MaxProbability)}, ECN {(q.Ecn ? "on" : "off")}, limit {limit}",
            QueueKind.EcnThreshold => $"ECN threshold (step marking), K {q.K} packets, limit {limit}",
            _ => $"{QueueName(q.Kind)}, limit {(q.LimitBytes > 0 && q.Limit == 0 ? Bytes(q.LimitBytes) : $"{q.Limit} packets")}" + Set(q),
        };
    }

    private static string QueueName(QueueKind kind) => kind switch
    {
        QueueKind.Codel => "CoDel (sch_codel)",
        QueueKind.FqCodel => "FQ-CoDel (sch_fq_codel)",
        QueueKind.Pie => "PIE (sch_pie)",
        QueueKind.Fq => "fq (sch_fq, per-flow pacing)",
        _ => kind.ToString(),
    };

    /// <summary>The parameters the scenario set for a Linux qdisc; the others are Linux's defaults (docs/queues.md).</summary>
    private static string Set(QueueSpec q)
    {
        var set = new List<string>();
        void Add(string name, object? value)
        {
            if (value is not null)
            {
                set.Add($"{name} {value}");
            }
        }
        Add("target", q.Target);
        Add("interval", q.Interval);
        Add("ce_threshold", q.CeThreshold);
        Add("flows", q.Flows);
        Add("quantum", q.Quantum);
        Add("memory_limit", q.MemoryLimit is { } m ? Bytes(m) : null);
        Add("tupdate", q.Tupdate);
        Add("alpha", q.Alpha);
        Add("beta", q.Beta);
        Add("flow_limit", q.FlowLimit);
        Add("initial_quantum", q.InitialQuantum);
        Add("maxrate", q.MaxRateBps is { } r ? Rate(r) : null);
        Add("horizon", q.Horizon);
        if (q.Kind is QueueKind.Codel or QueueKind.FqCodel or QueueKind.Pie)
        {
            set.Add($"ECN {(q.Ecn ? "on" : "off")}");
        }
        return (set.Count > 0 ? ", " + string.Join(", ", set) : "") + "; other parameters at Linux's defaults";
    }

    private static string Rate(long bps) => bps switch
    {
        >= 1_000_000_000 => $"{(bps / 1e9).ToString("0.###", CultureInfo.InvariantCulture)} Gbit/s",
        >= 1_000_000 => $"{(bps / 1e6).ToString("0.###", CultureInfo.InvariantCulture)} Mbit/s",
        _ => $"{(bps / 1e3).ToString("0.###", CultureInfo.InvariantCulture)} kbit/s",
    };

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1_000_000_000 => $"{(bytes / 1e9).ToString("0.###", CultureInfo.InvariantCulture)} GB",
        >= 1_000_000 => $"{(bytes / 1e6).ToString("0.###", CultureInfo.InvariantCulture)} MB",
        >= 1_000 => $"{(bytes / 1e3).ToString("0.###", CultureInfo.InvariantCulture)} KB",
        _ => $"{bytes} B",
    };
}
