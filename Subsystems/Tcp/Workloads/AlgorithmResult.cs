using System.Text.Json.Serialization;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// One congestion-control algorithm's totals over the measurement window, over the flows that ran in it with that
/// algorithm: goodput is their bytes acknowledged inside the window over the window's length (so the algorithms'
/// goodputs add up to the run's), share is their part of all flows' window bytes (the shares add up to 1), and the
/// one-way delay is over every data packet of theirs delivered in the window. (goodput_mbps, owd_ms_p95) is the
/// Pantheon pair: throughput against 95th-percentile per-packet one-way delay.
/// </summary>
public sealed record AlgorithmResult(
    [property: JsonPropertyName("cc")] string Cc,
    [property: JsonPropertyName("flows")] int Flows,
    [property: JsonPropertyName("goodput_mbps")] double GoodputMbps,
    [property: JsonPropertyName("share")] double Share,
    [property: JsonPropertyName("owd_ms_mean")] double OwdMsMean,
    [property: JsonPropertyName("owd_ms_p95")] double OwdMsP95);
