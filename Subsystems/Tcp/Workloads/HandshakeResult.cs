using System.Text.Json.Serialization;
using BpfSim.Tcp.Metrics;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// The run's handshakes (the summary's <c>handshake</c>): SYNs and SYN-ACKs sent again after a timeout, flows whose
/// connect() failed (every SYN timed out: net.ipv4.tcp_syn_retries with tcp_syn_linear_timeouts), flows still
/// connecting at the end, and the time from the first SYN to the SYN-ACK over the flows that connected (nearest-rank
/// percentiles, ms).
/// </summary>
public sealed record HandshakeResult(
    [property: JsonPropertyName("syn_retries")] long SynRetries,
    [property: JsonPropertyName("synack_retries")] long SynAckRetries,
    [property: JsonPropertyName("flows_with_syn_retries")] int FlowsWithSynRetries,
    [property: JsonPropertyName("never_connected")] int NeverConnected,
    [property: JsonPropertyName("still_connecting")] int StillConnecting,
    [property: JsonPropertyName("connect_ms_p50")] double ConnectMsP50,
    [property: JsonPropertyName("connect_ms_p99")] double ConnectMsP99,
    [property: JsonPropertyName("connect_ms_max")] double ConnectMsMax)
{
    /// <summary>No flow.</summary>
    public static HandshakeResult Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>The totals over <paramref name="flows"/>.</summary>
    public static HandshakeResult Of(IReadOnlyList<FlowResult> flows)
    {
        var connect = flows.Where(f => f.ConnectMs is not null).Select(f => f.ConnectMs!.Value).Order().ToArray();
        return new HandshakeResult(flows.Sum(f => f.SynRetries), flows.Sum(f => f.SynAckRetries), flows.Count(f => f.SynRetries > 0),
            flows.Count(f => f.NeverConnected), flows.Count(f => f.StillConnecting),
            FctStats.Rank(connect, 0.50), FctStats.Rank(connect, 0.99), connect.Length == 0 ? 0 : connect[^1]);
    }
}
