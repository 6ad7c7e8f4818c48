using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// The run's numbers: per flow and per link over the measurement window, per algorithm, and flow completion times
/// (docs/scenarios.md, "Measurement window" and "Summary").
/// </summary>
public sealed partial class TcpScenarioRunner
{
    /// <summary>A flow as it was opened: its entry, group (from 0), the algorithm asked for and the map it adopted.</summary>
    private sealed record OpenedFlow(FlowSpec Spec, TcpConnection Conn, string? Requested, int Group, int? MapId, string? MapName,
        string? MapProgram);

    private List<FlowResult> Summarise(SimTime end)
    {
        var window = _meter.Window;
        var results = new List<FlowResult>();
        foreach (var (spec, conn, requested, group, mapId, mapName, mapProgram) in _flows)
        {
            var finish = conn.State == TcpConnectionState.Closed ? conn.EndTime : end;
            double active = Math.Max((finish - conn.StartTime).TotalSeconds, 1e-9);
            double windowActive = window.OverlapSeconds(conn.StartTime, finish);
            long windowBytes = windowActive > 0 ? _meter.BytesAcked(conn.Id) : 0;
            var owd = conn.Stats.OneWayDelay;
            bool sized = spec.SizeBytes is not null;
            bool completed = sized && conn.State == TcpConnectionState.Closed && conn.Stats.BytesAcked >= conn.BytesToSend;
            double? fctMs = completed ? Math.Round((conn.EndTime - conn.StartTime).TotalSeconds * 1e3, 3) : null;
            results.Add(new FlowResult(conn.Id + 1, conn.Ops.Name, requested, Math.Round(conn.StartTime.TotalSeconds, 6),
                Math.Round(finish.TotalSeconds, 6), conn.Stats.BytesAcked, Math.Round(conn.Stats.BytesAcked * 8 / active / 1e6, 3),
                Math.Round(conn.Stats.RttMeanMs, 3), conn.Stats.RttSamples == 0 ? 0 : Math.Round(conn.Stats.RttMinMs, 3),
                conn.Stats.Retransmits, conn.Stats.Timeouts, conn.Stats.EcnEchoes, conn.State == TcpConnectionState.Closed && !conn.ConnectFailed,
                conn.Stats.CwndRestarts, conn.Stats.LossProbes, conn.Stats.LossProbeRecoveries, conn.Stats.RackReoTimeouts,
                conn.Stats.LostRetransmits, conn.Stats.DsacksReceived, conn.Stats.SpuriousRtos, conn.Stats.FullUndos,
                conn.Stats.PartialUndos, conn.Stats.DsackUndos, conn.Stats.LossUndos)
            {
                Group = group,
                WindowBytesAcked = windowBytes,
                WindowActiveSeconds = Math.Round(windowActive, 6),
                WindowGoodputMbps = windowActive > 0 ? Math.Round(windowBytes * 8 / windowActive / 1e6, 3) : 0,
                OwdMsMean = owd is null ? 0 : Ms(owd.Mean),
                OwdMsP95 = owd is null ? 0 : Ms(owd.Quantile(0.95)),
                SizeBytes = spec.SizeBytes,
                FctMs = fctMs,
                Slowdown = fctMs is { } f ? Math.Round(f / IdealFctMs(conn, spec.SizeBytes!.Value), 4) : null,
                SynRetries = conn.Stats.SynRetransmits,
                SynAckRetries = conn.Stats.SynAckRetransmits,
                Connected = conn.ConnectTime is not null,
                ConnectMs = conn.ConnectTime is { } c ? Math.Round((c - conn.StartTime).TotalSeconds * 1e3, 3) : null,
                NeverConnected = conn.ConnectFailed,
                StillConnecting = conn.State == TcpConnectionState.SynSent,
                MapId = mapId,
                MapName = mapName,
                MapProgram = mapProgram,
            });
        }
        return results;
    }

    /// <summary>
    /// The ideal FCT of <see cref="FctSample"/>: 2 × base RTT (handshake, then the last byte and its ACK) plus the size
    /// at the rate of the slowest link of the flow's forward route, as configured.
    /// </summary>
    private double IdealFctMs(TcpConnection conn, long sizeBytes) =>
        conn.Path.BaseRtt.TotalSeconds * 2e3 + sizeBytes * 8e3 / _net.BottleneckRateBps(conn.Path.Forward);

    private List<LinkResult> SummariseLinks()
    {
        long windowNs = Math.Max(1, (_meter.Window.To - _meter.Window.From).Nanoseconds);
        var links = new List<LinkResult>(_watched.Count);
        for (int i = 0; i < _watched.Count; i++)
        {
            var l = _watched[i];
            var w = _meter.Link(i);
            links.Add(new LinkResult(l.Name, Math.Round(_meter.Utilization(i), 4), l.Stats.QueueDrops,
                l.Stats.RandomLosses, l.Stats.EcnMarks, Math.Round(w.QueueIntegral / windowNs, 2), l.Stats.MaxQueuePackets)
            {
                PacketsArrived = w.Arrived,
                LossRate = Math.Round(w.LossRate, 6),
                QueueDelayMs = QueueDelayResult.From(l.Stats.QueueDelay),
            });
        }
        return links;
    }

    /// <summary>Per-algorithm totals over the window, in order of each algorithm's first flow that ran in it.</summary>
    private List<AlgorithmResult> ByAlgorithm(IReadOnlyList<FlowResult> flows)
    {
        double seconds = Math.Max(_meter.Window.Seconds, 1e-9);
        var ran = flows.Where(f => f.WindowActiveSeconds > 0).ToList();
        long total = ran.Sum(f => f.WindowBytesAcked);
        var results = new List<AlgorithmResult>();
        foreach (var cc in ran.Select(f => f.Cc).Distinct(StringComparer.Ordinal))
        {
            var mine = ran.Where(f => f.Cc == cc).ToList();
            long bytes = mine.Sum(f => f.WindowBytesAcked);
            var owd = new LogLinearHistogram();
            foreach (var f in mine)
            {
                if (_flows[f.Id - 1].Conn.Stats.OneWayDelay is { } h)
                {
                    owd.Add(h);
                }
            }
            results.Add(new AlgorithmResult(cc, mine.Count, Math.Round(bytes * 8 / seconds / 1e6, 3), total == 0 ? 0 : Math.Round(bytes / (double)total, 4),
                Ms(owd.Mean), Ms(owd.Quantile(0.95))));
        }
        return results;
    }

    /// <summary>Pantheon's throughput-delay points: each flow that ran in the window, then each algorithm's flows together.</summary>
    private static List<PantheonPoint> PantheonPoints(IReadOnlyList<FlowResult> flows, IReadOnlyList<AlgorithmResult> algorithms) =>
    [
        .. flows.Where(f => f.WindowActiveSeconds > 0).Select(f => new PantheonPoint(f.Cc, f.Id, f.WindowGoodputMbps, f.OwdMsP95)),
        .. algorithms.Select(a => new PantheonPoint(a.Cc, null, a.GoodputMbps, a.OwdMsP95)),
    ];

    /// <summary>The sized flows that started inside the window, in flow order.</summary>
    private List<FctSample> FctSamples(IReadOnlyList<FlowResult> flows)
    {
        var window = _meter.Window;
        var samples = new List<FctSample>();
        foreach (var f in flows)
        {
            var conn = _flows[f.Id - 1].Conn;
            if (f.SizeBytes is { } size && window.Contains(conn.StartTime))
            {
                samples.Add(new FctSample(f.Id, f.Group, f.Cc, size, f.StartSeconds, f.FctMs, Math.Round(IdealFctMs(conn, size), 3)));
            }
        }
        return samples;
    }

    private static List<FctResult> FctGroups(IReadOnlyList<FctSample> samples) =>
    [
        .. samples.GroupBy(s => s.Group).OrderBy(g => g.Key).Select(g =>
        {
            var st = FctStats.Of(g.ToList());
            return new FctResult(g.Key, g.First().Cc, g.First().SizeBytes, st.Count, st.Completed, st.MeanMs, st.P50Ms, st.P95Ms, st.P99Ms,
                st.SlowdownP50, st.SlowdownP99);
        }),
    ];

    /// <summary>Per size bin: [0, e1), [e1, e2), …, [ek, ∞) for the edges e of <paramref name="edges"/>; bins with no flow left out.</summary>
    internal static List<FctBinResult> FctBins(IReadOnlyList<FctSample> samples, IReadOnlyList<long> edges)
    {
        var results = new List<FctBinResult>();
        for (int b = 0; b <= edges.Count; b++)
        {
            long min = b == 0 ? 0 : edges[b - 1];
            long? max = b < edges.Count ? edges[b] : null;
            var mine = samples.Where(s => s.SizeBytes >= min && (max is null || s.SizeBytes < max)).ToList();
            if (mine.Count == 0)
            {
                continue;
            }
            var st = FctStats.Of(mine);
            // With no edges the one bin holds every size.
            string label = max is not { } m ? (b == 0 ? "all" : $">={Quantity.FormatSize(min)}")
                : b == 0 ? $"<{Quantity.FormatSize(m)}" : $"{Quantity.FormatSize(min)}-{Quantity.FormatSize(m)}";
            results.Add(new FctBinResult(label, min, max, st.Count, st.Completed, st.MeanMs, st.P50Ms, st.P95Ms, st.P99Ms,
                st.SlowdownP50, st.SlowdownP99));
        }
        return results;
    }

    private static double Ms(double ns) => Math.Round(ns / 1e6, 3);
}
